//! What the binary's test files share: the binary without the caller's `JIKIMI_*` settings, its
//! output as text, and a free port.
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
