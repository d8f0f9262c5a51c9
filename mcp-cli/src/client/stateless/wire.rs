//! One 2026-07-28 request on the wire and its answer: a line on the server's stdin and the line of its
//! stdout that answers it, or a POST whose answer is JSON or an SSE stream. No session, no handshake:
//! every request stands alone. Answers are capped as everywhere in the CLI (16 MiB a line, a body, an
//! SSE event).

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;
use sse_stream::SseStream;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::ChildStdin;

use super::super::ClientError;
use super::super::stdio::{CappedLines, StdioPipes, StdioServer};
use super::super::streamable::{self, EventCap};
use super::VERSION;
use crate::http::{self, BodyError, MAX_BODY, error_chain};

/// Where requests go.
pub(super) enum Wire {
    /// A server process on stdio.
    Stdio(Box<StdioWire>),
    /// A Streamable HTTP endpoint.
    Http(HttpWire),
}

/// A server process and its pipes, read a line at a time.
pub(super) struct StdioWire {
    pub(super) server: StdioServer,
    stdin: ChildStdin,
    stdout: BufReader<CappedLines>,
}

/// A Streamable HTTP endpoint, the CLI's HTTP client, and the `--header` headers.
pub(super) struct HttpWire {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
}

impl StdioWire {
    pub(super) fn new(server: StdioServer, pipes: StdioPipes) -> Self {
        let StdioPipes { stdin, stdout, unread } = pipes;
        debug_assert!(unread.is_empty(), "a fresh process has nothing read yet");
        Self { server, stdin, stdout: BufReader::new(stdout) }
    }

    /// The process and its pipes, with what was read of its output and not used, for the handshake.
    pub(super) fn into_parts(self) -> (StdioServer, StdioPipes) {
        let unread = self.stdout.buffer().to_vec();
        let pipes = StdioPipes { stdin: self.stdin, stdout: self.stdout.into_inner(), unread };
        (self.server, pipes)
    }

    /// Writes `message` as a line and reads lines until the one answering `id`; notifications, and
    /// anything else not answering it, are passed over.
    async fn exchange(&mut self, id: &Value, method: &str, message: &Value) -> Result<Value, ClientError> {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        if self.stdin.write_all(&line).await.is_err() || self.stdin.flush().await.is_err() {
            return Err(self.server.gone(&format!("closed its input before `{method}` was sent")).await);
        }
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match self.stdout.read_until(b'\n', &mut buffer).await {
                Ok(0) => return Err(self.server.gone(&format!("closed its output before answering `{method}`")).await),
                Ok(_) => {}
                Err(e) => {
                    return Err(self.server.overflow().unwrap_or_else(|| {
                        ClientError::Closed(format!("reading the answer to `{method}` failed: {e}"))
                    }));
                }
            }
            let text = String::from_utf8_lossy(&buffer);
            if text.trim().is_empty() {
                continue;
            }
            let answer: Value = serde_json::from_str(&text).map_err(|e| {
                ClientError::Protocol(format!(
                    "a line of its output is not JSON ({e}): {}",
                    super::super::shorten(&text, 200)
                ))
            })?;
            if answers(&answer, id) {
                return Ok(answer);
            }
        }
    }
}

impl HttpWire {
    pub(super) fn new(url: &str, headers: HeaderMap, timeout: std::time::Duration) -> Result<Self, ClientError> {
        let client = http::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ClientError::Unreachable(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { client, url: url.to_owned(), headers })
    }

    /// POSTs `message` with the 2026-07-28 headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` for
    /// the methods that name something, and `extra`) and reads its answer: JSON, or the SSE stream's
    /// event that answers `id`. An error status with a JSON-RPC error body is that error (how a server
    /// says it does not speak the version, or that a header disagrees); other error statuses say what
    /// they mean.
    async fn exchange(
        &self,
        id: &Value,
        method: &str,
        message: &Value,
        extra: &HeaderMap,
    ) -> Result<Value, ClientError> {
        let mut request = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .headers(extra.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .header("mcp-protocol-version", VERSION)
            .header("mcp-method", method);
        let named = match method {
            "tools/call" | "prompts/get" => message.pointer("/params/name"),
            "resources/read" => message.pointer("/params/uri"),
            _ => None,
        };
        if let Some(name) = named.and_then(Value::as_str) {
            request = request.header("mcp-name", header_value(name));
        }
        let response = request
            .body(message.to_string())
            .send()
            .await
            .map_err(|e| streamable::send_error(&e, &self.url, method))?;
        let status = response.status();
        if let Some(redirect) = http::redirect(&response) {
            return Err(ClientError::Redirected(format!("{}: {redirect}", self.url)));
        }
        if !status.is_success() {
            let challenge = streamable::challenge(&response);
            let body = http::error_body(response).await;
            let error_answer = serde_json::from_str::<Value>(&body).ok().filter(|a| a.get("error").is_some());
            return match error_answer {
                Some(answer) if !matches!(status.as_u16(), 401 | 403) => Ok(answer),
                _ => Err(streamable::refusal(
                    status.as_u16(),
                    challenge.as_deref(),
                    &body,
                    !self.headers.is_empty(),
                    false,
                )),
            };
        }
        if matches!(status.as_u16(), 202 | 204) {
            return Err(ClientError::Protocol(format!("`{method}` was accepted (HTTP {status}) but not answered")));
        }
        let content_type =
            response.headers().get(CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        if content_type.starts_with("text/event-stream") {
            return self.event_answer(response, id, method).await;
        }
        let mut response = response;
        let body = match http::read_body(&mut response, MAX_BODY).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(too_large)) => {
                return Err(ClientError::TooLarge(format!("the answer to `{method}`"), too_large));
            }
            Err(BodyError::Broken(e)) => {
                return Err(ClientError::Closed(format!(
                    "reading the answer to `{method}` failed: {}",
                    error_chain(&e)
                )));
            }
        };
        serde_json::from_slice(&body).map_err(|e| {
            let text = String::from_utf8_lossy(&body);
            ClientError::Protocol(format!(
                "the answer to `{method}` is not JSON-RPC ({e}): {}",
                super::super::shorten(&text, 200)
            ))
        })
    }

    /// Reads the SSE stream until the event answering `id` (notifications before it are passed over),
    /// refusing an event beyond the cap.
    async fn event_answer(&self, response: reqwest::Response, id: &Value, method: &str) -> Result<Value, ClientError> {
        let failed: Arc<Mutex<Option<ClientError>>> = Arc::default();
        let record = Arc::clone(&failed);
        let owned_method = method.to_owned();
        let mut cap = EventCap::default();
        let chunks = response.bytes_stream().map(move |chunk| {
            let error = match chunk {
                Ok(bytes) => match cap.feed(&bytes) {
                    Ok(()) => return Ok(bytes),
                    Err(too_large) => ClientError::TooLarge(format!("an event answering `{owned_method}`"), too_large),
                },
                Err(e) => {
                    ClientError::Closed(format!("the stream answering `{owned_method}` broke: {}", error_chain(&e)))
                }
            };
            *record.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
            Err(error)
        });
        let mut events = SseStream::from_bytes_stream(chunks);
        while let Some(event) = events.next().await {
            let Ok(event) = event else { break };
            let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else { continue };
            let answer: Value = serde_json::from_str(&data).map_err(|e| {
                ClientError::Protocol(format!(
                    "an event answering `{method}` is not JSON ({e}): {}",
                    super::super::shorten(&data, 200)
                ))
            })?;
            if answers(&answer, id) {
                return Ok(answer);
            }
        }
        let failure = failed.lock().unwrap_or_else(PoisonError::into_inner).take();
        Err(failure
            .unwrap_or_else(|| ClientError::Closed(format!("the stream answering `{method}` ended before its answer"))))
    }
}

impl Wire {
    /// Sends `message` (a request with `id`) and returns the JSON-RPC message that answers it.
    pub(super) async fn exchange(
        &mut self,
        id: &Value,
        method: &str,
        message: &Value,
        extra: &HeaderMap,
    ) -> Result<Value, ClientError> {
        match self {
            Self::Stdio(stdio) => stdio.exchange(id, method, message).await,
            Self::Http(http) => http.exchange(id, method, message, extra).await,
        }
    }

    /// Lets a server process exit (`graceful`: its stdin closed, up to 5 s) or kills it; HTTP has no
    /// session to end.
    pub(super) async fn close(self, graceful: bool) {
        if let Self::Stdio(stdio) = self {
            let StdioWire { mut server, stdin, .. } = *stdio;
            drop(stdin);
            server.close(graceful).await;
        }
    }
}

/// Whether `message` is the response to the request with `id`.
fn answers(message: &Value, id: &Value) -> bool {
    message.get("id") == Some(id) && (message.get("result").is_some() || message.get("error").is_some())
}

/// A value as an HTTP header value: as it is when it is visible ASCII (spaces inside allowed), else — and
/// when it looks like the sentinel itself — `=?base64?…?=` of its UTF-8 (the 2026-07-28 value encoding).
pub(super) fn header_value(value: &str) -> HeaderValue {
    let plain = !value.is_empty()
        && value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && value.trim() == value
        && !(value.starts_with("=?base64?") && value.ends_with("?="));
    let text = if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(value))
    };
    // Visible ASCII either way.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn header_values_are_plain_ascii_or_base64() {
        assert_eq!(header_value("lookup_stock"), "lookup_stock");
        assert_eq!(header_value("a b"), "a b");
        assert_eq!(header_value("größe"), "=?base64?Z3LDtsOfZQ==?=");
        assert_eq!(header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(header_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(header_value("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
    }

    #[test]
    fn only_a_response_with_the_id_answers() {
        let id = json!(3);
        assert!(answers(&json!({"jsonrpc": "2.0", "id": 3, "result": {}}), &id));
        assert!(answers(&json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -1, "message": "x"}}), &id));
        assert!(!answers(&json!({"jsonrpc": "2.0", "id": 2, "result": {}}), &id));
        assert!(!answers(&json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {}}), &id));
        assert!(!answers(&json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}), &id), "a request, not an answer");
    }
}
