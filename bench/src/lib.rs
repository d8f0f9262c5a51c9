//! What the benchmark servers share: one HTTP/1.1 accept loop (TCP_NODELAY, keep-alive), the one this
//! runtime's `serve_on` runs too, so the servers differ only in what answers a request; and how a server
//! tells `cargo xtask bench` where it listens.

use std::error::Error as StdError;
use std::net::SocketAddr;

use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Binds `addr` (port 0: any free one) and prints `address=IP:PORT` on stderr, as every `#[mcp_server]`
/// binary logs it, for the driver to read.
///
/// # Errors
/// The address cannot be bound.
pub async fn listen(addr: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    let local: SocketAddr = listener.local_addr()?;
    eprintln!("listening address={local}");
    Ok(listener)
}

/// Serves `service` on every accepted connection (HTTP/1.1, keep-alive, TCP_NODELAY), forever.
pub async fn serve<S, B>(listener: TcpListener, service: S)
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The value of `--bind ADDR` (default `127.0.0.1:0`) and `--mode MODE` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next();
        }
    }
    None
}
