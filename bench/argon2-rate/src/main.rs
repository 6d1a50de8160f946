//! Argon2id hashes per second with jikimi's parameters (m=19456 KiB, t=2, p=1), on 1 thread and on
//! T threads at once (default: 1, 2 and nproc when it is larger).
//!
//! Usage: argon2-rate [--reuse] [HASHES_PER_THREAD] [THREADS...]
//! Output: one line per thread count,
//! `argon2id threads=T hashes=N secs=S rate=R/s ms_per_hash_per_thread=M`.
//!
//! By default each hash allocates its own working memory (the crate's `hash_password`, as jikimi
//! did before its hashing pool). With `--reuse` each thread allocates one working memory and hashes
//! in it every time (`hash_password_into_with_memory`, as jikimi's `vault::HashPool` threads do);
//! its lines start with `argon2id-reuse` instead of `argon2id`. That rate is the stricter reference.

use argon2::password_hash::{Output, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::time::Instant;

const M_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon() -> Argon2<'static> {
    let params = Params::new(M_KIB, T_COST, P_COST, None).expect("valid params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The 16-byte salt and the password of hash `i` on `thread`.
fn inputs(thread: usize, i: usize) -> ([u8; 16], String) {
    let mut salt = [0u8; 16];
    salt[..8].copy_from_slice(&(i as u64).to_le_bytes());
    salt[8..].copy_from_slice(&(thread as u64).to_le_bytes());
    (salt, format!("Bench-{thread}-{i}-pw!"))
}

/// Hashes `n` distinct synthetic passwords with distinct 16-byte salts; returns a checksum so the
/// work cannot be optimised away.
fn hash_n(thread: usize, n: usize) -> usize {
    let a = argon();
    let mut total = 0;
    for i in 0..n {
        let (salt, pw) = inputs(thread, i);
        let salt = SaltString::encode_b64(&salt).expect("salt");
        let h = a.hash_password(pw.as_bytes(), &salt).expect("hash");
        assert!(h.to_string().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        total += h.hash.map_or(0, |o| o.len());
    }
    total
}

/// Like `hash_n`, in one working memory allocated once for the thread (the output is the same
/// hash; the PHC string is built as jikimi's pool builds it).
fn hash_n_reusing(thread: usize, n: usize) -> usize {
    let a = argon();
    let mut blocks = vec![Block::default(); a.params().block_count()];
    let mut total = 0;
    for i in 0..n {
        let (salt, pw) = inputs(thread, i);
        let salt = SaltString::encode_b64(&salt).expect("salt");
        let mut raw = [0u8; 64];
        let raw = salt.as_salt().decode_b64(&mut raw).expect("salt bytes");
        let out = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
            Ok(a.hash_password_into_with_memory(pw.as_bytes(), raw, out, &mut blocks)?)
        })
        .expect("hash");
        let phc = argon2::password_hash::PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: a.params().try_into().expect("params"),
            salt: Some(salt.as_salt()),
            hash: Some(out),
        };
        assert!(
            phc.to_string()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        total += out.len();
    }
    total
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let reuse = args.first().is_some_and(|a| a == "--reuse");
    if reuse {
        args.remove(0);
    }
    let (label, work): (&str, fn(usize, usize) -> usize) = if reuse {
        ("argon2id-reuse", hash_n_reusing)
    } else {
        ("argon2id", hash_n)
    };
    let mut args = args.into_iter();
    let per_thread: usize = args
        .next()
        .map_or(40, |s| s.parse().expect("HASHES_PER_THREAD"));
    let mut counts: Vec<usize> = args.map(|s| s.parse().expect("THREADS")).collect();
    if counts.is_empty() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        counts = vec![1, 2];
        if cpus > 2 {
            counts.push(cpus);
        }
    }
    // Warm-up: page in the 19 MiB working memory once.
    work(usize::MAX, 2);
    for threads in counts {
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| std::thread::spawn(move || work(t, per_thread)))
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        let secs = start.elapsed().as_secs_f64();
        let hashes = threads * per_thread;
        let rate = hashes as f64 / secs;
        println!(
            "{label} threads={threads} hashes={hashes} secs={secs:.2} rate={rate:.1}/s ms_per_hash_per_thread={:.1}",
            1000.0 * threads as f64 / rate
        );
    }
}
