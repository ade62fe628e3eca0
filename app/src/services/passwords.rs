//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), computed on
//! threads of its own, as many as may hash at once, so a flood of sign-ins queues instead of
//! taking the cores from page rendering: those threads run at a lower priority (nice 10) than
//! the ones that serve pages, and each keeps its 19 MiB of argon2 memory for the next hash,
//! so the memory hashing takes is bounded by the hashing concurrency, whatever the flood.
//! The queue is bounded too, in length and in time: past that the answer is "busy" at once,
//! which a client can retry, rather than a wait that ties up a request (and whatever it
//! holds) without end. Hashes Better Auth wrote (scrypt) still verify, and are replaced by
//! argon2id at the next sign-in.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

use crate::telemetry;

/// OWASP's argon2id: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn params() -> Params {
    Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

thread_local! {
    /// A hashing thread's argon2 memory, allocated at its first hash and kept.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2id with the current parameters on this thread's kept memory: the raw hash.
fn argon2_raw(password: &[u8], salt: &[u8]) -> Result<[u8; 32], argon2::Error> {
    let mut out = [0u8; 32];
    BLOCKS.with_borrow_mut(|blocks| {
        blocks.resize(params().block_count(), Block::default());
        argon2().hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..])
    })?;
    Ok(out)
}

/// A PHC string for `password` under the current parameters and a new salt.
fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let mut buffer = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut buffer)
        .expect("a generated salt decodes");
    let out = argon2_raw(password.as_bytes(), salt_bytes).expect("argon2 hashes any password");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).expect("the parameters print"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("32 bytes is an argon2 output")),
    }
    .to_string()
}

/// Whether a parsed hash is argon2id under the current parameters (32 bytes of output).
fn is_current(parsed: &PasswordHash<'_>) -> bool {
    parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(Version::V0x13.into())
        && parsed.hash.is_some_and(|hash| hash.len() == 32)
        && Params::try_from(parsed)
            .is_ok_and(|p| p.m_cost() == MEMORY_KIB && p.t_cost() == PASSES && p.p_cost() == LANES)
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts the hashing threads; they end when the returned queue is dropped.
fn start_hashers(count: usize) -> mpsc::Sender<Job> {
    let (queue, jobs) = mpsc::channel::<Job>();
    let jobs = Arc::new(Mutex::new(jobs));
    for n in 0..count {
        let jobs = jobs.clone();
        std::thread::Builder::new()
            .name(format!("password-hash-{n}"))
            .spawn(move || {
                lower_this_threads_priority();
                loop {
                    let next = jobs.lock().map(|jobs| jobs.recv());
                    let Ok(Ok(job)) = next else { return };
                    // A job that panics fails its own request, never the thread.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .expect("a hashing thread starts");
    }
    queue
}

/// nice 10 for the calling thread (on Linux each thread has its own): when pages and hashes
/// both want a core, pages get most of it.
fn lower_this_threads_priority() {
    // SAFETY: setpriority only reads its arguments; `0` names the calling thread.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
    if result != 0 {
        tracing::debug!("could not lower the hashing thread's priority");
    }
}

/// What checking a password found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right, but stored in an older form: store a new hash.
    YesRehash,
}

impl Verified {
    pub fn is_match(self) -> bool {
        self != Verified::No
    }
}

/// How long a hash may wait for its turn.
pub const MAX_WAIT: Duration = Duration::from_secs(3);
/// How many may wait, per hash computed at once.
const WAITING_PER_SLOT: usize = 16;

/// No turn came: the queue was full, or the wait longer than [`MAX_WAIT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// Hashes and verifies passwords, at most `limit` at once, with at most
/// `limit * WAITING_PER_SLOT` waiting.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    /// The hashing threads' work; holding a permit means one of them is free.
    queue: mpsc::Sender<Job>,
}

/// One place in the queue, given back however the wait ends (a dropped request too).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let left = self.0.fetch_sub(1, Ordering::SeqCst) - 1;
        telemetry::hash_waiting(left);
    }
}

impl Passwords {
    pub fn new(limit: usize) -> Self {
        // Made now, so the first sign-in for an unknown email is not the slow one.
        dummy_hash();
        let limit = limit.max(1);
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            waiting: Arc::default(),
            max_waiting: limit * WAITING_PER_SLOT,
            queue: start_hashers(limit),
        }
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: &str) -> Result<String, Busy> {
        let password = password.to_owned();
        self.run(move || hash_blocking(&password)).await
    }

    /// Checks `password` against a stored hash; `None` stands for "no such account", and costs
    /// the same time as a real check, so the answer's timing tells nothing.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> Result<Verified, Busy> {
        let stored = stored.unwrap_or_else(|| dummy_hash()).to_owned();
        let is_real = stored != dummy_hash();
        let password = password.to_owned();
        let verified = self
            .run(move || verify_blocking(&stored, &password))
            .await?;
        Ok(if is_real { verified } else { Verified::No })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let _permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                let started = std::time::Instant::now();
                let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
                if waiting >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    telemetry::hash_waited(Duration::ZERO, true);
                    return Err(Busy);
                }
                telemetry::hash_waiting(waiting + 1);
                let _place = Waiting(&self.waiting);
                let turn = tokio::time::timeout(MAX_WAIT, self.permits.acquire()).await;
                telemetry::hash_waited(started.elapsed(), turn.is_err());
                turn.map_err(|_| Busy)?
                    .expect("the semaphore is never closed")
            }
        };
        let (done, result) = tokio::sync::oneshot::channel();
        self.queue
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .expect("the hashing threads run as long as Passwords does");
        Ok(result.await.expect("password hashing does not panic"))
    }
}

fn verify_blocking(stored: &str, password: &str) -> Verified {
    if stored.starts_with("$argon2") {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Verified::No;
        };
        if !is_current(&parsed) {
            // Older parameters (an adopted database's): checked once, then replaced.
            let right = argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            return if right {
                Verified::YesRehash
            } else {
                Verified::No
            };
        }
        let mut buffer = [0u8; 64];
        let computed = parsed
            .salt
            .and_then(|salt| salt.decode_b64(&mut buffer).ok())
            .and_then(|salt| argon2_raw(password.as_bytes(), salt).ok());
        // Output compares in constant time.
        let right = computed
            .and_then(|raw| Output::new(&raw).ok())
            .is_some_and(|computed| Some(computed) == parsed.hash);
        return if right { Verified::Yes } else { Verified::No };
    }
    if better_auth_scrypt_matches(stored, password) {
        return Verified::YesRehash;
    }
    Verified::No
}

/// Better Auth's format: `salt:key` in hex, where key = scrypt(NFKC(password), salt as
/// text, N = 16384, r = 16, p = 1, 64 bytes).
fn better_auth_scrypt_matches(stored: &str, password: &str) -> bool {
    let Some((salt, key)) = stored.split_once(':') else {
        return false;
    };
    let Ok(expected) = hex::decode(key) else {
        return false;
    };
    if expected.len() != 64 {
        return false;
    }
    let params = scrypt::Params::new(14, 16, 1, 64).expect("valid scrypt parameters");
    let normalized: String = password.nfkc().collect();
    let mut derived = [0u8; 64];
    if scrypt::scrypt(
        normalized.as_bytes(),
        salt.as_bytes(),
        &params,
        &mut derived,
    )
    .is_err()
    {
        return false;
    }
    derived.ct_eq(expected.as_slice()).into()
}

/// A hash of a random password nobody knows, to check unknown emails against.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // Made where `Passwords::new` runs, not on a hashing thread: argon2 allocates here
        // and frees at once, keeping no memory on that thread.
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(super::tokens::new_token().as_bytes(), &salt)
            .expect("argon2 hashes any password")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_with_owasp_parameters_round_trips() {
        let passwords = Passwords::new(2);
        let hash = passwords
            .hash("correct horse battery staple")
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            passwords
                .verify(Some(&hash), "correct horse battery staple")
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            passwords
                .verify(Some(&hash), "Correct horse battery staple")
                .await
                .unwrap(),
            Verified::No
        );
        assert_eq!(
            passwords
                .verify(None, "correct horse battery staple")
                .await
                .unwrap(),
            Verified::No
        );
        assert_eq!(
            passwords.verify(Some("garbage"), "x").await.unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn hashes_on_kept_memory_are_the_argon2_crates_own() {
        let passwords = Passwords::new(1);
        let ours = passwords.hash("kept memory").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon2().verify_password(b"kept memory", &parsed).is_ok());
        assert!(argon2().verify_password(b"other", &parsed).is_err());
        let theirs = argon2()
            .hash_password(b"kept memory", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert_eq!(
            passwords
                .verify(Some(&theirs), "kept memory")
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            passwords.verify(Some(&theirs), "other").await.unwrap(),
            Verified::No
        );
    }

    /// Made by Better Auth 1.7.25 itself: `hashPassword` from `better-auth/crypto`.
    const BETTER_AUTH_HASH: &str = "9ed9f68f365a11efe27b16ffd79320ce:16ac8489d29a03c3d30ae146f0845e588c3f0e2dd49ee9afe9d8584808289deba33e02cd94c3b35352b8271137c570f5b23b63ea44c2f7a7b8b0ad14fa98a333";
    /// The same, for a password that NFKC changes (the ﬁ ligature becomes "fi").
    const BETTER_AUTH_UNICODE_HASH: &str = "5c05f22615298dc0c5d24427faf7302d:29a6e4918816da0c0b20bb8a44332ff7c83d7464cd2930c3563283a90735b3a1b7bed644b3dcbb8a3d94250d44d226ab5c66f7e8fdad4162a89940892b0cfc4a";

    #[tokio::test]
    async fn better_auth_scrypt_hashes_verify_and_ask_for_a_rehash() {
        let passwords = Passwords::new(2);
        let verify = |hash: &'static str, password: &'static str| {
            let passwords = passwords.clone();
            async move { passwords.verify(Some(hash), password).await.unwrap() }
        };
        assert_eq!(
            verify(BETTER_AUTH_HASH, "correct horse battery staple").await,
            Verified::YesRehash
        );
        assert_eq!(
            verify(BETTER_AUTH_HASH, "correct horse battery stapler").await,
            Verified::No
        );
        assert_eq!(
            verify(BETTER_AUTH_UNICODE_HASH, "Ünïcödé pässwörd ﬁ").await,
            Verified::YesRehash
        );
        assert_eq!(
            verify(BETTER_AUTH_UNICODE_HASH, "Ünïcödé pässwörd fi").await,
            Verified::YesRehash
        );
        assert_eq!(verify("zz:zz", "x").await, Verified::No);
        assert_eq!(
            verify("9ed9f68f365a11efe27b16ffd79320ce:16ac", "x").await,
            Verified::No
        );
    }

    #[tokio::test]
    async fn weaker_argon2_hashes_verify_and_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"hunter22", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        let passwords = Passwords::new(1);
        assert_eq!(
            passwords.verify(Some(&weak), "hunter22").await.unwrap(),
            Verified::YesRehash
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_at_once() {
        let passwords = Passwords::new(1);
        let slow = || std::thread::sleep(std::time::Duration::from_millis(400));
        // One computing, sixteen waiting: the queue is full.
        let mut queued = Vec::new();
        for _ in 0..=WAITING_PER_SLOT {
            let passwords = passwords.clone();
            queued.push(tokio::spawn(async move { passwords.run(slow).await }));
        }
        while passwords.waiting.load(Ordering::SeqCst) < WAITING_PER_SLOT {
            tokio::task::yield_now().await;
        }
        let started = std::time::Instant::now();
        assert_eq!(passwords.run(|| ()).await, Err(Busy));
        assert!(
            started.elapsed() < MAX_WAIT / 3,
            "at once, not after a wait"
        );
        // Those in the queue get their turn (within MAX_WAIT: 17 × 0.4 s would not), or are
        // told busy; and every place is given back.
        let mut outcomes = Vec::new();
        for task in queued {
            outcomes.push(task.await.unwrap());
        }
        assert!(outcomes.contains(&Ok(())));
        assert!(outcomes.contains(&Err(Busy)), "waits are bounded in time");
        assert_eq!(passwords.waiting.load(Ordering::SeqCst), 0);
    }
}
