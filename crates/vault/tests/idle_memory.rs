//! The hashing pool gives its working memory back to the kernel when idle — every time, not only
//! the first (issue 12: peak memory). Its own test binary, so no other test's allocations move
//! this process's resident memory while it is read. It runs on the allocator the `jikimi` binary
//! runs on, with the same settings (`crates/jikimi/src/memory.rs`, `.cargo/config.toml`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use jikimi_vault::{HashPool, PasswordHasher, Revealed};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A field of /proc/self/status in KiB (Linux).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Anonymous resident memory of this process, in KiB.
fn rss_anon_kib() -> u64 {
    status_kib("RssAnon")
}

/// Starts the peak resident memory (`VmHWM`) afresh from the current one (proc(5), clear_refs).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// Waits (up to a minute) until resident memory is within `slack` KiB of `base`.
async fn settles_to(base: u64, slack: u64) -> u64 {
    let mut now = rss_anon_kib();
    for _ in 0..600 {
        if now <= base + slack {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = rss_anon_kib();
    }
    now
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_pool_gives_its_working_memory_back_every_time() {
    // The OWASP parameters: 19 MiB a thread.
    let pool = HashPool::with_idle(
        PasswordHasher::owasp().unwrap(),
        1,
        Duration::from_millis(50),
    )
    .unwrap();
    let base = rss_anon_kib();
    const MIB: u64 = 1024;
    for round in 1..=3 {
        reset_peak();
        let before = status_kib("VmHWM");
        let stored = pool
            .hash(Revealed::new(format!("pass word {round}")))
            .await
            .unwrap();
        let busy = status_kib("VmHWM");
        assert!(
            busy >= before + 15 * MIB,
            "round {round}: the 19 MiB working memory was resident while in use (peak {before} → {busy} KiB)"
        );
        let idle = settles_to(base, 4 * MIB).await;
        assert!(
            idle <= base + 4 * MIB,
            "round {round}: given back when idle ({base} → {busy} → {idle} KiB)"
        );
        // A check maps the memory again, and it goes back again.
        assert!(
            pool.verify(Revealed::new(format!("pass word {round}")), stored)
                .await
                .unwrap()
                .ok
        );
        let idle = settles_to(base, 4 * MIB).await;
        assert!(
            idle <= base + 4 * MIB,
            "round {round}: given back after the check ({base} → {idle} KiB)"
        );
    }
}
