//! The process's memory allocator: jemalloc, with `malloc` itself replaced so that SQLite's
//! allocations go to it too, and with the settings in `.cargo/config.toml` built in (one arena per
//! core; a background thread gives pages freed 0.3 s ago back to the kernel).
//!
//! glibc's allocator gives each thread that allocates an arena of its own and keeps the free memory
//! of each: after a load of reads and corrections the server held 10–15 MiB of free memory in the
//! SQLite connections' and Tokio workers' arenas, and a login burst then added the two hashing
//! threads' 2 × 19 MiB on top (bench/README.md, "Issue 12, fifteenth session"; ARCHITECTURE.md,
//! "Decisions").

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    /// The settings in `.cargo/config.toml` are in this build: a build from outside the workspace
    /// (where Cargo does not read that file) would have jemalloc's defaults, which keep freed
    /// pages for 10 s and never give them back while the process is idle.
    #[test]
    fn allocator_settings_are_built_in() -> tikv_jemalloc_ctl::Result<()> {
        let conf = tikv_jemalloc_ctl::config::malloc_conf::read()?;
        let settings: Vec<&str> = conf.trim_end_matches('\0').split(',').collect();
        for wanted in [
            "percpu_arena:percpu",
            "background_thread:true",
            "dirty_decay_ms:300",
            "muzzy_decay_ms:0",
            "tcache_max:4096",
        ] {
            assert!(settings.contains(&wanted), "{wanted} is not in {conf:?}");
        }
        assert!(tikv_jemalloc_ctl::opt::background_thread::read()?);
        Ok(())
    }

    /// This process's resident anonymous memory, in KiB.
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Memory freed in the middle of what is still in use goes back to the kernel while the
    /// process does nothing else: 32 MiB of 1 KiB values, one in 64 of them kept. glibc's
    /// allocator keeps free memory between chunks in use (only `malloc_trim` gives it back);
    /// jemalloc with its default settings keeps it too, until later allocations tick its clock
    /// (this test fails on such a build).
    #[test]
    fn freed_memory_leaves_the_resident_set() {
        const VALUES: usize = 32 * 1024;
        let mut values: Vec<Box<[u8; 1024]>> = Vec::with_capacity(VALUES);
        for i in 0..VALUES {
            // Each value's own byte pattern: every page is written.
            values.push(Box::new([u8::try_from(i % 251).unwrap_or(0); 1024]));
        }
        let full = rss_anon_kib();
        let kept: Vec<Box<[u8; 1024]>> = values.into_iter().step_by(64).collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut now = rss_anon_kib();
        while full.saturating_sub(now) < 16 * 1024 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            now = rss_anon_kib();
        }
        assert!(
            full.saturating_sub(now) >= 16 * 1024,
            "resident {full} KiB with 32 MiB in use, {now} KiB after freeing 31.5 MiB of it"
        );
        assert_eq!(kept.len(), VALUES / 64);
        assert!(
            kept.iter()
                .enumerate()
                .all(|(n, v)| usize::from(v[1023]) == n * 64 % 251)
        );
    }
}
