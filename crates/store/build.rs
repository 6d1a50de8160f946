//! Turns on `cfg(jikimi_pg)` when `JIKIMI_TEST_POSTGRES_URL` is set at build time, so that the
//! PostgreSQL half of the test suite runs; without it that half is compiled as ignored (see
//! `jikimi_testkit::backend_tests!`).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(jikimi_pg)");
    println!("cargo::rerun-if-env-changed=JIKIMI_TEST_POSTGRES_URL");
    if std::env::var_os("JIKIMI_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=jikimi_pg");
    }
}
