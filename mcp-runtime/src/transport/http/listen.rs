//! Listening: the accept loop every HTTP listener of the server shares (the MCP endpoint's and the
//! Prometheus one of `metrics.bind`): hyper with a header-read timeout, a connection cap, TCP_NODELAY and
//! graceful draining.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::{Flavor, HttpState, router};
use crate::config::HttpConfig;
use crate::pipeline::Pipeline;
use crate::server::StartError;

/// Serves Streamable HTTP on `transport.bind` until `shutdown` completes, then drains.
///
/// # Errors
/// A bind that is refused (non-loopback without authentication) or fails.
pub(crate) async fn serve(
    pipeline: Pipeline,
    flavor: Flavor,
    shutdown: impl Future<Output = ()>,
) -> Result<(), crate::transport::ServeError> {
    let bind = pipeline.config().transport.bind;
    if !bind.ip().is_loopback() && !pipeline.gate().enabled() {
        if !pipeline.config().security.insecure_no_auth {
            return Err(StartError::UnsafeBind(bind).into());
        }
        tracing::warn!(%bind, "serving a non-loopback address WITHOUT authentication (--insecure-no-auth): anyone who reaches it can call every tool");
    }
    let listener = TcpListener::bind(bind).await?;
    serve_on(listener, pipeline, flavor, shutdown).await
}

/// Serves on an already bound listener (tests bind port 0 and read the address). When `shutdown`
/// completes, the server's change bus is closed (open `subscriptions/listen` requests end with their
/// result), new connections are refused, and open ones, and running tasks, get `transport.shutdown_grace`.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve_on(
    listener: TcpListener,
    pipeline: Pipeline,
    flavor: Flavor,
    shutdown: impl Future<Output = ()>,
) -> Result<(), crate::transport::ServeError> {
    let local: SocketAddr = listener.local_addr()?;
    let grace = pipeline.config().transport.shutdown_grace;
    let state = Arc::new(HttpState::new(pipeline, flavor));
    let config = state.config.clone();
    let app = router(Arc::clone(&state), flavor);
    match flavor {
        Flavor::Streamable => {
            tracing::info!(address = %local, path = %state.pipeline.config().transport.path, "serving MCP over Streamable HTTP");
        }
        Flavor::LegacySse => tracing::info!(address = %local, "serving MCP over legacy HTTP+SSE at /sse and /messages"),
    }
    // When shutdown starts, before the grace: `subscriptions/listen` requests end with their result (and
    // their streams with them), the sessions' deliveries stop, and their GET streams end.
    let closing = Arc::clone(&state);
    let stopping = CancellationToken::new();
    let signal = stopping.clone();
    let shutdown = async move {
        shutdown.await;
        closing.pipeline.app().bus().close();
        closing.sessions.end_standalone_streams();
        signal.cancel();
    };
    // Running tasks get the same grace as open connections, then are cancelled (and recorded so).
    let tasks = state.pipeline.app().tasks().clone();
    let tasks = async move {
        stopping.cancelled().await;
        tasks.shutdown(grace).await;
    };
    tokio::join!(accept(listener, app, &config, grace, shutdown), tasks);
    state.pipeline.flush().await; // every finished request's record is written before the process exits
    Ok(())
}

/// Accepts connections and serves `app` on each until `shutdown` completes, then gives the open ones
/// `grace` to finish: at most `http.max_connections` at once, each with `http.header_read_timeout`.
/// Connections still open after the grace are closed, and their requests dropped (recorded as
/// cancelled), before this returns: nothing is answered after the caller flushes the audit trail.
pub(crate) async fn accept(
    listener: TcpListener,
    app: Router,
    config: &HttpConfig,
    grace: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let (tasks, closed) = (TaskTracker::new(), CancellationToken::new());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The peer address, for handlers and for throttling repeated authentication failures by source.
        let service = TowerToHyperService::new(app.clone().map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        }));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        let closed = closed.clone();
        tasks.spawn(async move {
            tokio::select! {
                ended = connection => if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                },
                () = closed.cancelled() => {}
            }
            drop(permit);
        });
    }
    // New connections are refused at once rather than left waiting in the backlog: a client (or a load
    // balancer) retries elsewhere instead of hanging until the process exits.
    drop(listener);
    tracing::info!("shutting down: draining in-flight HTTP requests");
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("shutdown grace elapsed with connections still open: closing them");
    }
    closed.cancel();
    tasks.close();
    tasks.wait().await;
}
