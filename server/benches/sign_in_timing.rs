//! Does an answer tell, by its timing, whether an email is registered? Times the service
//! call behind the sign-in form for an unknown email, a known email with a wrong password,
//! and the right password (which also makes a session); and behind "forgotten password"
//! for an unknown and a known email (whose work runs after the answer). Prints the figures.
//!
//! `cargo bench -p gatehouse --bench sign_in_timing`

mod common;

use diesel_async::SimpleAsyncConnection;
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::rate_limit::Limits;
use gatehouse_app::services::{accounts, Refusal};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::main]
async fn main() {
    let (postgres, mut conn, services) = common::database().await;
    accounts::sign_up(
        &services,
        "Ada",
        "ada@example.com",
        PASSWORD,
        &Origin::default(),
    )
    .await
    .unwrap();
    conn.batch_execute("UPDATE \"user\" SET \"emailVerified\" = true")
        .await
        .unwrap();

    // Limits no round reaches: the figures are about hashing, not the rate limiter (which
    // still counts every attempt, in memory and in the shared table, as in production).
    let roomy = governor::Quota::per_second(std::num::NonZeroU32::MIN)
        .allow_burst(std::num::NonZeroU32::new(1_000_000).unwrap());
    let services = services.with_limits(Limits::new(roomy, roomy, roomy));
    let unlimited = || services.clone();
    common::header("sign-in (argon2id 19 MiB, t=2)");
    for (name, email, password, expect_ok) in [
        (
            "unknown email",
            "nobody@example.com",
            "not the password",
            false,
        ),
        (
            "known email, wrong password",
            "ada@example.com",
            "not the password",
            false,
        ),
        ("right password", "ada@example.com", PASSWORD, true),
    ] {
        common::measure(name, || {
            let services = unlimited();
            async move {
                let result =
                    accounts::sign_in(&services, email, password, &Origin::default()).await;
                match (expect_ok, result) {
                    (true, Ok(_)) | (false, Err(Refusal::InvalidCredentials)) => {}
                    (_, other) => panic!("{name}: unexpected {:?}", other.map(|_| "a session")),
                }
            }
        })
        .await;
    }
    common::header("forgotten password (work after the answer)");
    for (name, email) in [
        ("unknown email", "nobody@example.com"),
        ("known email", "ada@example.com"),
    ] {
        common::measure(name, || {
            let services = unlimited();
            async move {
                accounts::request_password_reset(&services, email, &Origin::default())
                    .await
                    .unwrap();
            }
        })
        .await;
    }
    services.background.settle().await;
    drop(services);
    postgres.stop();
}
