//! A local OTLP/HTTP sink for the full pipeline's spans and metrics: answers every POST with an empty
//! (valid) protobuf response and counts nothing, so exporting costs the server what it costs in
//! production, not the collector's work.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

async fn accept(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = request.into_body().collect().await;
    Ok(Response::builder()
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::new()))
        .expect("a valid response"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let bind = mcp_bench::arg("--bind").unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = mcp_bench::listen(&bind).await?;
    mcp_bench::serve(listener, hyper::service::service_fn(accept)).await;
    Ok(())
}
