//! Limits on sign-in and reset attempts, per account and per client address (governor).
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
    PasswordReset,
}

pub struct Limits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<String>,
}

/// Refused: try again after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl Default for Limits {
    fn default() -> Self {
        // 10 tries at once per account, then one every 90 s (40 an hour);
        // 30 at once per address, then one every 2 s.
        let per_account = Quota::with_period(Duration::from_secs(90))
            .expect("a positive period")
            .allow_burst(NonZeroU32::new(10).expect("non-zero"));
        let per_address = Quota::with_period(Duration::from_secs(2))
            .expect("a positive period")
            .allow_burst(NonZeroU32::new(30).expect("non-zero"));
        Self {
            per_account: DefaultKeyedRateLimiter::keyed(per_account),
            per_address: DefaultKeyedRateLimiter::keyed(per_address),
        }
    }
}

impl Limits {
    /// Counts one attempt against the account (its email) and the client address.
    pub fn check(&self, attempt: Attempt, email: &str, address: &str) -> Result<(), RetryAfter> {
        let kind = match attempt {
            Attempt::SignIn => "sign-in",
            Attempt::PasswordReset => "reset",
        };
        let now = DefaultClock::default().now();
        for (limiter, key) in [
            (&self.per_address, format!("{kind}:{address}")),
            (&self.per_account, format!("{kind}:{email}")),
        ] {
            if let Err(not_until) = limiter.check_key(&key) {
                let wait = not_until.wait_time_from(now);
                return Err(RetryAfter(wait.max(Duration::from_secs(1))));
            }
        }
        Ok(())
    }

    /// Forgets keys whose quota is full again, so memory stays bounded.
    pub fn tidy(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}
