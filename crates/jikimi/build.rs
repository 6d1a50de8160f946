//! Turns on `cfg(jikimi_pg)` when `JIKIMI_TEST_POSTGRES_URL` is set at build time, so that the
//! PostgreSQL half of the test suite runs; without it that half is compiled as ignored (see
//! `jikimi_testkit::backend_tests!`).
//!
//! Release builds of the `jikimi` binary for x86_64 Linux are linked with `link-order.txt`: the
//! functions the server runs (start-up and the member's flows, as recorded by
//! `bench/link-order.sh`) are laid out together at the start of the code, so the pages of code
//! the kernel maps around each one it runs are mostly code that runs too. The server's resident
//! code shrinks from about 13 MiB to about 5 MiB (bench/README.md, "Issue 12, eleventh session").
//! Only the layout changes, never the code. Names no longer in the build (after a dependency or
//! compiler update) are skipped without a warning; `bench/run.sh` reports how many still match.
//! `JIKIMI_LINK_ORDER=0` links without it, as does a linker other than the toolchain's `rust-lld`.
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
    // rust-lld is the default linker of this target since Rust 1.90; a linker chosen by the
    // builder (a `linker` setting, `-Clinker-features=-lld`, `-fuse-ld=…`) may not know the option.
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let own_linker =
        var("RUSTC_LINKER").is_empty() && !flags.contains("linker") && !flags.contains("fuse-ld");
    if var("PROFILE") != "release"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || var("JIKIMI_LINK_ORDER") == "0"
        || !own_linker
    {
        return;
    }
    let file = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("link-order.txt");
    if file.is_file() {
        println!(
            "cargo::rustc-link-arg-bin=jikimi=-Wl,--symbol-ordering-file={}",
            file.display()
        );
        println!("cargo::rustc-link-arg-bin=jikimi=-Wl,--no-warn-symbol-ordering");
    }
}
