//! What `list`, `call` (the HTTP backend under rmcp's transport) and `scan --url` (raw requests) share as
//! an HTTP client: careful with the credentials they are given and with the answers they read.
//!
//! - **No redirect is followed.** The `--header` headers are credentials, and a redirect may point anywhere:
//!   reqwest drops `Authorization` on a hop to another origin but keeps every other header (`X-Api-Key`),
//!   and a 307 or 308 sends the body again. A 3xx is reported with its `Location` instead, so a user who
//!   trusts that address can pass it as `--url`.
//! - **Answers are capped.** A body, an SSE event and a line of a stdio server's output are read up to
//!   [`MAX_BODY`] bytes; beyond, the command ends with an error naming the cap. SSE is parsed by sse-stream
//!   (rmcp's own parser) as it arrives, so a stream that never ends holds at most one event and is cut off
//!   by the command's deadline.

use std::convert::Infallible;
use std::fmt;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt, future, stream};
use reqwest::header::LOCATION;
use sse_stream::SseStream;

/// The most bytes read of one answer: a JSON body, one SSE event, one line of stdio output.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// The most bytes of an error answer kept to explain it (the explanation is shortened anyway).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A client builder that follows no redirect and names the CLI; callers add their deadlines.
pub(crate) fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cargo-mcp/", env!("CARGO_PKG_VERSION")))
}

/// An answer larger than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge {
    /// The cap, in bytes.
    pub(crate) cap: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "larger than {} (cargo mcp reads no more of one answer)", mib(self.cap))
    }
}

impl std::error::Error for TooLarge {}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is larger than the cap.
    TooLarge(TooLarge),
    /// The connection broke while it was read.
    Broken(reqwest::Error),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(too_large) => too_large.fmt(f),
            Self::Broken(e) => write!(f, "the connection broke: {}", error_chain(e)),
        }
    }
}

impl std::error::Error for BodyError {}

/// `16 MiB` for a cap of 16 × 2²⁰ bytes (caps are whole MiB or KiB).
fn mib(bytes: usize) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{} KiB", bytes >> 10) }
}

/// Reads the whole body, refusing one larger than `cap` bytes as soon as it is.
pub(crate) async fn read_body(response: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Broken)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge(TooLarge { cap }));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error answer's body, as text (a broken or oversized body yields what was read).
pub(crate) async fn error_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_ERROR_BODY {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// When `response` is a redirect: what to tell the user, naming where it points.
pub(crate) fn redirect(response: &reqwest::Response) -> Option<String> {
    let status = response.status();
    if !status.is_redirection() {
        return None;
    }
    let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()).map(|l| {
        // A relative Location is resolved against the request's URL, as a browser would.
        response.url().join(l).map_or_else(|_| l.to_owned(), |u| u.to_string())
    });
    let to = location.map_or_else(|| "with no Location".to_owned(), |l| format!("to {l}"));
    Some(format!(
        "HTTP {} redirects {to}: cargo mcp follows no redirect, so the --header credentials go nowhere else; \
         if you trust that address, pass it as --url",
        status.as_u16()
    ))
}

/// An error and its sources, joined (reqwest's own message alone says little).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The data of each complete Server-Sent Event of `body`, as sse-stream parses it (a malformed line ends
/// the reading).
pub(crate) fn sse_data(body: &[u8]) -> Vec<String> {
    let body = stream::iter([Ok::<_, Infallible>(Bytes::copy_from_slice(body))]);
    // The stream is in memory: every poll is ready.
    SseStream::from_bytes_stream(body)
        .take_while(|event| future::ready(event.is_ok()))
        .filter_map(|event| future::ready(event.ok().and_then(|e| e.data)))
        .collect::<Vec<_>>()
        .now_or_never()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_read_and_priming_events_have_no_data() {
        let body = b"id: 0\ndata:\n\n: keep-alive\n\nid: 1\ndata: {\"a\":1}\r\n\r\ndata: x\ndata: y\n\ndata:z";
        assert_eq!(sse_data(body), ["", "{\"a\":1}", "x\ny"], "an event without its blank line is not complete");
    }

    #[test]
    fn caps_are_named_in_mib() {
        assert_eq!(
            TooLarge { cap: MAX_BODY }.to_string(),
            "larger than 16 MiB (cargo mcp reads no more of one answer)"
        );
        assert_eq!(mib(64 * 1024), "64 KiB");
    }
}
