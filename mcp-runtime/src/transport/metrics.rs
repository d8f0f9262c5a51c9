//! The Prometheus endpoint (`[metrics]`): on the HTTP transport's listener behind its authentication, or
//! on a listener of its own (`metrics.bind`, any transport, stdio included).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::pipeline::Pipeline;

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The scrape answer.
pub(crate) fn scrape(pipeline: &Pipeline) -> axum::response::Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], pipeline.metrics().render()).into_response()
}

/// Binds `metrics.bind`, when set, and serves `metrics.path` there until the process ends.
///
/// # Errors
/// The address cannot be bound.
pub(crate) async fn spawn_listener(pipeline: &Pipeline) -> std::io::Result<()> {
    let config = &pipeline.config().metrics;
    let Some(bind) = config.bind.filter(|_| config.prometheus) else { return Ok(()) };
    if !bind.ip().is_loopback() {
        tracing::warn!(%bind, "metrics.bind is not a loopback address: the metrics listener has no authentication");
    }
    let listener = TcpListener::bind(bind).await?;
    tracing::info!(metrics_address = %listener.local_addr()?, path = %config.path, "serving Prometheus metrics");
    let scraped = pipeline.clone();
    let app = Router::new().route(&config.path, get(move || std::future::ready(scrape(&scraped))));
    // The main listener's defences: the Host/Origin guard, the header-read timeout, the connection cap.
    let http = pipeline.config().http.clone();
    let app = super::http::guarded(app, http.clone());
    let grace = pipeline.config().transport.shutdown_grace;
    tokio::spawn(async move { super::http::accept(listener, app, &http, grace, std::future::pending()).await });
    Ok(())
}
