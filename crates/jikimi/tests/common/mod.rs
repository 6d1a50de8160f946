//! What the binary's test files share: the binary without the caller's `JIKIMI_*` settings, its
//! output as text, a free port, and an installation made by `jikimi init`.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Command, Output};

/// The `jikimi` binary with only what a test passes: no `JIKIMI_*` setting from the environment
/// the tests run in (the log filter is `info`).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jikimi"));
    for (k, _) in std::env::vars() {
        if k.starts_with("JIKIMI_") {
            c.env_remove(k);
        }
    }
    c.env("JIKIMI_LOG", "info");
    c
}

/// Standard output and standard error, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh installation made by `jikimi init` on one backend: the arguments every command then
/// takes, and the same installation's configuration for opening it in-process.
pub struct Installed {
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
    pub cfg: jikimi_core::Config,
}

pub async fn installed(b: jikimi_testkit::Backend) -> Installed {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut args: Vec<String> = vec![
        "--data-dir".into(),
        data.display().to_string(),
        "--policy".into(),
        "lifeplan-seed".into(),
    ];
    let mut cfg = jikimi_core::Config::new(&data);
    if b == jikimi_testkit::Backend::Postgres {
        let (database_url, key_store_url) = jikimi_testkit::postgres_schemas().await;
        args.extend([
            "--database-url".into(),
            database_url.clone(),
            "--key-store-url".into(),
            key_store_url.clone(),
        ]);
        cfg.database_url = Some(database_url);
        cfg.key_store_url = Some(key_store_url);
    }
    let o = bin().arg("init").args(&args).output().unwrap();
    assert!(o.status.success(), "init: {}", text(&o));
    Installed { dir, args, cfg }
}

impl Installed {
    /// A command on this installation.
    pub fn run(&self, command: &[&str]) -> Output {
        bin().args(command).args(&self.args).output().unwrap()
    }
}
