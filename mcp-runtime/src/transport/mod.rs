//! Transports: they turn bytes into requests for the [`Pipeline`] and answers back into bytes.
//!
//! stdio, Streamable HTTP (`http`) and the legacy HTTP+SSE transport (`sse`), picked by
//! `transport.kind` at run time.

mod admit;
mod connection;
pub mod http;
mod metrics;
mod pipe;
mod stdio;

use std::io;

pub(crate) use admit::unsupported_version;
pub use admit::{Refused, admit};
pub use stdio::{CLIENT_CREDENTIAL_VARS, serve_io};

use crate::Server;
use crate::config::TransportKindConfig;
use crate::pipeline::Pipeline;
use crate::server::StartError;

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The server refused to start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The transport's I/O failed.
    #[error("transport I/O failed: {0}")]
    Io(#[from] io::Error),
}

impl Server {
    /// Serves on the configured transport until the client leaves or SIGINT/SIGTERM arrives.
    ///
    /// # Errors
    /// See [`ServeError`].
    pub async fn serve(self) -> Result<(), ServeError> {
        serve_pipeline(Pipeline::build(self)?).await
    }

    /// Serves one client on stdin/stdout until stdin closes or SIGINT/SIGTERM arrives. When the server
    /// authenticates, the client's credential comes from `MCP_CLIENT_KEY` (or `MCP_CLIENT_TOKEN`) and is
    /// checked before serving starts.
    ///
    /// # Errors
    /// See [`ServeError`]; a refused credential is [`StartError::Security`].
    pub async fn serve_stdio(self) -> Result<(), ServeError> {
        stdio_pipeline(Pipeline::build(self)?).await
    }
}

/// Serves an assembled pipeline on its configured transport: what [`Server::serve`] does once the pipeline is
/// built (`run_main` builds it itself, to reload its configuration while it serves).
pub(crate) async fn serve_pipeline(pipeline: Pipeline) -> Result<(), ServeError> {
    metrics::spawn_listener(&pipeline).await?;
    match pipeline.config().transport.kind {
        TransportKindConfig::Stdio => stdio_pipeline(pipeline).await,
        TransportKindConfig::Http => http::serve(pipeline, http::Flavor::Streamable, shutdown_signal()).await,
        TransportKindConfig::Sse => http::serve(pipeline, http::Flavor::LegacySse, shutdown_signal()).await,
    }
}

/// Serves stdin/stdout once the client's credential (if the server wants one) checked out.
async fn stdio_pipeline(pipeline: Pipeline) -> Result<(), ServeError> {
    let credentials = stdio::client_credentials(&pipeline).await.map_err(StartError::Security)?;
    tracing::info!(
        server = %pipeline.app().info().name,
        tools = pipeline.app().catalog().tools().len(),
        "serving MCP on stdio"
    );
    let (stdin, stdout) = (pipe::Stdin::spawn()?, pipe::Stdout::spawn()?);
    // On a worker, not the thread that blocks on the runtime: the tasks it starts for requests then run on
    // the same worker (or are stolen by idle ones), with no cross-thread wake-up for each.
    let serving = tokio::spawn(stdio::serve_connection(pipeline, credentials, stdin, stdout, shutdown_signal()));
    serving.await.map_err(io::Error::other)??;
    Ok(())
}

/// Completes on SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
