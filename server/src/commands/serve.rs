//! `gatehouse` (or `gatehouse serve`): serve until Ctrl-C or SIGTERM, then drain.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use gatehouse_app::db::DbPool;
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::webhooks::{self, Timing, Webhooks};
use gatehouse_app::services::Services;

use super::boot;
use crate::client::ClientBuild;
use crate::config::Config;
use crate::routes::BetterAuth;
use crate::secrets;
use crate::state::AppState;
use crate::{housekeeping, routes};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Recording starts before the database is opened, so its first connections count too.
    let recorder = match config.metrics_bind {
        Some(address) => Some((address, crate::metrics::install()?)),
        None => None,
    };
    let (booted, _) = boot(&config).await?;
    let super::Booted {
        secrets,
        database,
        pool,
    } = booted;

    let services = build_services(&config, &secrets, pool.clone())?;
    let better_auth = config
        .better_auth
        .as_ref()
        .map(|api| BetterAuth::new(api, &config.public_url, &secrets.secret_key));
    let mut state = AppState::new(
        config.public_url.clone(),
        secrets,
        services.clone(),
        config.internal_tokens.clone(),
    );
    match ClientBuild::load(&config.client_dir) {
        Ok(client) => {
            tracing::info!(
                wasm_bytes_on_the_wire = client.wasm_on_the_wire(),
                "pages hydrate with the wasm client from {}",
                config.client_dir.display()
            );
            state = state.with_client(client);
        }
        Err(why) => tracing::warn!(
            "no wasm client build ({why}): pages are served without hydration; \
             `bash .ci/client` builds one"
        ),
    }
    if let Some(api) = better_auth {
        tracing::info!("Better Auth's API answers under /api/auth (BETTER_AUTH_COMPAT)");
        state = state.with_better_auth(api);
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on BIND={}", config.bind))?;
    let background = services.background.clone();
    let live = services.live.clone();
    let metrics = match recorder {
        Some((address, handle)) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on METRICS_BIND={address}"))?;
            tracing::info!(%address, "metrics at http://{address}/metrics");
            Some(crate::metrics::serve(listener, handle, services.clone()))
        }
        None => None,
    };
    // The audit log's retention deletes as the schema owner when serving runs as less.
    let owner = match &database.migration_url {
        Some(url) => gatehouse_app::db::pool::build(url, &Default::default()),
        None => pool.clone(),
    };
    // Signed webhooks (none without WEBHOOK_URLS).
    let webhooks = webhooks::Worker::start(&services);
    let cleanup = housekeeping::spawn(services, config.housekeeping, owner);

    tracing::info!(bind = %config.bind, "listening");
    println!(
        "Gatehouse is running: open {} (Ctrl-C stops it)",
        config.public_url
    );

    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        routes::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        // Live status streams would otherwise stay open until the drain gives up.
        live.close();
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
    if let Some(webhooks) = webhooks {
        if tokio::time::timeout(DRAIN_TIMEOUT, webhooks.stop())
            .await
            .is_err()
        {
            tracing::warn!("a webhook still being sent after {DRAIN_TIMEOUT:?}; stopping anyway");
        }
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
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

/// The rules' dependencies, from the configuration.
pub fn build_services(
    config: &Config,
    secrets: &secrets::Secrets,
    pool: DbPool,
) -> anyhow::Result<Services> {
    let mail = &config.mail;
    let mailer = Mailer::new(mail.smtp_url.as_deref(), &mail.from)?;
    if mailer.sends() {
        tracing::info!(from = %mail.from, "mail goes out through SMTP_URL");
    } else {
        tracing::warn!(
            "no SMTP_URL: mail (confirmation and reset links) is written to this log, not sent"
        );
    }
    let services = Services::new(
        pool,
        config.auth.clone(),
        mailer,
        secrets.token_keys.cipher(),
    );
    let services = services
        .with_password_hashing(config.password_hash_concurrency)
        .with_access(config.access.clone())
        .with_providers(config.providers.clone());
    Ok(match &config.webhooks {
        Some(hooks) => {
            tracing::info!(
                endpoints = hooks.endpoints.len(),
                "changes are announced to WEBHOOK_URLS, signed"
            );
            let timing = Timing::default();
            services.with_webhooks(Webhooks::new(
                &hooks.endpoints,
                hooks.secret.clone(),
                timing,
            ))
        }
        None => services,
    })
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
