//! `/metrics` in the Prometheus text format, on a listener of its own (METRICS_BIND), never
//! on the public port: what the layers count (`gatehouse_app::telemetry`), and at each scrape
//! the pool's state and the background work still pending.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use gatehouse_app::services::Services;
use gatehouse_app::telemetry;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Seconds: from a cached query to a slow page or a long wait for a hashing turn.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Makes the process's recorder: from now on the layers' counts are kept.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let mut builder = PrometheusBuilder::new();
    for name in telemetry::HISTOGRAMS {
        builder = builder.set_buckets_for_metric(Matcher::Full(name.to_string()), &BUCKETS)?;
    }
    let handle = builder.install_recorder()?;
    telemetry::start_recording();
    Ok(handle)
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    services: Services,
}

/// Serves `/metrics` on `listener` until the task is aborted.
pub fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    services: Services,
) -> JoinHandle<()> {
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape { handle, services });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    })
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    let pool = scrape.services.pool.status();
    telemetry::db_pool(pool.size, pool.available, pool.waiting, pool.max_size);
    telemetry::background_pending(scrape.services.background.pending());
    telemetry::live_streams(scrape.services.live.streams());
    scrape.handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
}
