//! Why a request was refused: one vocabulary for every rule (accounts, sessions, admin, jobs,
//! paging, provider sign-in), in words a person understands. What each refusal means over
//! HTTP (its status, and how long to wait) is said here once; each surface turns a refusal
//! into its answer in one place: `api::request` for server functions (an `AppError`) and
//! for axum routes (JSON), and the provider flow's failure page (which shows
//! [`Refusal::code`]).

use super::passwords::{Busy, MAX_WAIT};
use super::providers::ProviderError;
use super::ServiceError;
use crate::views::FieldError;

/// How long to wait when the database cannot be reached (`Retry-After`).
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("Some fields need attention.")]
    Invalid(Vec<FieldError>),
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    #[error("Too many attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    #[error("Gatehouse is busy. Try again in {0} seconds.")]
    Busy(u64),
    #[error("{}", crate::views::SIGN_IN_AGAIN)]
    SignInAgain,
    #[error("Confirm your email address first: we have sent you a new link.")]
    EmailNotVerified,
    #[error("This account has been suspended{0}.")]
    Banned(String),
    #[error("This link has expired. Ask for a new one below.")]
    LinkExpired,
    #[error("This link was already used or is not valid. Ask for a new one below.")]
    LinkInvalid,
    /// An invitation's link that was used, revoked, or whose week ran out.
    #[error(
        "This invitation has expired or was already used. Ask whoever invited you for a new one."
    )]
    InvitationEnded,
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// The second step of a sign-in came too late, or without its first.
    #[error("This sign-in has expired. Sign in again.")]
    SignInExpired,
    #[error("Your account is waiting for an administrator to let you in.")]
    NoAccess,
    #[error("{}", crate::views::ADMIN_NEEDS_TWO_FACTOR)]
    SecondFactorRequired,
    #[error("There is nothing here.")]
    NotFound,
    /// A session asked for more live streams than it may hold open.
    #[error("Too many pages are following artwork status for this session; close a few tabs.")]
    TooManyStreams,
    /// The backend named a job that is not there.
    #[error("No job has that id.")]
    NoSuchJob,
    #[error("{0}")]
    Conflict(String),
    /// The provider failed, or its answer did not hold.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("another user has this email; they must connect the provider from their profile")]
    EmailInUse,
    #[error(
        "this provider's word on emails is not trusted: it can only be connected from a profile"
    )]
    UntrustedEmail,
    #[error("this provider account is connected to another user")]
    LinkedElsewhere,
    #[error("the user already has another account of this provider connected")]
    AlreadyConnected,
    /// A concurrent sign-in for the same person won a race; the attempt is rolled back and
    /// retried, and never leaves the provider rules.
    #[error("a concurrent sign-in won the race")]
    Race,
    /// The database cannot be reached; nothing was changed.
    #[error("Gatehouse cannot reach its database; try again in a minute.")]
    Unavailable,
    #[error(transparent)]
    Service(ServiceError),
    /// A value Gatehouse encrypted does not decrypt (a key taken out of the configuration).
    #[error("a stored secret cannot be read: {0}")]
    Secret(#[from] super::crypto::CryptoError),
}

/// Every database failure becomes a refusal here: an unreachable database is
/// [`Refusal::Unavailable`] (503, try again), any other failure our own (500).
impl From<ServiceError> for Refusal {
    fn from(e: ServiceError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "the database cannot be reached");
            Refusal::Unavailable
        } else {
            Refusal::Service(e)
        }
    }
}

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for Refusal {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<crate::db::shared::ReadFailed> for Refusal {
    fn from(e: crate::db::shared::ReadFailed) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<Busy> for Refusal {
    fn from(_: Busy) -> Self {
        Refusal::Busy(MAX_WAIT.as_secs())
    }
}

impl Refusal {
    /// Input to correct: `message` about `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Refusal::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A banned user's refusal, with the reason an admin gave.
    pub fn banned(user: &crate::db::models::User) -> Self {
        let reason = user.ban_reason.as_deref();
        Refusal::Banned(reason.map(|r| format!(": {r}")).unwrap_or_default())
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Invalid(_) => 422,
            Refusal::InvalidCredentials | Refusal::Unauthenticated => 401,
            Refusal::RateLimited(_) | Refusal::TooManyStreams => 429,
            Refusal::Busy(_) | Refusal::Unavailable => 503,
            Refusal::EmailNotVerified
            | Refusal::Banned(_)
            | Refusal::NoAccess
            | Refusal::SecondFactorRequired
            | Refusal::SignInAgain => 403,
            Refusal::NotFound | Refusal::NoSuchJob => 404,
            Refusal::Conflict(_)
            | Refusal::EmailInUse
            | Refusal::UntrustedEmail
            | Refusal::LinkedElsewhere
            | Refusal::AlreadyConnected => 409,
            Refusal::InvitationEnded => 410,
            Refusal::LinkExpired
            | Refusal::LinkInvalid
            | Refusal::SignInExpired
            | Refusal::Provider(_) => 400,
            Refusal::Race | Refusal::Service(_) | Refusal::Secret(_) => 500,
        }
    }

    /// Seconds to wait before trying again (`Retry-After`), when waiting helps.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::RateLimited(seconds) | Refusal::Busy(seconds) => Some(*seconds),
            Refusal::Unavailable => Some(UNAVAILABLE_RETRY_SECONDS),
            _ => None,
        }
    }

    /// Whether it is Gatehouse's own failure rather than something the caller can mend.
    pub fn is_internal(&self) -> bool {
        self.status() >= 500 && !matches!(self, Refusal::Busy(_) | Refusal::Unavailable)
    }

    /// A few words for it that do not grow with input, as metrics label sign-ins.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::InvalidCredentials => "wrong-password",
            Refusal::Invalid(_) => "invalid-input",
            Refusal::Busy(_) => "busy",
            other if other.is_internal() => "error",
            other => other.code(),
        }
    }

    /// What a sign-in's result is counted as.
    pub fn outcome<T>(result: &Result<T, Refusal>) -> &'static str {
        result.as_ref().map_or_else(Refusal::label, |_| "signed-in")
    }

    /// What the failure page of a provider sign-in calls it (`/sign-in-failed?reason=`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Provider(e) => e.code(),
            Refusal::EmailInUse => "email-in-use",
            Refusal::UntrustedEmail => "connect-first",
            Refusal::LinkedElsewhere => "linked-elsewhere",
            Refusal::AlreadyConnected => "already-connected",
            Refusal::EmailNotVerified => "confirm-email",
            Refusal::Banned(_) => "banned",
            Refusal::Unauthenticated => "signed-out",
            Refusal::SignInAgain => "sign-in-again",
            Refusal::SignInExpired => "expired",
            Refusal::RateLimited(_) => "rate-limited",
            _ => "unavailable",
        }
    }
}
