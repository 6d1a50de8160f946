//! The audit chain cannot be cut quietly (issue 11; DESIGN.md invariant 5), through the binary an
//! operator runs: `jikimi audit verify`, `jikimi serve`, `jikimi audit re-anchor`. The attacker
//! has write access to the data database (drops the guard trigger, deletes rows) and to the key
//! store's rows, but not the master key, so not the chain key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Installed, bin, free_port, installed, text};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use jikimi_testkit::{Backend, TestDb, person, seed_signup};

jikimi_testkit::backend_tests!(
    a_cut_tail_is_not_hidden_by_serving_again,
    a_forged_plain_anchor_is_refused,
    an_anchor_rewritten_to_an_earlier_row_is_refused,
    deleting_every_row_and_the_anchor_is_caught,
    deleting_only_the_anchor_is_caught_and_re_anchor_recovers,
    an_installation_with_an_old_plain_anchor_is_re_anchored_once,
    a_running_server_reports_a_break_and_keeps_its_anchor,
);

/// A running `jikimi serve`, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The status of `GET /healthz`, if the server answers.
fn healthz(port: u16) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    String::from_utf8_lossy(&raw)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

impl Installed {
    fn spawn_serve(&self, name: &str) -> Server {
        let port = free_port();
        let log = self.dir.path().join(format!("{name}.log"));
        let child = bin()
            .arg("serve")
            .args(&self.args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Server { child, port, log }
    }

    /// `serve`, up and answering.
    fn serve(&self) -> Server {
        let server = self.spawn_serve("serve");
        let start = Instant::now();
        while healthz(server.port).is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "server did not come up: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `serve` must exit non-zero before answering anything; returns what it said.
    fn serve_refuses(&self) -> String {
        let mut server = self.spawn_serve("refused");
        let start = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                let out = server.log();
                assert!(!status.success(), "serve exited 0: {out}");
                return out;
            }
            assert!(
                healthz(server.port).is_none(),
                "serve started on a broken audit chain: {}",
                server.log()
            );
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "serve neither started nor stopped: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `audit verify` fails, naming `expected`; returns what it said.
    fn verify_fails(&self, expected: &str) -> String {
        let o = self.run(&["audit", "verify"]);
        let out = text(&o);
        assert!(!o.status.success(), "audit verify passed: {out}");
        assert!(out.contains("audit chain FAILED"), "{out}");
        assert!(out.contains(expected), "{out}");
        out
    }

    fn verify_passes(&self, rows: i64) {
        let o = self.run(&["audit", "verify"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains(&format!("audit chain verified: {rows} rows")),
            "{}",
            text(&o)
        );
    }

    /// The installation opened in-process (as another instance would), to write rows.
    async fn open(&self) -> jikimi_core::Jikimi {
        let mut policy = jikimi_testkit::builtin("lifeplan-seed");
        let today = jikimi_core::Clock::today_kst(&jikimi_core::SystemClock);
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
        }
        jikimi_core::Jikimi::open_with(
            &self.cfg,
            policy,
            std::sync::Arc::new(jikimi_core::SystemClock),
            false,
            jikimi_testkit::test_hasher(),
        )
        .await
        .unwrap()
    }

    /// Ordinary operation: sign-ups `seeds`, one audit row each.
    async fn sign_up(&self, seeds: std::ops::Range<u32>) {
        let app = self.open().await;
        for s in seeds {
            app.sign_up(seed_signup(&person(s))).await.unwrap();
        }
    }

    async fn data(&self) -> TestDb {
        TestDb::connect(&self.cfg.database_url()).await
    }

    async fn keys(&self) -> TestDb {
        TestDb::connect(&self.cfg.key_store_url()).await
    }

    /// The attacker: drops the guard and deletes audit rows from `seq` on.
    async fn cut_from(&self, seq: i64) {
        let mut c = self.data().await;
        c.disable_audit_guard().await;
        c.execute(&format!("DELETE FROM audit_log WHERE seq >= {seq}"), &[])
            .await
            .unwrap();
    }

    async fn audit_rows(&self) -> i64 {
        self.data()
            .await
            .count("SELECT count(*) FROM audit_log")
            .await
    }

    /// The attacker: writes the key store's anchor row (`None`: deletes it).
    async fn write_anchor(&self, value: Option<&str>) {
        let mut k = self.keys().await;
        k.execute("DELETE FROM key_meta WHERE name = 'audit_anchor'", &[])
            .await
            .unwrap();
        if let Some(v) = value {
            k.execute(
                &format!("INSERT INTO key_meta (name, value) VALUES ('audit_anchor', '{v}')"),
                &[],
            )
            .await
            .unwrap();
        }
    }

    async fn anchor(&self) -> Option<String> {
        self.open()
            .await
            .keyring()
            .key_store()
            .meta("audit_anchor")
            .await
            .unwrap()
    }

    /// The hash of row `seq` as stored, in hex.
    async fn row_hash(&self, seq: i64) -> String {
        let rows = self
            .open()
            .await
            .store()
            .audit_rows(seq - 1, 1)
            .await
            .unwrap();
        assert_eq!(rows[0].seq, seq);
        rows[0].hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Four rows, verified (and so anchored at row 4) by `jikimi audit verify`.
async fn four_rows_anchored(b: Backend) -> Installed {
    let inst = installed(b).await;
    inst.sign_up(0..4).await;
    inst.verify_passes(4);
    assert!(inst.anchor().await.unwrap().starts_with("mac1:4:"));
    inst
}

/// Finding 1: a cut tail followed by ordinary operation. `serve` verifies the chain from the
/// anchor at start-up and refuses, naming the problem; the rows written after the cut never move
/// the anchor over the gap, so `audit verify` keeps failing.
async fn a_cut_tail_is_not_hidden_by_serving_again(b: Backend) {
    let inst = four_rows_anchored(b).await;
    let anchored = inst.anchor().await;
    inst.cut_from(3).await;
    inst.verify_fails("audit anchor (row 4): the anchored row is missing");

    let out = inst.serve_refuses();
    assert!(
        out.contains("refusing to serve: the audit chain does not verify from its anchor"),
        "{out}"
    );
    assert!(
        out.contains("audit anchor (row 4): the anchored row is missing"),
        "{out}"
    );
    assert_eq!(inst.audit_rows().await, 2, "serve wrote nothing");

    // Rows written past the cut (by another instance, a command): still refused, still failing.
    inst.sign_up(10..13).await;
    assert_eq!(inst.audit_rows().await, 5);
    let out = inst.serve_refuses();
    assert!(
        out.contains("audit anchor (row 4): the anchored row was replaced"),
        "{out}"
    );
    inst.verify_fails("audit anchor (row 4): the anchored row was replaced");
    assert_eq!(inst.anchor().await, anchored, "the anchor never moved");
}

/// Finding 2: after the cut, the anchor rewritten in the old plain form to the last row left.
async fn a_forged_plain_anchor_is_refused(b: Backend) {
    let inst = four_rows_anchored(b).await;
    inst.cut_from(3).await;
    let forged = format!("2:{}", inst.row_hash(2).await);
    inst.write_anchor(Some(&forged)).await;
    inst.verify_fails("the audit anchor is not authenticated");
    let out = inst.serve_refuses();
    assert!(
        out.contains("the audit anchor is not authenticated"),
        "{out}"
    );
    assert_eq!(inst.anchor().await.as_deref(), Some(forged.as_str()));
}

/// Finding 2: after the cut, the anchor rewritten to an earlier row in the authenticated form,
/// without the chain key: with a made-up MAC, and with the real anchor's MAC.
async fn an_anchor_rewritten_to_an_earlier_row_is_refused(b: Backend) {
    let inst = four_rows_anchored(b).await;
    let real = inst.anchor().await.unwrap();
    let real_mac = real.rsplit(':').next().unwrap().to_owned();
    inst.cut_from(3).await;
    let hash2 = inst.row_hash(2).await;
    for forged in [
        format!("mac1:2:{hash2}:{}", "00".repeat(32)),
        format!("mac1:2:{hash2}:{real_mac}"),
    ] {
        inst.write_anchor(Some(&forged)).await;
        inst.verify_fails("the audit anchor's MAC does not verify");
        let out = inst.serve_refuses();
        assert!(
            out.contains("the audit anchor's MAC does not verify"),
            "{out}"
        );
    }
}

/// Finding 2: every row and the anchor deleted: "verified: 0 rows" is no longer a pass.
async fn deleting_every_row_and_the_anchor_is_caught(b: Backend) {
    let inst = four_rows_anchored(b).await;
    inst.cut_from(1).await;
    inst.write_anchor(None).await;
    let out = inst.verify_fails("the key store holds no audit anchor");
    assert!(out.contains("in 0 rows"), "{out}");
    let out = inst.serve_refuses();
    assert!(out.contains("the key store holds no audit anchor"), "{out}");
    assert_eq!(inst.audit_rows().await, 0);
}

/// Finding 2: only the anchor deleted. Caught and refused; an operator who checked every link
/// re-anchors (recorded in the chain), and `serve` starts again.
async fn deleting_only_the_anchor_is_caught_and_re_anchor_recovers(b: Backend) {
    let inst = four_rows_anchored(b).await;
    inst.write_anchor(None).await;
    inst.verify_fails("the key store holds no audit anchor");
    let out = inst.serve_refuses();
    assert!(out.contains("the key store holds no audit anchor"), "{out}");

    let o = inst.run(&["audit", "re-anchor"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("audit chain re-anchored at row 5 (the anchor was missing"),
        "{}",
        text(&o)
    );
    inst.verify_passes(5);
    let server = inst.serve();
    assert_eq!(healthz(server.port), Some(200));
}

/// An installation from before authenticated anchors (the plain head `seq:hash`): `serve`
/// refuses and names `jikimi audit re-anchor`, which verifies every link and anchors anew once.
/// A cut tail under an authentic anchor is not re-anchored without `--accept-loss`.
async fn an_installation_with_an_old_plain_anchor_is_re_anchored_once(b: Backend) {
    let inst = four_rows_anchored(b).await;
    let plain = format!("4:{}", inst.row_hash(4).await);
    inst.write_anchor(Some(&plain)).await;
    let out = inst.serve_refuses();
    assert!(out.contains("run `jikimi audit re-anchor`"), "{out}");
    let o = inst.run(&["audit", "re-anchor"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("re-anchored at row 5 (the anchor was plain (unauthenticated)"),
        "{}",
        text(&o)
    );
    inst.verify_passes(5);
    let o = inst.run(&["audit", "re-anchor"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("nothing else changed"), "{}", text(&o));
    inst.verify_passes(5);

    inst.cut_from(4).await;
    let o = inst.run(&["audit", "re-anchor"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--accept-loss"), "{}", text(&o));
    inst.serve_refuses();
}

/// A running server that finds a break (here: rows cut and an older, authentic anchor put back
/// into the key store) logs it at ERROR, answers 503 at /healthz, keeps the anchor where it is,
/// and keeps serving.
async fn a_running_server_reports_a_break_and_keeps_its_anchor(b: Backend) {
    let inst = installed(b).await;
    let genesis = inst.anchor().await.unwrap();
    assert!(genesis.starts_with("mac1:0:"), "{genesis}");
    let server = inst.serve();
    assert_eq!(healthz(server.port), Some(200));
    inst.sign_up(0..3).await;
    let start = Instant::now();
    // Three sign-ups: serve anchors the head. (The daily purge adds a row only once its KST
    // time of day has come, so the head is at least 3, and may be 4, whenever the test runs.)
    loop {
        let head = inst.audit_rows().await;
        if head >= 3
            && inst
                .anchor()
                .await
                .unwrap()
                .starts_with(&format!("mac1:{head}:"))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve anchors the head: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    inst.cut_from(1).await;
    inst.write_anchor(Some(&genesis)).await;
    let start = Instant::now();
    while healthz(server.port) != Some(503) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the break is reported: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("moved backward")),
        "{log}"
    );
    assert_eq!(inst.anchor().await.as_deref(), Some(genesis.as_str()));
    // Still serving members.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(
        s,
        "GET /privacy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(
        raw.starts_with("HTTP/1.1 200"),
        "{}",
        &raw[..raw.len().min(200)]
    );
}
