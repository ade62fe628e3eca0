//! `gatehouse` (or `gatehouse serve`): serve until Ctrl-C or SIGTERM, then drain.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use gatehouse_app::db::DbPool;
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::Services;

use super::boot;
use crate::config::Settings;
use crate::secrets;
use crate::state::AppState;
use crate::{housekeeping, routes};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (booted, _) = boot(&settings).await?;
    let super::Booted {
        secrets,
        database,
        pool,
    } = booted;

    let public_url = settings.public_url();
    let services = build_services(&settings, &secrets, pool.clone())?;
    let state = AppState::new(
        public_url.clone(),
        secrets,
        services.clone(),
        settings.internal_tokens(),
    );
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on BIND={}", settings.bind))?;
    let background = services.background.clone();
    let cleanup = housekeeping::spawn(
        services,
        settings.cleanup_interval(),
        chrono::Duration::days(settings.audit_retention_days.into()),
    );

    tracing::info!(bind = %settings.bind, "listening");
    println!("Gatehouse is running: open {public_url} (Ctrl-C stops it)");

    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        routes::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = draining_tx.send(());
    });
    tokio::select! {
        served = server => served.context("serving HTTP")?,
        () = async {
            let _ = draining_rx.await;
            tokio::time::sleep(DRAIN_TIMEOUT).await;
        } => tracing::warn!("requests still running after {DRAIN_TIMEOUT:?}; stopping anyway"),
    }
    cleanup.abort();
    if tokio::time::timeout(DRAIN_TIMEOUT, background.settle())
        .await
        .is_err()
    {
        tracing::warn!("mail still being sent after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
    pool.close();
    drop(database);
    tracing::info!("stopped");
    Ok(())
}

/// The rules' dependencies, from the settings.
pub fn build_services(
    settings: &Settings,
    secrets: &secrets::Secrets,
    pool: DbPool,
) -> anyhow::Result<Services> {
    let mailer = Mailer::new(settings.smtp_url.as_deref(), &settings.mail_from())?;
    if mailer.sends() {
        tracing::info!(from = %settings.mail_from(), "mail goes out through SMTP_URL");
    } else {
        tracing::warn!(
            "no SMTP_URL: mail (confirmation and reset links) is written to this log, not sent"
        );
    }
    let services = Services::new(
        pool,
        settings.auth_settings(),
        mailer,
        secrets.token_keys.cipher(),
    );
    Ok(services
        .with_password_hashing(settings.password_hash_concurrency())
        .with_access(settings.access_rules())
        .with_providers(settings.providers()?))
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate.recv() => {}
    }
}
