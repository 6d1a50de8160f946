//! Argon2id password hashing at the OWASP parameters, with re-hash detection, and [`HashPool`]:
//! the fixed set of threads that computes every hash of a running service, each thread in one
//! working memory reused from hash to hash and given back after a second without work.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordVerifier, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::{Revealed, VaultError};

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheck {
    pub ok: bool,
    /// The stored hash was made with other parameters; store a fresh hash after a good login.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords with one set of Argon2id parameters. Its methods compute on the
/// calling thread in a working memory of their own (`m_cost` KiB, allocated per call); a service
/// hands it to a [`HashPool`], which reuses one working memory per thread.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A PHC string with these parameters, a random salt and a random output, verified against
    /// when the login ID is unknown: the check costs one full Argon2id run, like a real one, and
    /// never succeeds. No hash is computed to make it.
    decoy: String,
}

impl PasswordHasher {
    /// OWASP's recommendation for Argon2id: m = 19456 KiB, t = 2, p = 1.
    pub const OWASP: (u32, u32, u32) = (19_456, 2, 1);

    pub fn owasp() -> Result<Self, VaultError> {
        let (m, t, p) = Self::OWASP;
        Self::with_params(m, t, p)
    }

    pub fn with_params(m_kib: u32, t: u32, p: u32) -> Result<Self, VaultError> {
        let params = Params::new(m_kib, t, p, None).map_err(password_error)?;
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(password_error)?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        OsRng.fill_bytes(&mut output);
        let output = Output::new(&output).map_err(password_error)?;
        let decoy = phc(&params, salt.as_salt(), output)?;
        Ok(Self { params, decoy })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh 128-bit salt.
    pub fn hash(&self, password: &str) -> Result<String, VaultError> {
        self.hash_in(password, &mut self.memory())
    }

    pub fn verify(&self, password: &str, stored: &str) -> PasswordCheck {
        self.verify_in(password, stored, &mut self.memory())
    }

    /// Spends the time of one verification and answers "no": for unknown login IDs.
    pub fn verify_decoy(&self, password: &str) -> PasswordCheck {
        self.verify_decoy_in(password, &mut self.memory())
    }

    /// A working memory sized for these parameters (allocated when first used).
    fn memory(&self) -> Memory {
        Memory::for_params(&self.params)
    }

    fn hash_in(&self, password: &str, memory: &mut Memory) -> Result<String, VaultError> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        self.hash_with_salt(password, &salt, memory)
    }

    /// What [`argon2::password_hash::PasswordHasher::hash_password`] returns for this salt,
    /// computed in `memory`.
    fn hash_with_salt(
        &self,
        password: &str,
        salt: &[u8],
        memory: &mut Memory,
    ) -> Result<String, VaultError> {
        let salt = SaltString::encode_b64(salt).map_err(password_error)?;
        let argon = self.argon();
        let len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let blocks = memory
            .blocks(self.params.block_count())
            .ok_or_else(|| VaultError::Password("working memory too small".into()))?;
        let output = compute(&argon, password.as_bytes(), salt.as_salt(), len, blocks)
            .map_err(password_error)?;
        phc(&self.params, salt.as_salt(), output)
    }

    fn verify_in(&self, password: &str, stored: &str, memory: &mut Memory) -> PasswordCheck {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return PasswordCheck {
                ok: false,
                needs_rehash: true,
            };
        };
        let ok = self.matches(password.as_bytes(), &parsed, memory);
        let same_params = parsed.algorithm == argon2::ARGON2ID_IDENT
            && Params::try_from(&parsed).is_ok_and(|p| {
                p.m_cost() == self.params.m_cost()
                    && p.t_cost() == self.params.t_cost()
                    && p.p_cost() == self.params.p_cost()
            });
        PasswordCheck {
            ok,
            needs_rehash: ok && !same_params,
        }
    }

    fn verify_decoy_in(&self, password: &str, memory: &mut Memory) -> PasswordCheck {
        let _ = self.verify_in(password, &self.decoy, memory);
        PasswordCheck {
            ok: false,
            needs_rehash: false,
        }
    }

    /// The argon2 crate's `verify_password` (the stored hash's own algorithm, version, parameters
    /// and salt; outputs compared in constant time), computed in `memory` when the stored
    /// parameters fit in it, else by the crate in a memory of its own.
    fn matches(&self, password: &[u8], parsed: &PasswordHash<'_>, memory: &mut Memory) -> bool {
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let (Ok(params), Ok(algorithm), Ok(version)) = (
            Params::try_from(parsed),
            Algorithm::try_from(parsed.algorithm),
            parsed.version.map(Version::try_from).transpose(),
        ) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version.unwrap_or_default(), params);
        match memory.blocks(argon.params().block_count()) {
            // `Output`'s `==` is constant-time.
            Some(blocks) => compute(&argon, password, salt, expected.len(), blocks)
                .is_ok_and(|computed| computed == expected),
            None => self.argon().verify_password(password, parsed).is_ok(),
        }
    }
}

fn password_error(e: impl std::fmt::Display) -> VaultError {
    VaultError::Password(e.to_string())
}

/// Argon2 of `password` with `salt` into an output of `len` bytes, in `blocks`.
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    len: usize,
    blocks: &mut [Block],
) -> argon2::password_hash::Result<Output> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    Output::init_with(len, |out| {
        Ok(argon.hash_password_into_with_memory(password, salt, out, &mut *blocks)?)
    })
}

/// The PHC string of an Argon2id v19 hash, in the form the argon2 crate writes.
fn phc(params: &Params, salt: Salt<'_>, output: Output) -> Result<String, VaultError> {
    Ok(PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(password_error)?,
        salt: Some(salt),
        hash: Some(output),
    }
    .to_string())
}

/// Blocks reserved at least for a working memory: 32 MiB and one block, above glibc's largest
/// dynamic `mmap` threshold (see [`Memory::blocks`]).
const OWN_MAPPING_BLOCKS: usize = 32 * 1024 + 1;

/// Argon2 working memory: at most `capacity` blocks of 1 KiB, allocated when first needed and
/// then kept until [`Memory::release`] (a pool thread releases its one when idle).
struct Memory {
    capacity: usize,
    blocks: Vec<Block>,
}

impl Memory {
    fn for_params(params: &Params) -> Self {
        Self {
            capacity: params.block_count(),
            blocks: Vec::new(),
        }
    }

    /// The first `count` blocks, or `None` when `count` exceeds the capacity.
    fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if count > self.capacity {
            return None;
        }
        if self.blocks.len() < self.capacity {
            // Reserve more than glibc's largest dynamic `mmap` threshold, so the blocks are
            // always their own mapping there too and `release` always gives the pages back
            // (jemalloc, the `jikimi` binary's allocator, needs no such care): glibc raises its
            // threshold to the size of a freed mapping up to 32 MiB
            // (`DEFAULT_MMAP_THRESHOLD_MAX`, mallopt(3)), after which a second 19 MiB block
            // would come from the heap and stay there when freed. Only the blocks used are
            // written, so only they become resident.
            let mut blocks = Vec::with_capacity(self.capacity.max(OWN_MAPPING_BLOCKS));
            blocks.resize(self.capacity, Block::default());
            self.blocks = blocks;
        }
        self.blocks.get_mut(..count)
    }

    /// Whether the blocks are allocated.
    fn held(&self) -> bool {
        !self.blocks.is_empty()
    }

    /// Gives the blocks back to the allocator. A block this size is its own `mmap` in glibc's
    /// allocator, and in jemalloc (the `jikimi` binary's, `crates/jikimi/src/memory.rs`) it is
    /// above the `oversize_threshold` (8 MiB), whose arena purges freed pages at once; either way
    /// freeing it returns the pages to the kernel, which zeroes them before any other use: the
    /// last hash's working state does not outlive the release.
    fn release(&mut self) {
        self.blocks = Vec::new();
    }
}

/// A job for a pool thread: it runs with the pool's hasher and the thread's working memory.
type Job = Box<dyn FnOnce(&PasswordHasher, &mut Memory) + Send>;

/// The threads that compute every password hash of a running service: a fixed number of them
/// (one per core by default), each with one Argon2 working memory (`m_cost` KiB, 19 MiB at the
/// OWASP parameters) allocated at its first job and reused for every later one, so Argon2's
/// memory stays at threads × `m_cost` however many requests arrive. A thread that has had no job
/// for [`HashPool::IDLE`] gives its memory back, so a service between logins holds none of it.
/// Requests wait in a queue (their async tasks await the answer); a job whose requester has gone
/// by the time a thread takes it is skipped. Dropping the pool ends the threads once the queue is
/// empty.
#[derive(Debug)]
pub struct HashPool {
    jobs: flume::Sender<Job>,
    threads: usize,
}

impl HashPool {
    /// One thread per core (`std::thread::available_parallelism`).
    pub fn start(hasher: PasswordHasher) -> Result<Self, VaultError> {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::with_threads(hasher, cores)
    }

    /// How long a thread keeps its working memory without a job: long enough that a burst of
    /// logins reuses it, short enough that a quiet service holds none.
    pub const IDLE: Duration = Duration::from_secs(1);

    /// `threads` threads (at least one).
    pub fn with_threads(hasher: PasswordHasher, threads: usize) -> Result<Self, VaultError> {
        Self::with_idle(hasher, threads, Self::IDLE)
    }

    /// `threads` threads (at least one) that give their working memory back after `idle`
    /// without a job.
    pub fn with_idle(
        hasher: PasswordHasher,
        threads: usize,
        idle: Duration,
    ) -> Result<Self, VaultError> {
        let threads = threads.max(1);
        let (jobs, queue) = flume::unbounded::<Job>();
        let hasher = Arc::new(hasher);
        for i in 0..threads {
            let (queue, hasher) = (queue.clone(), Arc::clone(&hasher));
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&hasher, &queue, idle))
                .map_err(|e| VaultError::Password(format!("no hashing thread: {e}")))?;
        }
        Ok(Self { jobs, threads })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// [`PasswordHasher::hash`] on a pool thread.
    pub async fn hash(&self, password: Revealed) -> Result<String, VaultError> {
        self.run(move |hasher, memory| hasher.hash_in(password.expose(), memory))
            .await?
    }

    /// [`PasswordHasher::verify`] on a pool thread.
    pub async fn verify(
        &self,
        password: Revealed,
        stored: String,
    ) -> Result<PasswordCheck, VaultError> {
        self.run(move |hasher, memory| hasher.verify_in(password.expose(), &stored, memory))
            .await
    }

    /// [`PasswordHasher::verify_decoy`] on a pool thread.
    pub async fn verify_decoy(&self, password: Revealed) -> Result<PasswordCheck, VaultError> {
        self.run(move |hasher, memory| hasher.verify_decoy_in(password.expose(), memory))
            .await
    }

    /// Queues `f` and waits for its answer. An error only if the pool's threads are gone.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PasswordHasher, &mut Memory) -> T + Send + 'static,
    ) -> Result<T, VaultError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |hasher, memory| {
            if !reply.is_closed() {
                // The requester may stop waiting meanwhile; then nobody needs the answer.
                let _ = reply.send(f(hasher, memory));
            }
        });
        let stopped = || VaultError::Password("the password hashing threads have stopped".into());
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }
}

/// A pool thread: takes jobs until every sender is gone, in the same working memory while jobs
/// keep coming; after `idle` without one it gives the memory back and waits without a timeout.
fn work(hasher: &PasswordHasher, queue: &flume::Receiver<Job>, idle: Duration) {
    let mut memory = hasher.memory();
    loop {
        let next = if memory.held() {
            queue.recv_timeout(idle)
        } else {
            queue
                .recv()
                .map_err(|flume::RecvError::Disconnected| flume::RecvTimeoutError::Disconnected)
        };
        match next {
            Ok(job) => {
                // A job that panics (a bug in the hashing code) fails its own request — its
                // answer channel is dropped — and the thread goes on with a fresh memory. A
                // thread that died instead could leave jobs queued that nobody would answer.
                let ran = std::panic::catch_unwind(AssertUnwindSafe(|| job(hasher, &mut memory)));
                if ran.is_err() {
                    memory.release();
                }
            }
            Err(flume::RecvTimeoutError::Timeout) => memory.release(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    use argon2::password_hash::PasswordHasher as _;

    use super::*;

    fn pw(s: &str) -> Revealed {
        Revealed::new(s.to_owned())
    }

    fn crate_argon(m: u32, t: u32, p: u32) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(m, t, p, None).unwrap(),
        )
    }

    #[test]
    fn owasp_hash_verifies_and_records_parameters() {
        let h = PasswordHasher::owasp().unwrap();
        let stored = h.hash("correct horse 42").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            h.verify("correct horse 42", &stored),
            PasswordCheck {
                ok: true,
                needs_rehash: false
            }
        );
        assert!(!h.verify("correct horse 43", &stored).ok);
        assert!(!h.verify_decoy("correct horse 42").ok);
        assert!(!h.verify("x", "not a phc string").ok);
    }

    #[test]
    fn changed_parameters_ask_for_rehash_only_after_a_good_password() {
        let old = PasswordHasher::with_params(8192, 1, 1).unwrap();
        let stored = old.hash("pass word 1").unwrap();
        let new = PasswordHasher::with_params(9216, 2, 1).unwrap();
        assert_eq!(
            new.verify("pass word 1", &stored),
            PasswordCheck {
                ok: true,
                needs_rehash: true
            }
        );
        assert_eq!(
            new.verify("wrong", &stored),
            PasswordCheck {
                ok: false,
                needs_rehash: false
            }
        );
    }

    #[test]
    fn the_decoy_is_a_hash_with_the_same_parameters_that_nothing_matches() {
        let h = PasswordHasher::owasp().unwrap();
        let decoy = PasswordHash::new(&h.decoy).unwrap();
        assert!(h.decoy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            decoy.hash.map(|o| o.len()),
            Some(Params::DEFAULT_OUTPUT_LEN)
        );
        assert_ne!(h.decoy, PasswordHasher::owasp().unwrap().decoy);
    }

    #[tokio::test]
    async fn pool_hash_matches_the_crate_for_a_fixed_salt() {
        const SALT: [u8; 16] = *b"fixed-salt-16-by";
        let (m, t, p) = PasswordHasher::OWASP;
        let expected = crate_argon(m, t, p)
            .hash_password(b"correct horse 42", &SaltString::encode_b64(&SALT).unwrap())
            .unwrap()
            .to_string();
        // One thread, so the second hash runs in the memory the first one left behind.
        let pool = HashPool::with_threads(PasswordHasher::owasp().unwrap(), 1).unwrap();
        for _ in 0..2 {
            let got = pool
                .run(|h, memory| h.hash_with_salt("correct horse 42", &SALT, memory))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(got, expected);
        }
        assert!(expected.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[tokio::test]
    async fn pool_and_crate_verify_each_other() {
        let (m, t, p) = PasswordHasher::OWASP;
        let pool = HashPool::with_threads(PasswordHasher::owasp().unwrap(), 1).unwrap();

        let by_pool = pool.hash(pw("pass word 1")).await.unwrap();
        let parsed = PasswordHash::new(&by_pool).unwrap();
        assert!(
            crate_argon(m, t, p)
                .verify_password(b"pass word 1", &parsed)
                .is_ok()
        );
        assert!(
            crate_argon(m, t, p)
                .verify_password(b"pass word 2", &parsed)
                .is_err()
        );

        let salt = SaltString::encode_b64(b"another salt 16b").unwrap();
        let by_crate = crate_argon(m, t, p)
            .hash_password(b"pass word 1", &salt)
            .unwrap()
            .to_string();
        let good = PasswordCheck {
            ok: true,
            needs_rehash: false,
        };
        assert_eq!(
            pool.verify(pw("pass word 1"), by_crate.clone())
                .await
                .unwrap(),
            good
        );
        assert!(!pool.verify(pw("pass word 2"), by_crate).await.unwrap().ok);
        // The pool's own hashes verify on the pool and on the caller's thread.
        assert_eq!(
            pool.verify(pw("pass word 1"), by_pool.clone())
                .await
                .unwrap(),
            good
        );
        assert_eq!(
            PasswordHasher::owasp()
                .unwrap()
                .verify("pass word 1", &by_pool),
            good
        );
    }

    #[tokio::test]
    async fn wrong_password_fails_and_old_params_ask_for_rehash() {
        let pool =
            HashPool::with_threads(PasswordHasher::with_params(9216, 2, 1).unwrap(), 1).unwrap();
        let rehash = PasswordCheck {
            ok: true,
            needs_rehash: true,
        };
        let no = PasswordCheck {
            ok: false,
            needs_rehash: false,
        };
        // Smaller old parameters: computed in the pool thread's memory. Larger ones do not fit
        // in it: verified by the crate in a memory of its own.
        for (m, t) in [(8192, 1), (16_384, 1)] {
            let stored = PasswordHasher::with_params(m, t, 1)
                .unwrap()
                .hash("pass word 1")
                .unwrap();
            assert_eq!(
                pool.verify(pw("pass word 1"), stored.clone())
                    .await
                    .unwrap(),
                rehash,
                "m={m}"
            );
            assert_eq!(pool.verify(pw("wrong"), stored).await.unwrap(), no, "m={m}");
        }
        let current = pool.hash(pw("pass word 1")).await.unwrap();
        assert!(current.starts_with("$argon2id$v=19$m=9216,t=2,p=1$"));
        assert_eq!(
            pool.verify(pw("pass word 1"), current).await.unwrap(),
            PasswordCheck {
                ok: true,
                needs_rehash: false
            }
        );
        assert_eq!(pool.verify_decoy(pw("pass word 1")).await.unwrap(), no);
        assert!(
            !pool
                .verify(pw("x"), "not a phc string".into())
                .await
                .unwrap()
                .ok
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_jobs_on_n_threads_all_answer() {
        let pool = Arc::new(
            HashPool::with_threads(PasswordHasher::with_params(1024, 1, 1).unwrap(), 2).unwrap(),
        );
        assert_eq!(pool.threads(), 2);
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    let stored = pool.hash(pw(&format!("password {i}"))).await.unwrap();
                    let right = pool
                        .verify(pw(&format!("password {i}")), stored.clone())
                        .await
                        .unwrap();
                    let wrong = pool
                        .verify(pw(&format!("password {}", i + 1)), stored)
                        .await
                        .unwrap();
                    let decoy = pool
                        .verify_decoy(pw(&format!("password {i}")))
                        .await
                        .unwrap();
                    (right.ok, wrong.ok, decoy.ok)
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), (true, false, false), "job {i}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_requester_left_is_skipped() {
        let pool = Arc::new(
            HashPool::with_threads(PasswordHasher::with_params(8, 1, 1).unwrap(), 1).unwrap(),
        );
        // Keep the one thread busy until released.
        let (started, is_started) = tokio::sync::oneshot::channel();
        let (release, released) = mpsc::channel::<()>();
        let busy = tokio::spawn({
            let pool = Arc::clone(&pool);
            async move {
                pool.run(move |_, _| {
                    let _ = started.send(());
                    let _ = released.recv();
                })
                .await
            }
        });
        is_started.await.unwrap();
        // Queue a job, then stop waiting for it.
        let ran = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        tokio::select! {
            biased;
            _ = pool.run(move |_, _| flag.store(true, Ordering::SeqCst)) => panic!("answered while the thread was busy"),
            () = std::future::ready(()) => {}
        }
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // One thread takes jobs in order: once this one answers, the abandoned one was taken.
        pool.run(|_, _| ()).await.unwrap();
        assert!(!ran.load(Ordering::SeqCst));
    }

    /// Whether the working memory of the thread that takes this job is allocated.
    async fn held(pool: &HashPool) -> bool {
        pool.run(|_, memory| memory.held()).await.unwrap()
    }

    /// The same for each of two threads: each job waits for the other, so one runs on each.
    async fn both_held(pool: &HashPool) -> (bool, bool) {
        let meet = Arc::new(std::sync::Barrier::new(2));
        let job = |meet: Arc<std::sync::Barrier>| {
            pool.run(move |_, memory| {
                let held = memory.held();
                meet.wait();
                held
            })
        };
        let (a, b) = tokio::join!(job(Arc::clone(&meet)), job(meet));
        (a.unwrap(), b.unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn working_memory_is_reused_then_given_back_when_idle() {
        let hasher = || PasswordHasher::with_params(1024, 1, 1).unwrap();
        // Never idle long enough: one thread, its memory kept from hash to hash.
        let busy = HashPool::with_idle(hasher(), 1, Duration::from_secs(3600)).unwrap();
        assert!(
            !held(&busy).await,
            "nothing allocated before the first hash"
        );
        let stored = busy.hash(pw("pass word 1")).await.unwrap();
        assert!(held(&busy).await, "kept after a hash");
        assert!(busy.verify(pw("pass word 1"), stored).await.unwrap().ok);
        assert!(held(&busy).await, "kept after a verification");

        // Two threads idle after 20 ms: both give their memory back, and hashing still works.
        let quiet = HashPool::with_idle(hasher(), 2, Duration::from_millis(20)).unwrap();
        let stored = quiet.hash(pw("pass word 2")).await.unwrap();
        let stored_too = quiet.hash(pw("pass word 3")).await.unwrap();
        let mut released = false;
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if both_held(&quiet).await == (false, false) {
                released = true;
                break;
            }
        }
        assert!(released, "both threads gave their memory back");
        assert!(quiet.verify(pw("pass word 2"), stored).await.unwrap().ok);
        assert!(
            quiet
                .verify(pw("pass word 3"), stored_too)
                .await
                .unwrap()
                .ok
        );
        // A new hash allocates again: asked inside the job that hashes, since between two jobs
        // a loaded machine may leave the thread idle past 20 ms (and it gives the memory back).
        let (hashed, held_after) = quiet
            .run(|hasher, memory| {
                let ok = hasher.hash_in("pass word 4", memory).is_ok();
                (ok, memory.held())
            })
            .await
            .unwrap();
        assert!(hashed && held_after, "allocated again for the hash");
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_the_pool_goes_on() {
        let pool =
            HashPool::with_threads(PasswordHasher::with_params(8, 1, 1).unwrap(), 1).unwrap();
        let died = pool.run(|_, _| panic!("a job that dies")).await;
        assert!(matches!(died, Err(VaultError::Password(_))));
        // The one thread is still there: later requests are answered, none hangs.
        let later = tokio::time::timeout(Duration::from_secs(60), pool.hash(pw("pass word 1")));
        let stored = later.await.expect("answered, not left queued").unwrap();
        assert!(pool.verify(pw("pass word 1"), stored).await.unwrap().ok);
    }
}
