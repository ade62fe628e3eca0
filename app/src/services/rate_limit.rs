//! Limits on sign-in, sign-up and reset attempts, per account and per client address, and
//! on sign-ups overall. An IPv6 client counts by its /64: one host is usually given a whole
//! /64, so counting single addresses would give it 2^64 quotas.
//!
//! Every attempt is counted twice: first in this instance's memory (governor), which turns a
//! burst away without touching the database, then in PostgreSQL (`db::rate_limits`), which
//! every instance shares, so n instances behind a load balancer allow exactly what one
//! allows. Both count with the same quotas.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use diesel_async::AsyncPgConnection;

use super::{Refusal, Services};
use crate::db::rate_limits;

/// Which attempts a limit counts.
#[derive(Clone, Copy, Debug)]
pub enum Attempt {
    SignIn,
    /// Signing up (each hashes a password and sends a mail, perhaps to a stranger).
    SignUp,
    PasswordReset,
    /// Starting a provider sign-in (counted per address only: there is no account yet).
    ProviderSignIn,
    /// A code from an authenticator app, or a recovery code: counted before it is checked,
    /// and given back when it was right ([`count_second_factor`]).
    SecondFactor,
    /// Downloading one's data (each gathers every row about the person).
    DataExport,
    /// Asking to change one's email address (each mails two addresses, one perhaps a
    /// stranger's).
    EmailChange,
    /// An admin inviting (or inviting again): each sends mail to addresses the admin typed.
    /// Counted per admin, once for each form sent (a bulk one holds at most 100 addresses).
    Invite,
}

impl Attempt {
    fn kind(self) -> &'static str {
        match self {
            Attempt::SignIn => "sign-in",
            Attempt::SignUp => "sign-up",
            Attempt::PasswordReset => "reset",
            Attempt::ProviderSignIn => "provider",
            Attempt::SecondFactor => "second-factor",
            Attempt::DataExport => "data-export",
            Attempt::EmailChange => "email-change",
            Attempt::Invite => "invite",
        }
    }
}

pub struct Limits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<String>,
    /// Sign-ups from everyone together: each sends a mail, perhaps to a stranger, so many
    /// addresses together must not make Gatehouse a mail cannon.
    sign_ups: DefaultDirectRateLimiter,
    /// The same quotas, for the shared count.
    quotas: Quotas,
}

#[derive(Clone, Copy)]
struct Quotas {
    per_account: Quota,
    per_address: Quota,
    sign_ups: Quota,
}

/// Refused: try again after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

/// 10 tries at once per account, then one every 90 s (at most 50 in any hour).
pub fn per_account_quota() -> Quota {
    Quota::with_period(Duration::from_secs(90))
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(10).expect("non-zero"))
}

/// 5 wrong codes at once per account, then one a minute: a six-digit code has only a
/// million values.
pub fn second_factor_quota() -> Quota {
    Quota::with_period(Duration::from_secs(60))
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(5).expect("non-zero"))
}

/// 30 tries at once per client address, over any accounts, then one every 2 s.
pub fn per_address_quota() -> Quota {
    Quota::with_period(Duration::from_secs(2))
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(30).expect("non-zero"))
}

/// 60 sign-ups at once from everyone together, then one a second (3,600 an hour).
pub fn sign_up_quota() -> Quota {
    Quota::per_second(NonZeroU32::new(1).expect("non-zero"))
        .allow_burst(NonZeroU32::new(60).expect("non-zero"))
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(per_account_quota(), per_address_quota(), sign_up_quota())
    }
}

/// What an address counts as: an IPv6 address by its /64 (an IPv4 one mapped into IPv6 as
/// that IPv4 address), anything else as it is.
pub fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        _ => address.to_string(),
    }
}

impl Limits {
    pub fn new(per_account: Quota, per_address: Quota, sign_ups: Quota) -> Self {
        Self {
            per_account: DefaultKeyedRateLimiter::keyed(per_account),
            per_address: DefaultKeyedRateLimiter::keyed(per_address),
            sign_ups: DefaultDirectRateLimiter::direct(sign_ups),
            quotas: Quotas {
                per_account,
                per_address,
                sign_ups,
            },
        }
    }

    /// Counts one attempt against the account (its email) and the client address; a
    /// sign-up against all sign-ups too.
    pub fn check(&self, attempt: Attempt, email: &str, address: &str) -> Result<(), RetryAfter> {
        let kind = attempt.kind();
        let checked = Self::count(
            &self.per_address,
            format!("{kind}:{}", address_key(address)),
        )
        .and_then(|()| Self::count(&self.per_account, format!("{kind}:{email}")))
        .and_then(|()| match attempt {
            Attempt::SignUp => self.sign_ups.check().map_err(wait),
            _ => Ok(()),
        });
        if checked.is_err() {
            crate::telemetry::rate_limited(kind);
        }
        checked
    }

    /// Counts one attempt against the client address only.
    pub fn check_address(&self, attempt: Attempt, address: &str) -> Result<(), RetryAfter> {
        let key = format!("{}:{}", attempt.kind(), address_key(address));
        let checked = Self::count(&self.per_address, key);
        if checked.is_err() {
            crate::telemetry::rate_limited(attempt.kind());
        }
        checked
    }

    fn count(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), RetryAfter> {
        limiter.check_key(&key).map_err(wait)
    }

    /// Forgets keys whose quota is full again, so memory stays bounded.
    pub fn tidy(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}

/// Counts one attempt (`email`: the account it is for, when there is one) in this instance's
/// memory and then in the counters every instance shares; refused as soon as either says so.
pub async fn count(
    services: &Services,
    attempt: Attempt,
    email: Option<&str>,
    address: &str,
) -> Result<(), Refusal> {
    let limits = &services.limits;
    let here = match email {
        Some(email) => limits.check(attempt, email, address),
        None => limits.check_address(attempt, address),
    };
    here.map_err(refused)?;
    let kind = attempt.kind();
    let quotas = limits.quotas;
    let mut counted = vec![(
        format!("{kind}:{}", address_key(address)),
        quotas.per_address,
    )];
    if let Some(email) = email {
        counted.push((format!("{kind}:{email}"), quotas.per_account));
    }
    if let Attempt::SignUp = attempt {
        counted.push(("sign-ups".to_string(), quotas.sign_ups));
    }
    let mut conn = services.pool.get().await?;
    for (key, quota) in counted {
        // The key is stored as its digest: the table holds no address and no email.
        let key = super::tokens::digest(&key);
        let period = quota.replenish_interval();
        let burst = quota.burst_size().get();
        if let Some(wait) = rate_limits::take(&mut conn, &key, period, burst).await? {
            return Err(refused_in_shared_count(kind, wait));
        }
    }
    Ok(())
}

/// Counts one second-factor code against the person's quota before it is checked, in one
/// statement, so codes sent at once are counted one after the other and no more than the
/// quota are ever checked. Only in the shared table: every instance must see them. A code
/// that turns out right is given back ([`give_back_second_factor`]): signing in right does
/// not use up a person's tries.
pub async fn count_second_factor(
    conn: &mut AsyncPgConnection,
    user_id: &str,
) -> Result<(), Refusal> {
    let (key, period, burst) = second_factor_key(user_id);
    match rate_limits::take(conn, &key, period, burst).await? {
        Some(wait) => Err(refused_in_shared_count(Attempt::SecondFactor.kind(), wait)),
        None => Ok(()),
    }
}

/// Gives back the try a right second-factor code was counted as.
pub async fn give_back_second_factor(
    conn: &mut AsyncPgConnection,
    user_id: &str,
) -> Result<(), Refusal> {
    let (key, period, _) = second_factor_key(user_id);
    rate_limits::give_back(conn, &key, period).await?;
    Ok(())
}

fn second_factor_key(user_id: &str) -> (String, Duration, u32) {
    let quota = second_factor_quota();
    let key = format!("{}:{user_id}", Attempt::SecondFactor.kind());
    (
        super::tokens::digest(&key),
        quota.replenish_interval(),
        quota.burst_size().get(),
    )
}

/// Refused by the shared count: counted as a refusal of `kind`, and at least a second's wait.
fn refused_in_shared_count(kind: &'static str, wait: Duration) -> Refusal {
    crate::telemetry::rate_limited(kind);
    refused(RetryAfter(wait.max(Duration::from_secs(1))))
}

fn refused(retry: RetryAfter) -> Refusal {
    Refusal::RateLimited(retry.0.as_secs().max(1))
}

/// Forgets, in the shared table, keys whose quota is full again.
pub async fn tidy_shared(services: &Services) -> Result<usize, Refusal> {
    let mut conn = services.pool.get().await?;
    Ok(rate_limits::delete_full(&mut conn, chrono::Utc::now()).await?)
}

/// How long until the refused attempt would be allowed (at least a second).
fn wait(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> RetryAfter {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    RetryAfter(wait.max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:bbbb:cccc:dddd:eeee"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(address_key("2001:db8:1:3::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("unknown"), "unknown");

        // One host rotating through its /64 gets one quota, not one per address.
        let limits = Limits::default();
        let burst = per_address_quota().burst_size().get();
        for i in 0..burst {
            let address = format!("2001:db8:0:1::{i:x}");
            assert!(limits.check_address(Attempt::SignIn, &address).is_ok());
        }
        assert!(limits
            .check_address(Attempt::SignIn, "2001:db8:0:1::ffff")
            .is_err());
        assert!(limits
            .check_address(Attempt::SignIn, "2001:db8:0:2::1")
            .is_ok());
    }

    #[test]
    fn sign_ups_from_everyone_together_are_limited() {
        let limits = Limits::default();
        let burst = sign_up_quota().burst_size().get();
        for i in 0..burst {
            let (email, address) = (
                format!("p{i}@example.com"),
                format!("10.0.{}.{}", i / 250, i % 250),
            );
            assert!(
                limits.check(Attempt::SignUp, &email, &address).is_ok(),
                "{i}"
            );
        }
        let refused = limits.check(Attempt::SignUp, "one-more@example.com", "10.9.9.9");
        assert!(
            refused.is_err(),
            "a new address and a new account, but too many sign-ups"
        );
        // Signing in is not a sign-up.
        assert!(limits
            .check(Attempt::SignIn, "one-more@example.com", "10.9.9.9")
            .is_ok());
    }
}
