//! Several instances, one PostgreSQL: each test starts two real `jikimi serve` processes on one
//! database (as behind a load balancer) and drives them over HTTP. PostgreSQL only; compiled as
//! ignored without `JIKIMI_TEST_POSTGRES_URL` (see jikimi_testkit::backend_tests!).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, free_port, text};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use jikimi_testkit::{Person, TestDb, person};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Instance {
    child: Child,
    port: u16,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two instances of one installation on PostgreSQL: each its own data directory (which on
/// PostgreSQL holds nothing but the master key file, shared here as operators would copy it).
struct Cluster {
    _dir: tempfile::TempDir,
    database_url: String,
    key_store_url: String,
    key_file: PathBuf,
    a: Instance,
    b: Instance,
}

impl Cluster {
    fn store_args(&self) -> Vec<String> {
        store_args(&self.database_url, &self.key_store_url, &self.key_file)
    }

    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, key_store_url) = jikimi_testkit::postgres_schemas().await;
        let key_file = dir.path().join("a").join("master.key");
        let args = store_args(&database_url, &key_store_url, &key_file);

        let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
        let listen = format!("127.0.0.1:{}", free_port());
        // Nothing set up yet: refused, with the command that sets it up.
        let o = run(&["serve", "--listen", &listen], &args, &data_a);
        assert!(!o.status.success());
        assert!(text(&o).contains("run `jikimi init`"), "{}", text(&o));
        // `migrate` applies the migrations (again: it is idempotent).
        for _ in 0..2 {
            let o = bin().arg("migrate").args(&args).output().unwrap();
            assert!(o.status.success(), "migrate: {}", text(&o));
        }
        // `init` migrates both databases and makes the master key, once.
        let o = run(&["init"], &args, &data_a);
        assert!(o.status.success(), "init: {}", text(&o));
        let o = run(&["init"], &args, &data_b);
        assert!(!o.status.success(), "a second init is refused");
        assert!(text(&o).contains("already"), "{}", text(&o));
        // A database without the schema is refused (serve never migrates PostgreSQL).
        let (empty, _) = jikimi_testkit::postgres_schemas().await;
        let o = run(
            &["serve", "--listen", &listen],
            &store_args(&empty, &key_store_url, &key_file),
            &data_a,
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("run `jikimi migrate`"), "{}", text(&o));
        let a = serve(data_a, &args);
        let b = serve(data_b, &args);
        Self {
            _dir: dir,
            database_url,
            key_store_url,
            key_file,
            a,
            b,
        }
    }

    fn instance(&self, i: usize) -> u16 {
        if i.is_multiple_of(2) {
            self.a.port
        } else {
            self.b.port
        }
    }

    async fn db(&self) -> TestDb {
        TestDb::connect(&self.database_url).await
    }

    /// `jikimi audit verify` against the shared database passes.
    fn audit_verifies(&self) {
        let o = run(
            &["audit", "verify"],
            &self.store_args(),
            &self._dir.path().join("a"),
        );
        assert!(o.status.success(), "audit verify: {}", text(&o));
        assert!(text(&o).contains("all links intact"), "{}", text(&o));
    }
}

/// `jikimi <command> <store args> --data-dir <dir>`, run to its end.
fn run(command: &[&str], store: &[String], data_dir: &Path) -> std::process::Output {
    bin()
        .args(command)
        .args(store)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap()
}

fn store_args(database_url: &str, key_store_url: &str, key_file: &Path) -> Vec<String> {
    vec![
        "--policy".into(),
        "lifeplan-seed".into(),
        "--database-url".into(),
        database_url.into(),
        "--key-store-url".into(),
        key_store_url.into(),
        "--master-key-file".into(),
        key_file.display().to_string(),
    ]
}

fn serve(data_dir: PathBuf, args: &[String]) -> Instance {
    let port = free_port();
    let child = bin()
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let instance = Instance { child, port };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return instance;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("instance on {port} did not come up");
}

/// One HTTP/1.1 request (`Connection: close`); the status and the JSON body (`Null` if none).
async fn call(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    call_from([127, 0, 0, 1], port, method, path, token, body).await
}

/// [`call`] from the client address `from` (any loopback address: the connection's source is
/// bound to it, so the server sees a client of its own, as abuse limits count them).
async fn call_from(
    from: [u8; 4],
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::from((from, 0))).unwrap();
    let mut s = socket
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the API answers with a length"
    );
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()))
    };
    (status, value)
}

fn signup_body(p: &Person) -> Value {
    json!({
        "login_id": p.login_id,
        "password": p.password,
        "items": {
            "name": p.name, "rrn": p.rrn, "phone": p.phone, "postal_code": p.postal_code,
            "address": p.address, "address_detail": p.address_detail, "email": p.email,
        },
        "consents": {"privacy_policy": true},
    })
}

async fn sign_up(port: u16, p: &Person) -> (u16, Value) {
    call(port, "POST", "/api/v1/members", None, Some(signup_body(p))).await
}

async fn sign_up_from(from: [u8; 4], port: u16, p: &Person) -> (u16, Value) {
    call_from(
        from,
        port,
        "POST",
        "/api/v1/members",
        None,
        Some(signup_body(p)),
    )
    .await
}

async fn login(port: u16, p: &Person) -> (u16, Value) {
    call(
        port,
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"login_id": p.login_id, "password": p.password})),
    )
    .await
}

async fn token(port: u16, p: &Person) -> String {
    let (status, body) = login(port, p).await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A session made on one instance works on the other; logging out on one ends it on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn a_session_works_on_both_instances_and_logout_ends_it_on_both() {
    let c = Cluster::start().await;
    let p = person(700);
    assert_eq!(sign_up(c.a.port, &p).await.0, 201);
    let t = token(c.a.port, &p).await;
    for port in [c.a.port, c.b.port] {
        let (status, me) = call(port, "GET", "/api/v1/me", Some(&t), None).await;
        assert_eq!(status, 200, "{me}");
    }
    assert_eq!(
        call(
            c.b.port,
            "DELETE",
            "/api/v1/sessions/current",
            Some(&t),
            None
        )
        .await
        .0,
        204
    );
    for port in [c.a.port, c.b.port] {
        assert_eq!(call(port, "GET", "/api/v1/me", Some(&t), None).await.0, 401);
    }
    c.audit_verifies();
}

/// Both instances run the job loop; every job runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn background_jobs_run_exactly_once() {
    let c = Cluster::start().await;
    let n = 12;
    for i in 0..n {
        let p = person(710 + i);
        let port = c.instance(i as usize);
        assert_eq!(sign_up(port, &p).await.0, 201);
        let t = token(port, &p).await;
        let (status, body) = call(
            c.instance(i as usize + 1),
            "POST",
            "/api/v1/me/withdrawal",
            Some(&t),
            Some(json!({"password": p.password})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let mut db = c.db().await;
    let start = Instant::now();
    loop {
        let done = db
            .count("SELECT count(*) FROM jobs WHERE kind = 'keys.destroy' AND state = 'done'")
            .await;
        if done == i64::from(n) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "jobs done: {done} of {n}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        db.count("SELECT count(*) FROM jobs WHERE kind = 'keys.destroy' AND attempts <> 1")
            .await,
        0,
        "no job was claimed twice"
    );
    c.audit_verifies();
}

/// 50 sign-ups of one person at once, split across both instances: one member, and every other
/// attempt gets the same clear error. Each comes from a client of its own (abuse limits allow
/// one client twenty sign-up attempts in ten minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn fifty_concurrent_sign_ups_of_one_person_make_one_member() {
    let c = Cluster::start().await;
    for (round, field) in [(0u32, "email"), (1, "rrn")] {
        let base = person(800 + round);
        let mut tasks = Vec::new();
        for i in 0..50u32 {
            let mut p = person(1000 + round * 100 + i);
            if field == "email" {
                p.email = base.email.clone();
            } else {
                p.rrn = base.rrn.clone();
            }
            let port = c.instance(i as usize);
            let from = [127, 0, round as u8 + 1, i as u8 + 1];
            tasks.push(tokio::spawn(
                async move { sign_up_from(from, port, &p).await },
            ));
        }
        let mut created = 0;
        let mut conflicts = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (201, _) => created += 1,
                (409, body) => conflicts.push(body),
                (status, body) => panic!("{field}: unexpected {status} {body}"),
            }
        }
        assert_eq!(created, 1, "{field}: exactly one sign-up succeeds");
        assert_eq!(conflicts.len(), 49);
        assert_eq!(
            conflicts[0]["type"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next(),
            Some("already_member"),
            "{}",
            conflicts[0]
        );
        assert!(
            conflicts.iter().all(|b| *b == conflicts[0]),
            "{field}: every other attempt gets the same error: {conflicts:?}"
        );
    }
    let mut db = c.db().await;
    assert_eq!(db.count("SELECT count(*) FROM members").await, 2);
    c.audit_verifies();
}

/// A withdrawal on one instance racing a correction on the other never leaves data without its
/// key, or a key without its member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn withdrawal_racing_correction_leaves_nothing_half_done() {
    let c = Cluster::start().await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let p = person(900 + i);
        let (pa, pb) = (c.instance(i as usize), c.instance(i as usize + 1));
        assert_eq!(sign_up(pa, &p).await.0, 201);
        let t = token(pa, &p).await;
        tasks.push(tokio::spawn(async move {
            let correct = call(
                pa,
                "PATCH",
                "/api/v1/me",
                Some(&t),
                Some(json!({"items": {"address": format!("부산광역시 해운대구 지킴로 {i}")}})),
            );
            let withdraw = call(
                pb,
                "POST",
                "/api/v1/me/withdrawal",
                Some(&t),
                Some(json!({"password": p.password})),
            );
            let ((cs, cb), (ws, wb)) = tokio::join!(correct, withdraw);
            // The correction lands before the withdrawal, or finds the member (or session) gone.
            assert!([200, 401, 404].contains(&cs), "correction: {cs} {cb}");
            assert_eq!(ws, 200, "withdrawal: {wb}");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut db = c.db().await;
    assert_eq!(db.count("SELECT count(*) FROM members").await, 0);
    assert_eq!(
        db.count("SELECT count(*) FROM member_items").await,
        0,
        "no data without its key"
    );
    let mut keys = TestDb::connect(&c.key_store_url).await;
    assert_eq!(
        keys.count("SELECT count(*) FROM wrapped_keys WHERE context LIKE 'member:%'")
            .await,
        0,
        "no key without its member"
    );
    c.audit_verifies();
}

/// Failed logins are counted in the database: guesses spread over both instances share one limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn login_limits_hold_across_instances() {
    let c = Cluster::start().await;
    let p = person(950);
    assert_eq!(sign_up(c.a.port, &p).await.0, 201);
    let mut wrong = p.clone();
    wrong.password = "Wrong-guess-1".into();
    // Alternating instances: the fifth failure locks the ID (R-ACC-04), wherever it happens.
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(login(c.instance(i), &wrong).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    for port in [c.a.port, c.b.port] {
        assert_eq!(
            login(port, &p).await.0,
            429,
            "locked on every instance, even with the right password"
        );
    }
    c.audit_verifies();
}

/// Issue 11 through real processes: one client's sign-ups are counted in the database, so
/// spreading them over both instances does not double its limit; another client is not held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn abuse_limits_hold_across_instances() {
    let c = Cluster::start().await;
    let from = [127, 0, 9, 9];
    for i in 0..20u32 {
        let (status, body) = sign_up_from(from, c.instance(i as usize), &person(960 + i)).await;
        assert_eq!(status, 201, "{i}: {body}");
    }
    for port in [c.a.port, c.b.port] {
        let (status, body) = sign_up_from(from, port, &person(990)).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["type"], "/problems/rate_limited", "{body}");
        assert_eq!(body["action"], "sign_up", "{body}");
    }
    assert_eq!(
        sign_up_from([127, 0, 9, 10], c.b.port, &person(990))
            .await
            .0,
        201
    );
}

/// The recommended PostgreSQL set-up (README, "Scaling out"): the data and the key store each in
/// its own schema, owned by its own role. `jikimi init`, `migrate` and `serve` work with those
/// roles, and neither role can read the other's tables: a leaked data credential, or a dump of
/// the data, reaches no key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "needs PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn the_key_store_lives_under_its_own_role() {
    let base = jikimi_testkit::postgres_url().unwrap();
    let id = &uuid_like();
    let (app_role, key_role) = (format!("jk{id}_app"), format!("jk{id}_keys"));
    let mut admin = TestDb::connect(&base).await;
    for role in [&app_role, &key_role] {
        admin
            .execute(&format!("CREATE ROLE {role} LOGIN"), &[])
            .await
            .unwrap();
        admin
            .execute(&format!("CREATE SCHEMA {role} AUTHORIZATION {role}"), &[])
            .await
            .unwrap();
    }
    let as_role = |role: &str| {
        let (scheme, rest) = base.split_once("://").unwrap();
        let host = rest.split_once('@').map_or(rest, |(_, h)| h);
        let url = format!("{scheme}://{role}@{host}");
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options[search_path]={role}")
    };
    let (database_url, key_store_url) = (as_role(&app_role), as_role(&key_role));
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let args = store_args(&database_url, &key_store_url, &key_file);
    let o = run(&["init"], &args, dir.path());
    assert!(o.status.success(), "init: {}", text(&o));
    let o = bin().arg("migrate").args(&args).output().unwrap();
    assert!(o.status.success(), "migrate: {}", text(&o));
    let server = serve(dir.path().to_path_buf(), &args);
    let p = person(990);
    assert_eq!(sign_up(server.port, &p).await.0, 201);

    let mut data = TestDb::connect(&database_url).await;
    assert_eq!(data.count("SELECT count(*) FROM members").await, 1);
    let denied = data
        .execute(
            &format!("SELECT count(*) FROM {key_role}.wrapped_keys"),
            &[],
        )
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("permission denied"), "{denied}");
    let mut keys = TestDb::connect(&key_store_url).await;
    assert!(
        keys.count("SELECT count(*) FROM wrapped_keys WHERE context LIKE 'member:%'")
            .await
            >= 1
    );
    let denied = keys
        .execute(&format!("SELECT count(*) FROM {app_role}.members"), &[])
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("permission denied"), "{denied}");
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            ^ u128::from(std::process::id())
    )[..12]
        .to_owned()
}
