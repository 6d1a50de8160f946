//! Argon2id hashes per second with jikimi's parameters (m=19456 KiB, t=2, p=1), on 1 thread and on
//! T threads at once (default: 1, 2 and nproc when it is larger).
//!
//! Usage: argon2-rate [HASHES_PER_THREAD] [THREADS...]
//! Output: one line per thread count, `argon2id threads=T hashes=N secs=S rate=R/s ms_per_hash_per_thread=M`.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::time::Instant;

const M_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon() -> Argon2<'static> {
    let params = Params::new(M_KIB, T_COST, P_COST, None).expect("valid params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `n` distinct synthetic passwords with distinct 16-byte salts; returns a checksum so the
/// work cannot be optimised away.
fn hash_n(thread: usize, n: usize) -> usize {
    let a = argon();
    let mut total = 0;
    for i in 0..n {
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&(i as u64).to_le_bytes());
        salt[8..].copy_from_slice(&(thread as u64).to_le_bytes());
        let salt = SaltString::encode_b64(&salt).expect("salt");
        let pw = format!("Bench-{thread}-{i}-pw!");
        let h = a.hash_password(pw.as_bytes(), &salt).expect("hash");
        assert!(h.to_string().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        total += h.hash.map_or(0, |o| o.len());
    }
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let per_thread: usize = args.next().map_or(40, |s| s.parse().expect("HASHES_PER_THREAD"));
    let mut counts: Vec<usize> = args.map(|s| s.parse().expect("THREADS")).collect();
    if counts.is_empty() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        counts = vec![1, 2];
        if cpus > 2 {
            counts.push(cpus);
        }
    }
    // Warm-up: page in the 19 MiB working memory once.
    hash_n(usize::MAX, 2);
    for threads in counts {
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| std::thread::spawn(move || hash_n(t, per_thread)))
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        let secs = start.elapsed().as_secs_f64();
        let hashes = threads * per_thread;
        let rate = hashes as f64 / secs;
        println!(
            "argon2id threads={threads} hashes={hashes} secs={secs:.2} rate={rate:.1}/s ms_per_hash_per_thread={:.1}",
            1000.0 * threads as f64 / rate
        );
    }
}
