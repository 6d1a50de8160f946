//! Turns on `cfg(jikimi_pg)` when `JIKIMI_TEST_POSTGRES_URL` is set at build time, so that the
//! PostgreSQL half of the test suite runs; without it that half is compiled as ignored (see
//! `jikimi_testkit::backend_tests!`).
//!
//! Release builds of the `jikimi` binary for x86_64 Linux are linked with `link-order.txt`: the
//! functions the server runs (start-up and the member's flows, as recorded by
//! `bench/link-order.sh`) are laid out together at the start of the code, so the pages of code
//! the kernel maps around each one it runs are mostly code that runs too. The server's resident
//! code shrinks from about 13 MiB to about 5–6 MiB (bench/README.md, "Issue 12, eleventh session").
//! Only the layout changes, never the code. Names no longer in the build (after a dependency or
//! compiler update) are skipped without a warning; `bench/run.sh` reports how many still match.
//! `JIKIMI_LINK_ORDER=0` links without it; so does a build whose linker refuses the option (a
//! probe links an empty program first, and the build says so in a warning).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(jikimi_pg)");
    println!("cargo::rerun-if-env-changed=JIKIMI_TEST_POSTGRES_URL");
    if std::env::var_os("JIKIMI_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=jikimi_pg");
    }
    link_order();
}

fn link_order() {
    println!("cargo::rerun-if-changed=link-order.txt");
    println!("cargo::rerun-if-env-changed=JIKIMI_LINK_ORDER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("PROFILE") != "release"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || var("JIKIMI_LINK_ORDER") == "0"
    {
        return;
    }
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return;
    };
    let file = std::path::Path::new(&dir).join("link-order.txt");
    let Some(path) = file.to_str().filter(|_| file.is_file()) else {
        return;
    };
    let args = [
        format!("-Wl,--symbol-ordering-file={path}"),
        "-Wl,--no-warn-symbol-ordering".to_owned(),
    ];
    if path.contains(',') || !linker_takes(&args) {
        println!(
            "cargo::warning=linked without link-order.txt: this linker refuses \
             --symbol-ordering-file (rust-lld, the toolchain's default, takes it)"
        );
        return;
    }
    for arg in args {
        println!("cargo::rustc-link-arg-bin=jikimi={arg}");
    }
}

/// Whether the linker this build uses takes `args`: links an empty program with the build's own
/// compiler, target, flags and linker (rust-lld by default since Rust 1.90; a `linker` setting,
/// `-Clinker-features=-lld` or `-fuse-ld=bfd` choose another, and GNU ld has no
/// `--symbol-ordering-file`).
fn linker_takes(args: &[String]) -> bool {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let (Some(rustc), Some(out)) = (std::env::var_os("RUSTC"), std::env::var_os("OUT_DIR")) else {
        return false;
    };
    let mut cmd = Command::new(rustc);
    let probe = [
        "--crate-name",
        "link_probe",
        "--crate-type",
        "bin",
        "--edition",
        "2021",
    ];
    cmd.args(probe)
        .args(["--target", "x86_64-unknown-linux-gnu", "-o"])
        .arg(std::path::Path::new(&out).join("link_probe"))
        .arg("-");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    cmd.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    if let Some(linker) = std::env::var_os("RUSTC_LINKER") {
        let mut flag = std::ffi::OsString::from("-Clinker=");
        flag.push(linker);
        cmd.arg(flag);
    }
    for arg in args {
        cmd.arg(format!("-Clink-arg={arg}"));
    }
    let Ok(mut child) = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let wrote = child
        .stdin
        .take()
        .is_some_and(|mut stdin| stdin.write_all(b"fn main() {}\n").is_ok());
    child.wait().is_ok_and(|status| status.success()) && wrote
}
