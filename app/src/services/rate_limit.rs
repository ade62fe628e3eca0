//! Limits on sign-in, sign-up and reset attempts, per account and per client address
//! (governor).
//! Each instance counts on its own: behind a load balancer with n instances, an attacker
//! gets at most n times the quota, which still stops guessing at scale.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Which attempts a limit counts.
#[derive(Clone, Copy, Debug)]
pub enum Attempt {
    SignIn,
    /// Signing up (each hashes a password and sends a mail, perhaps to a stranger).
    SignUp,
    PasswordReset,
    /// Starting a provider sign-in (counted per address only: there is no account yet).
    ProviderSignIn,
}

impl Attempt {
    fn kind(self) -> &'static str {
        match self {
            Attempt::SignIn => "sign-in",
            Attempt::SignUp => "sign-up",
            Attempt::PasswordReset => "reset",
            Attempt::ProviderSignIn => "provider",
        }
    }
}

pub struct Limits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<String>,
}

/// Refused: try again after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

/// 10 tries at once per account, then one every 90 s (40 an hour).
pub fn per_account_quota() -> Quota {
    Quota::with_period(Duration::from_secs(90))
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(10).expect("non-zero"))
}

/// 30 tries at once per client address, over any accounts, then one every 2 s.
pub fn per_address_quota() -> Quota {
    Quota::with_period(Duration::from_secs(2))
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(30).expect("non-zero"))
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(per_account_quota(), per_address_quota())
    }
}

impl Limits {
    pub fn new(per_account: Quota, per_address: Quota) -> Self {
        Self {
            per_account: DefaultKeyedRateLimiter::keyed(per_account),
            per_address: DefaultKeyedRateLimiter::keyed(per_address),
        }
    }

    /// Counts one attempt against the account (its email) and the client address.
    pub fn check(&self, attempt: Attempt, email: &str, address: &str) -> Result<(), RetryAfter> {
        let kind = attempt.kind();
        Self::count(&self.per_address, format!("{kind}:{address}"))?;
        Self::count(&self.per_account, format!("{kind}:{email}"))
    }

    /// Counts one attempt against the client address only.
    pub fn check_address(&self, attempt: Attempt, address: &str) -> Result<(), RetryAfter> {
        Self::count(&self.per_address, format!("{}:{address}", attempt.kind()))
    }

    fn count(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), RetryAfter> {
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            RetryAfter(wait.max(Duration::from_secs(1)))
        })
    }

    /// Forgets keys whose quota is full again, so memory stays bounded.
    pub fn tidy(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}
