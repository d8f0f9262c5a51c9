//! The ceiling: a bare hyper server that parses the JSON-RPC body with serde_json and answers what the
//! echo tool answers, with nothing of MCP in between. No framework can beat it on the same loop.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

mcp_runtime::__mcp_default_allocator!();

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    params: Params,
}

#[derive(Deserialize)]
struct Params {
    arguments: Arguments,
}

#[derive(Deserialize)]
struct Arguments {
    message: String,
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(status(400)),
    };
    let Ok(call) = serde_json::from_slice::<Call<'_>>(&body) else { return Ok(status(400)) };
    let text = serde_json::to_string(&call.params.arguments.message).expect("a string serializes");
    let json = format!(
        r#"{{"jsonrpc":"2.0","id":{},"result":{{"content":[{{"type":"text","text":{text}}}],"isError":false}}}}"#,
        call.id.get()
    );
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json)))
        .expect("a valid response"))
}

fn status(code: u16) -> Response<Full<Bytes>> {
    Response::builder().status(code).body(Full::new(Bytes::new())).expect("a valid response")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bind = mcp_bench::arg("--bind").unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = mcp_bench::listen(&bind).await?;
    mcp_bench::serve(listener, hyper::service::service_fn(answer)).await;
    Ok(())
}
