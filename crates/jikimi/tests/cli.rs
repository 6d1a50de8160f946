//! The `jikimi` binary as an operator uses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Installed, bin, free_port, installed, text};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use jikimi_testkit::{Backend, TestDb, person, seed_signup};

jikimi_testkit::backend_tests!(
    purge_report_and_legal_hold_from_the_cli,
    audit_verify_names_a_changed_row_and_rotation_works_from_the_cli,
    commands_log_no_personal_values_even_at_trace_level,
    staff_accounts_from_the_cli,
);

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

#[test]
fn policy_check_accepts_both_shipped_files() {
    for f in ["lifeplan.toml", "lifeplan-seed.toml"] {
        let path = policies().join(f);
        let o = run(&["policy", "check", path.to_str().unwrap()]);
        assert!(o.status.success(), "{f}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(": ok"),
            "{}",
            text(&o)
        );
    }
    // The seed profile warns loudly about the RRN.
    let o = run(&[
        "policy",
        "check",
        policies().join("lifeplan-seed.toml").to_str().unwrap(),
    ]);
    assert!(text(&o).contains("24-2"), "{}", text(&o));
    // Built-in names work too.
    assert!(run(&["policy", "check", "lifeplan"]).status.success());
}

/// The shipped `lifeplan.toml` with two purposes marked as samples.
fn with_sample_purposes() -> String {
    let src = std::fs::read_to_string(policies().join("lifeplan.toml")).unwrap();
    let out = src
        .replacen(
            "ko = \"회원 식별과 본인 확인",
            "ko = \"(예시) 회원 식별과 본인 확인",
            1,
        )
        .replacen("ko = \"1인 1계정 확인", "ko = \"(예시) 1인 1계정 확인", 1);
    let live = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with('#') && l.contains("\"(예시) "))
            .count()
    };
    assert_eq!((live(&src), live(&out)), (0, 2), "the fixture lines exist");
    out
}

#[test]
fn policy_check_warns_about_missing_company_information_and_sample_entries() {
    let dir = tempfile::tempdir().unwrap();
    // The shipped files are clean.
    for name in ["lifeplan", "lifeplan-seed"] {
        let out = text(&run(&["policy", "check", name]));
        assert!(
            !out.contains("operator_info") && !out.contains("sample"),
            "{out}"
        );
    }
    // Without 상호, 대표자 and 사업자등록번호: still valid, with a warning.
    let src = std::fs::read_to_string(policies().join("lifeplan.toml")).unwrap();
    let bare: String = src
        .lines()
        .filter(|l| {
            !["company =", "representative =", "business_number ="]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.path().join("bare.toml");
    std::fs::write(&path, bare).unwrap();
    let o = run(&["policy", "check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(
            "warning: warning[operator_info] operator: the operator's company (상호), \
             representative (대표자), business_number (사업자등록번호) are not given"
        ),
        "{out}"
    );
    // A mistyped business number is an error at its line and column.
    let typo = src.replacen("\"000-81-12349\"", "\"000-81-12348\"", 1);
    let line = typo
        .lines()
        .position(|l| l.starts_with("business_number ="))
        .unwrap()
        + 1;
    let path = dir.path().join("typo.toml");
    std::fs::write(&path, typo).unwrap();
    let o = run(&["policy", "check", path.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains(&format!(
            "typo.toml:{line}:19: operator.business_number: 사업자등록번호 \"000-81-12348\" fails its check digit"
        )),
        "{}",
        text(&o)
    );
    // Sample entries: one warning each, and the count.
    let path = dir.path().join("samples.toml");
    std::fs::write(&path, with_sample_purposes()).unwrap();
    let o = run(&["policy", "check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for key in ["purpose.identify", "purpose.one_account"] {
        assert!(
            out.contains(&format!("warning: warning[sample_entry] {key}: ")),
            "{out}"
        );
    }
    assert!(
        out.contains(
            "policy lifeplan has 2 sample \"(예시)\" entries: purpose.identify, purpose.one_account."
        ),
        "{out}"
    );
}

/// `serve` says at start how many sample "(예시)" entries the policy has and which.
#[test]
fn serve_names_sample_entries_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("samples.toml");
    std::fs::write(&policy, with_sample_purposes()).unwrap();
    let log = dir.path().join("serve.log");
    let port = free_port();
    let mut c = bin();
    c.args([
        "serve",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap());
    let server = Server(c.spawn().unwrap());
    let start = Instant::now();
    while get(port, "/healthz").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(
        out.contains(
            "policy lifeplan has 2 sample \"(예시)\" entries: purpose.identify, purpose.one_account."
        ),
        "{out}"
    );
    assert!(out.contains("WARN"), "{out}");

    // The shipped default has none: no such line.
    let log = dir.path().join("default.log");
    let port = free_port();
    let mut c = bin();
    c.args([
        "serve",
        "--data-dir",
        dir.path().join("data2").to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap());
    let server = Server(c.spawn().unwrap());
    let start = Instant::now();
    while get(port, "/healthz").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(!out.contains("(예시)"), "{out}");
}

/// The shipped `lifeplan.toml` with a payment item and a processor: sections whose
/// capability (`payment_gateway`, `processor_integration`) this build does not have.
fn with_missing_capabilities() -> String {
    let src = std::fs::read_to_string(policies().join("lifeplan.toml")).unwrap();
    let extra = r#"
[[purpose]]
id = "payment"
label = { ko = "요금 결제", en = "Payment" }
description = { ko = "요금을 결제합니다.", en = "Charging fees." }

[[item]]
id = "card_number"
label = { ko = "카드번호", en = "Card number" }
kind = "card_number"
context = "payment"
sensitivity = "financial"
required = true
basis = "contract"
purposes = ["payment"]
retention = "membership"

[[processor]]
id = "pg"
name = { ko = "전자결제대행사", en = "Payment gateway" }
task = { ko = "신용카드 결제", en = "Card payments" }
items = ["card_number"]
duties = ["follow_instructions", "confidentiality", "no_onward_sharing", "liability"]
contract_on_file = true
"#;
    // Before [promises], so that the new tables are not read as part of it.
    src.replacen("\n[promises]\n", &format!("{extra}\n[promises]\n"), 1)
}

/// The promise ledger (issue 10 point 5; R-POL-01): `policy check` and `serve` refuse a policy
/// that enables a section whose capability this build lacks, naming the section (file, line,
/// column, key) and the capability.
#[test]
fn policy_check_and_serve_refuse_a_section_whose_capability_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let src = with_missing_capabilities();
    let path = dir.path().join("promises.toml");
    std::fs::write(&path, &src).unwrap();
    let line_of = |needle: &str| {
        src.lines()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("{needle}"))
            + 1
    };
    let context = line_of("context = \"payment\"");
    let pg = line_of("id = \"pg\"");
    let o = run(&["policy", "check", path.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!(
            "promises.toml:{context}:11: item.card_number.context: this section needs capability \
             \"payment_gateway\""
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "promises.toml:{pg}:6: processor.pg: this section needs capability \
             \"processor_integration\""
        )),
        "{out}"
    );
    assert!(!out.contains(": ok"), "{out}");

    // serve refuses it before creating anything.
    let data = dir.path().join("data");
    let o = run(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--policy",
        path.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("refusing to serve policy lifeplan"), "{out}");
    assert!(
        out.contains("item.card_number.context") && out.contains("\"payment_gateway\""),
        "{out}"
    );
    assert!(!data.exists(), "nothing was created");

    // A promise kept by people is declared in the file; one kept by code cannot be.
    let declared = src.replacen(
        "  \"no_pseudonymisation\",\n",
        "  \"no_pseudonymisation\",\n  \"payment_gateway\",\n",
        1,
    );
    assert_ne!(declared, src, "the fixture line exists");
    std::fs::write(&path, declared).unwrap();
    let out = text(&run(&["policy", "check", path.to_str().unwrap()]));
    assert!(
        out.contains("promises.organisational[6]: capability \"payment_gateway\" is kept by code"),
        "{out}"
    );
}

#[test]
fn policy_check_names_file_line_and_column_of_a_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(policies().join("lifeplan.toml")).unwrap();
    // A syntax error on a known line.
    let broken = src.replacen("[meta]\n", "[meta]\nid = = \"x\"\n", 1);
    let line = broken
        .lines()
        .position(|l| l.starts_with("id = = "))
        .unwrap()
        + 1;
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, broken).unwrap();
    let o = run(&["policy", "check", path.to_str().unwrap()]);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains(&format!("broken.toml:{line}:")), "{out}");

    // A reference that does not resolve: named with its key and position.
    let bad_ref = src.replacen(
        "purposes = [\"identify\", \"notices\"]",
        "purposes = [\"identify\", \"nowhere\"]",
        1,
    );
    assert_ne!(bad_ref, src, "the fixture line exists");
    let line = bad_ref
        .lines()
        .position(|l| l.contains("\"nowhere\""))
        .unwrap()
        + 1;
    let path = dir.path().join("badref.toml");
    std::fs::write(&path, bad_ref).unwrap();
    let o = run(&["policy", "check", path.to_str().unwrap()]);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(
        out.contains(&format!("badref.toml:{line}:")) && out.contains("nowhere"),
        "{out}"
    );
}

/// Every section of the seed policy, by the words its heading carries.
const SEED_SECTIONS: &[&str] = &[
    "총칙",
    "수집",
    "동의",
    "목적",
    "열람",
    "정정",
    "철회",
    "보유",
    "아동",
    "제3자",
    "위탁",
    "기술적",
    "쿠키",
    "책임자",
];

#[test]
fn policy_render_contains_every_section_of_the_seed() {
    let o = run(&[
        "policy",
        "render",
        policies().join("lifeplan-seed.toml").to_str().unwrap(),
        "--lang",
        "ko",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    for s in SEED_SECTIONS {
        assert!(out.contains(s), "missing section word {s}");
    }
    for fact in [
        "인재경영실",
        "privacy-officer@example.com",
        "privacy-manager@example.com",
        "5년",
        "주민등록번호",
    ] {
        assert!(out.contains(fact), "missing {fact}");
    }
    let en = run(&["policy", "render", "lifeplan", "--lang", "en"]);
    assert!(en.status.success());
    assert!(String::from_utf8(en.stdout).unwrap().contains("Privacy"));
}

fn get(port: u16, path: &str) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_owned(), body.to_owned()))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path, port: u16, extra: &[&str]) -> Server {
    let mut c = bin();
    c.args([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let server = Server(c.spawn().unwrap());
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if get(port, "/healthz").is_some() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not come up");
}

#[test]
fn serve_creates_everything_on_first_start_and_serves_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let _server = serve(&data, port, &[]);
    for f in ["jikimi.db", "keys.db", "master.key"] {
        assert!(data.join(f).exists(), "{f} created");
    }
    let mode = std::fs::metadata(data.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (status, head, body) = get(port, "/healthz").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("ok"));
    assert!(head.to_lowercase().contains("content-security-policy"));
    let (status, _, body) = get(port, "/privacy").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("개인정보 처리방침") && body.contains("privacy-officer@example.com"));
    let (status, _, body) = get(port, "/privacy?lang=en").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Privacy Policy") && body.contains("lang=\"en\""));
}

#[test]
fn serve_refuses_plain_http_on_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "serve",
        "--data-dir",
        dir.path().join("d").to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("TLS"), "{}", text(&o));
    assert!(!dir.path().join("d").exists(), "nothing was created");
}

#[test]
fn init_refuses_an_existing_installation_and_commands_refuse_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    assert!(run(&["audit", "verify", "--data-dir", d]).status.code() != Some(0));
    assert!(
        !data.join("jikimi.db").exists(),
        "a mistyped path never starts an empty database"
    );
    let o = run(&["init", "--data-dir", d]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["init", "--data-dir", d]);
    assert!(!o.status.success());
    assert!(text(&o).contains("already"));
}

impl Installed {
    async fn open(&self) -> jikimi_core::Jikimi {
        self.open_at(std::sync::Arc::new(jikimi_core::SystemClock))
            .await
    }

    /// Opens the installation with `clock`, running the seed profile; on a day before the
    /// shipped file takes effect (2026-12-01), dated back to that day (a future-dated policy is
    /// only announced, and an installation with no earlier version refuses to open).
    async fn open_at(&self, clock: std::sync::Arc<dyn jikimi_core::Clock>) -> jikimi_core::Jikimi {
        let mut policy = jikimi_testkit::builtin("lifeplan-seed");
        let today = clock.today_kst();
        if today < policy.meta.effective_date {
            let src = jikimi_policy::Policy::builtin_source("lifeplan-seed")
                .unwrap()
                .replacen(
                    "effective_date = 2026-12-01",
                    &format!("effective_date = {today}"),
                    1,
                );
            policy = jikimi_policy::Policy::from_toml_str(&src, "lifeplan-seed.toml")
                .unwrap()
                .policy;
            assert_eq!(policy.meta.effective_date, today);
        }
        jikimi_core::Jikimi::open_with(
            &self.cfg,
            policy,
            clock,
            false,
            jikimi_testkit::test_hasher(),
        )
        .await
        .unwrap()
    }
}

async fn audit_verify_names_a_changed_row_and_rotation_works_from_the_cli(b: Backend) {
    let inst = installed(b).await;
    {
        let app = inst.open().await;
        for s in 1..=3 {
            app.sign_up(seed_signup(&person(s))).await.unwrap();
        }
    }
    let o = inst.run(&["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 rows"));

    let o = inst.run(&["keys", "rotate"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("re-wrapped"));
    assert!(inst.run(&["audit", "verify"]).status.success());

    // Another master key is refused with a clear message.
    let other = jikimi_vault::MasterKey::generate().to_text().to_string();
    let o = bin()
        .args(["audit", "verify"])
        .args(&inst.args)
        .env("JIKIMI_MASTER_KEY", other.trim())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        text(&o).contains("does not match the key store"),
        "{}",
        text(&o)
    );

    let mut c = TestDb::connect(&inst.cfg.database_url()).await;
    c.disable_audit_guard().await;
    c.execute(
        "UPDATE audit_log SET at = replace(at, '2', '3') WHERE seq = 2",
        &[],
    )
    .await
    .unwrap();
    drop(c);
    let o = inst.run(&["audit", "verify"]);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("audit row 2:"), "{out}");
    assert!(
        !out.contains("audit row 1:") && !out.contains("audit row 3:"),
        "{out}"
    );
}

/// `jikimi purge` (dry run, real, report) and `jikimi retention list|hold|release`, as a privacy
/// officer uses them: records of members who left six years ago are past their five years.
async fn purge_report_and_legal_hold_from_the_cli(b: Backend) {
    let inst = installed(b).await;
    let people: Vec<_> = (300..303).map(person).collect();
    {
        let six_years_ago = chrono::Utc::now() - chrono::Duration::days(6 * 366);
        let app = inst
            .open_at(std::sync::Arc::new(jikimi_core::FixedClock::new(
                six_years_ago,
            )))
            .await;
        for p in &people {
            let id = app.sign_up(seed_signup(p)).await.unwrap();
            app.withdraw(&jikimi_core::Actor::Member(id), id, "test")
                .await
                .unwrap();
        }
    }
    let o = inst.run(&["retention", "list"]);
    assert!(o.status.success(), "{}", text(&o));
    let listed: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("contract_records"))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 3, "{}", text(&o));
    let o = inst.run(&["retention", "hold", &listed[0], "--reason", "분쟁 조정 중"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("legal hold"));
    let o = inst.run(&["retention", "hold", &listed[1], "--reason", " "]);
    assert!(!o.status.success(), "a hold needs a reason");

    let o = inst.run(&["purge", "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("DRY RUN"), "{}", text(&o));
    assert!(
        text(&o).contains("retained records destroyed: 2"),
        "{}",
        text(&o)
    );
    let o = inst.run(&["retention", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.contains("contract_records"))
            .count(),
        3,
        "the dry run changed nothing"
    );

    let o = inst.run(&["purge"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("retained records destroyed: 2"), "{out}");
    assert!(
        out.contains("expired but under legal hold (kept): 1"),
        "{out}"
    );
    let o = inst.run(&["retention", "list"]);
    let left = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        left.contains(&listed[0]) && left.contains("held by cli"),
        "{left}"
    );
    assert!(
        !left.contains(&listed[1]) && !left.contains(&listed[2]),
        "{left}"
    );

    assert!(
        inst.run(&["retention", "release", &listed[0]])
            .status
            .success()
    );
    let o = inst.run(&["purge"]);
    assert!(
        text(&o).contains("retained records destroyed: 1"),
        "{}",
        text(&o)
    );

    let o = inst.run(&["purge", "--report"]);
    assert!(o.status.success(), "{}", text(&o));
    let report = text(&o);
    assert_eq!(
        report
            .lines()
            .filter(|l| l.contains(" purge ") && l.contains("contract_records"))
            .count(),
        2,
        "one record per run and class: {report}"
    );
    assert!(report.contains("withdrawal"), "{report}");
    for p in &people {
        for v in jikimi_testkit::personal_values(p) {
            assert!(!report.contains(&v), "a personal value in the report");
        }
    }
    assert!(inst.run(&["audit", "verify"]).status.success());
}

/// Personal data never reaches the logs: with members in the store, every command at the most
/// verbose level prints none of their values (docs/LOGGING.md).
async fn commands_log_no_personal_values_even_at_trace_level(b: Backend) {
    let inst = installed(b).await;
    let people: Vec<_> = (200..203).map(person).collect();
    {
        let app = inst.open().await;
        for p in &people {
            app.sign_up(seed_signup(p)).await.unwrap();
        }
    }
    let mut outputs = String::new();
    for args in [
        vec!["migrate"],
        vec!["audit", "verify"],
        vec!["keys", "rotate"],
    ] {
        let o = bin()
            .args(&args)
            .args(&inst.args)
            .env("JIKIMI_LOG", "trace")
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        outputs.push_str(&text(&o));
    }
    assert!(
        outputs.contains("TRACE") || outputs.contains("DEBUG"),
        "verbose logging was on"
    );
    for p in &people {
        for v in jikimi_testkit::personal_values(p) {
            assert!(!outputs.contains(&v), "a personal value reached the output");
        }
    }
}

#[test]
fn the_sandbox_identity_provider_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "serve",
        "--data-dir",
        dir.path().join("d").to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
        "--behind-proxy",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("sandbox"), "{}", text(&o));
    assert!(!dir.path().join("d").exists(), "nothing was created");
}

/// `--identity-provider portone` names what it lacks (store id, channel key, API secret) and
/// starts nothing without it; the sandbox off loopback points to it.
#[test]
fn serve_with_portone_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let serve = |extra: &[&str]| {
        let mut args = vec![
            "serve",
            "--data-dir",
            d.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--identity-provider",
            "portone",
        ];
        args.extend_from_slice(extra);
        bin()
            .args(&args)
            .env_remove("JIKIMI_PORTONE_API_SECRET")
            .output()
            .unwrap()
    };
    let o = serve(&[]);
    assert!(!o.status.success());
    let said = text(&o);
    for missing in [
        "--portone-store-id",
        "--portone-channel-key",
        "JIKIMI_PORTONE_API_SECRET",
    ] {
        assert!(said.contains(missing), "{missing} not named: {said}");
    }
    let o = serve(&[
        "--portone-store-id",
        "store-00000000-0000-0000-0000-000000000000",
        "--portone-channel-key",
        "channel-key-00000000-0000-0000-0000-000000000000",
    ]);
    assert!(!o.status.success());
    let said = text(&o);
    assert!(said.contains("the API secret"), "{said}");
    assert!(!said.contains("--portone-store-id ("), "{said}");
    // A secret file that is there, but an API address that is not https: refused, named.
    let secret = dir.path().join("portone.secret");
    std::fs::write(&secret, "not-a-real-secret\n").unwrap();
    let o = serve(&[
        "--portone-store-id",
        "store-1",
        "--portone-channel-key",
        "channel-key-1",
        "--portone-api-secret-file",
        secret.to_str().unwrap(),
        "--portone-api-url",
        "http://api.portone.example.com",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("PortOne API"), "{}", text(&o));
    assert!(!d.join("jikimi.db").exists(), "nothing was created");
    let o = run(&[
        "serve",
        "--data-dir",
        d.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
        "--behind-proxy",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--identity-provider portone"),
        "{}",
        text(&o)
    );
}

/// `--products` sells through PortOne: it names what it lacks (the payment channel, the webhook
/// secret), refuses a catalogue that breaks a rule (naming the product), and refuses a policy
/// that does not say payment records are kept; the default policy, which sells nothing, may not
/// promise payment records.
#[test]
fn serve_with_products_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let products = dir.path().join("products.toml");
    let secret = dir.path().join("portone.secret");
    std::fs::write(&secret, "not-a-real-secret\n").unwrap();
    let serve = |extra: &[&str]| {
        let mut args = vec![
            "serve",
            "--data-dir",
            d.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--products",
            products.to_str().unwrap(),
            "--portone-store-id",
            "store-1",
            "--portone-api-secret-file",
            secret.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        bin()
            .args(&args)
            .env_remove("JIKIMI_PORTONE_WEBHOOK_SECRET")
            .output()
            .unwrap()
    };
    std::fs::write(
        &products,
        "[[product]]\nid = \"consulting\"\nname_ko = \"재무 상담 1회\"\nname_en = \"One consultation\"\namount = 50\n",
    )
    .unwrap();
    let o = serve(&[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("\"consulting\": the amount must be from 100"),
        "{}",
        text(&o)
    );
    std::fs::write(
        &products,
        "[[product]]\nid = \"consulting\"\nname_ko = \"재무 상담 1회\"\nname_en = \"One consultation\"\namount = 9900\n",
    )
    .unwrap();
    let o = serve(&[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--portone-payment-channel-key"),
        "{}",
        text(&o)
    );
    let o = serve(&["--portone-payment-channel-key", "channel-key-2"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("webhook secret"), "{}", text(&o));
    let hook = dir.path().join("webhook.secret");
    std::fs::write(&hook, "whsec_c2VjcmV0\n").unwrap();
    let o = serve(&[
        "--portone-payment-channel-key",
        "channel-key-2",
        "--portone-webhook-secret-file",
        hook.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("keeps no \"payment_records\" retention class"),
        "{}",
        text(&o)
    );
    // A selling policy: the class alone is not enough; the payment items (what a record keeps)
    // and PortOne as processor must be published too.
    const SELLING: &str = include_str!("../../../policies/selling.toml");
    let lifeplan = jikimi_policy::Policy::builtin_source("lifeplan").unwrap();
    let class = &SELLING
        [SELLING.find("[[retention]]").unwrap()..SELLING.find("# The company name").unwrap()];
    let no_processor = &SELLING[..SELLING.find("# The company name").unwrap()];
    let policy = dir.path().join("selling.toml");
    let hooked = [
        "--portone-payment-channel-key",
        "channel-key-2",
        "--portone-webhook-secret-file",
        hook.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ];
    for (src, says) in [
        (class, "declares no payment items"),
        (no_processor, "names no payment processor"),
    ] {
        std::fs::write(&policy, format!("{lifeplan}\n{src}")).unwrap();
        let o = serve(&hooked);
        assert!(!o.status.success());
        assert!(text(&o).contains(says), "{}", text(&o));
    }
    assert!(!d.join("jikimi.db").exists(), "nothing was created");
    // `policy check --sells` checks it as `serve --products` runs it; without, it is refused.
    std::fs::write(&policy, format!("{lifeplan}\n{SELLING}")).unwrap();
    let o = bin()
        .args(["policy", "check", policy.to_str().unwrap(), "--sells"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = bin()
        .args(["policy", "check", policy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("payment_gateway"), "{}", text(&o));
    let o = bin()
        .args(["policy", "render", policy.to_str().unwrap(), "--sells"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // Lines are wrapped: compare with single spaces.
    let doc = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(doc.contains("요금 결제 시 받는 항목"), "{doc}");
    assert!(doc.contains("(주)코리아포트원 (PortOne)"), "{doc}");
    assert!(
        doc.contains("카드번호 전체와 유효기간은 결제창에만 입력하며 회사는"),
        "{doc}"
    );
}

/// Mail and text messages that the published policy promises must be able to go out: off a
/// loopback address the sandbox mailbox and the sandbox texts are refused, and so is starting
/// with no text-message provider while the policy says notices go to the mobile number.
#[test]
fn serve_refuses_sandbox_mail_off_loopback_and_no_texts_when_promised() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let o = run(&[
        "serve",
        "--data-dir",
        d.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
        "--behind-proxy",
        "--identity-provider",
        "none",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("sandbox text messages"), "{}", text(&o));
    let o = run(&[
        "serve",
        "--data-dir",
        d.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
        "--behind-proxy",
        "--identity-provider",
        "none",
        "--sms-provider",
        "solapi",
        "--solapi-api-key",
        "NCSTESTKEY0001",
        "--sms-from",
        "0200000000",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("SOLAPI's secret is needed"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "serve",
        "--data-dir",
        d.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--sms-provider",
        "none",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("text messages must be able to go out"),
        "{}",
        text(&o)
    );
    assert!(!d.exists(), "nothing was created");
}

/// `jikimi staff`: an account added with a role gets a one-time enrolment link on the site's
/// address; list, role change, reset, revocation and the grant record (R-ACC-02).
async fn staff_accounts_from_the_cli(b: Backend) {
    let inst = installed(b).await;
    let o = inst.run(&["staff", "add", "Kim.Officer", "--role", "officer"]);
    assert!(o.status.success(), "{}", text(&o));
    let link = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let website = jikimi_testkit::builtin("lifeplan-seed").operator.website;
    assert!(
        link.starts_with(&format!(
            "{}/office/enrol/jke_",
            website.trim_end_matches('/')
        )),
        "{link}"
    );
    let o = inst.run(&[
        "staff",
        "add",
        "park.handler",
        "--role",
        "handler",
        "--url",
        "https://office.example.com/",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with("https://office.example.com/office/enrol/jke_")
    );
    // A wrong role or a taken name is refused, naming the problem.
    let o = inst.run(&["staff", "add", "lee", "--role", "admin"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown role"), "{}", text(&o));
    let o = inst.run(&["staff", "add", "kim.officer", "--role", "auditor"]);
    assert!(!o.status.success());
    // Office API tokens belong to staff accounts and expire within a year.
    let o = inst.run(&["office", "token", "kim.officer", "--days", "10"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("jko_"));
    assert!(text(&o).contains("good until"));
    assert!(
        !inst
            .run(&["office", "token", "kim.officer", "--days", "400"])
            .status
            .success()
    );
    let o = inst.run(&["office", "token", "nobody"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("jikimi staff add"), "{}", text(&o));
    let o = inst.run(&["staff", "role", "park.handler", "manager"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = inst.run(&["staff", "reset", "park.handler"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("/office/enrol/jke_"));
    let o = inst.run(&["staff", "revoke", "park.handler"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = inst.run(&["staff", "list"]);
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with("kim.officer") && lines[0].contains("awaiting enrolment"));
    assert!(lines[1].starts_with("park.handler") && lines[1].contains("revoked"));
    let o = inst.run(&["staff", "grants"]);
    let grants = String::from_utf8_lossy(&o.stdout).into_owned();
    let changes: Vec<Vec<&str>> = grants
        .lines()
        .map(|l| l.split_whitespace().skip(3).collect())
        .collect();
    assert_eq!(
        changes,
        [
            vec!["kim.officer", "grant", "officer", "by", "cli"],
            vec!["park.handler", "grant", "handler", "by", "cli"],
            vec!["park.handler", "role", "manager", "by", "cli"],
            vec!["park.handler", "reset", "manager", "by", "cli"],
            vec!["park.handler", "revoke", "manager", "by", "cli"],
        ]
    );
    assert!(inst.run(&["audit", "verify"]).status.success());
}
