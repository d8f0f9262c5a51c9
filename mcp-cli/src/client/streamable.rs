//! rmcp's Streamable HTTP transport on the CLI's own HTTP backend: a POST per message, answers as JSON or
//! an SSE stream. rmcp's own backend is reqwest 0.13 without TLS here; this one is the CLI's client
//! (`http`: rustls, no redirect followed), adds the `--header` headers to every request, caps every
//! answer, and explains refusals from their status, challenge and body. It records the failure it meets,
//! for the command to report: rmcp passes some on only as a closed connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::NeverRetry;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError, StreamableHttpPostResponse,
};
use serde_json::Value;
use sse_stream::{Error as SseError, Sse, SseStream};

use super::{ClientError, shorten};
use crate::http::{self, BodyError, MAX_BODY, TooLarge, error_chain};

/// The failure the backend met last, if any: taken when a request fails.
pub(super) type Failures = Arc<Mutex<Option<ClientError>>>;

/// Takes the recorded failure.
pub(super) fn take(failures: &Failures) -> Option<ClientError> {
    failures.lock().unwrap_or_else(PoisonError::into_inner).take()
}

type HttpResult<T> = Result<T, StreamableHttpError<ClientError>>;

/// The CLI's HTTP backend for rmcp's transport.
#[derive(Clone)]
pub(super) struct HttpBackend {
    client: reqwest::Client,
    /// The `--header` headers.
    headers: HeaderMap,
    failures: Failures,
}

impl HttpBackend {
    pub(super) fn new(headers: HeaderMap, timeout: Duration) -> Result<(Self, Failures), ClientError> {
        let client = http::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ClientError::Unreachable(format!("cannot build an HTTP client: {e}")))?;
        let failures = Failures::default();
        Ok((Self { client, headers, failures: Arc::clone(&failures) }, failures))
    }

    /// rmcp's transport to `url` on this backend. It opens no GET stream (the CLI waits for nothing the
    /// server would send unasked), so it has nothing to reconnect.
    pub(super) fn transport(self, url: &str) -> StreamableHttpClientTransport<Self> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
        config.retry_config = Arc::new(NeverRetry::default());
        StreamableHttpClientTransport::with_client(self, config)
    }

    /// Records `error` (the first one since the request began) and hands it to rmcp.
    fn fail(&self, error: ClientError) -> StreamableHttpError<ClientError> {
        let mut slot = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(error.clone());
        }
        StreamableHttpError::Client(error)
    }

    /// What a non-2xx answer means: see [`refusal`].
    async fn refusal(&self, response: reqwest::Response, url: &str, in_session: bool) -> ClientError {
        if let Some(redirect) = http::redirect(&response) {
            return ClientError::Redirected(format!("{url}: {redirect}"));
        }
        let (status, challenge) = (response.status().as_u16(), challenge(&response));
        refusal(status, challenge.as_deref(), &http::error_body(response).await, !self.headers.is_empty(), in_session)
    }

    /// The SSE events of `response`, refusing an event larger than the cap (and recording why).
    fn events(&self, response: reqwest::Response, method: &str) -> BoxStream<'static, Result<Sse, SseError>> {
        let (backend, method) = (self.clone(), method.to_owned());
        let mut cap = EventCap::default();
        let chunks = response.bytes_stream().scan(false, move |failed, chunk| {
            let item = match chunk {
                _ if *failed => None,
                Ok(bytes) => match cap.feed(&bytes) {
                    Ok(()) => Some(Ok(bytes)),
                    Err(too_large) => {
                        Some(Err(ClientError::TooLarge(format!("an event answering `{method}`"), too_large)))
                    }
                },
                Err(e) => Some(Err(ClientError::Closed(format!(
                    "the stream answering `{method}` broke: {}",
                    error_chain(&e)
                )))),
            };
            if let Some(Err(error)) = &item {
                *failed = true;
                drop(backend.fail(error.clone()));
            }
            std::future::ready(item)
        });
        SseStream::from_bytes_stream(chunks).boxed()
    }
}

impl StreamableHttpClient for HttpBackend {
    type Error = ClientError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<reqwest::header::HeaderName, reqwest::header::HeaderValue>,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let awaits_answer = matches!(message, JsonRpcMessage::Request(_));
        let body = serde_json::to_value(&message)?;
        let method = body.get("method").and_then(Value::as_str).unwrap_or("response").to_owned();
        let mut request = self
            .client
            .post(uri.as_ref())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream");
        for (name, value) in custom_headers {
            request = request.header(name, value);
        }
        if let Some(session) = &session_id {
            request = request.header("mcp-session-id", session.as_ref());
        }
        let response =
            request.body(body.to_string()).send().await.map_err(|e| self.fail(send_error(&e, &uri, &method)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.fail(self.refusal(response, &uri, session_id.is_some()).await));
        }
        let session = response.headers().get("mcp-session-id").and_then(|s| s.to_str().ok()).map(str::to_owned);
        if matches!(status.as_u16(), 202 | 204) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        let content_type =
            response.headers().get(CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        if content_type.starts_with("text/event-stream") {
            return Ok(StreamableHttpPostResponse::Sse(self.events(response, &method), session));
        }
        let mut response = response;
        let body = match http::read_body(&mut response, MAX_BODY).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(too_large)) => {
                return Err(self.fail(ClientError::TooLarge(format!("the answer to `{method}`"), too_large)));
            }
            Err(BodyError::Broken(e)) => {
                let broken = format!("reading the answer to `{method}` failed: {}", error_chain(&e));
                return Err(self.fail(ClientError::Closed(broken)));
            }
        };
        match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
            Ok(answer) => Ok(StreamableHttpPostResponse::Json(answer, session)),
            Err(_) if !awaits_answer => Ok(StreamableHttpPostResponse::Accepted),
            Err(e) => {
                let text = String::from_utf8_lossy(&body);
                let not_mcp = format!("the answer to `{method}` is not JSON-RPC ({e}): {}", shorten(&text, 200));
                Err(self.fail(ClientError::Protocol(not_mcp)))
            }
        }
    }

    /// DELETEs the session (a server that has none, or refuses, is left alone).
    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<reqwest::header::HeaderName, reqwest::header::HeaderValue>,
    ) -> HttpResult<()> {
        let mut request = self.client.delete(uri.as_ref()).headers(self.headers.clone());
        for (name, value) in custom_headers {
            request = request.header(name, value);
        }
        let _ = request.header("mcp-session-id", session_id.as_ref()).send().await;
        Ok(())
    }

    /// No GET stream: see [`HttpBackend::transport`].
    async fn get_stream(
        &self,
        _uri: Arc<str>,
        _session_id: Option<Arc<str>>,
        _last_event_id: Option<String>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<reqwest::header::HeaderName, reqwest::header::HeaderValue>,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        Err(StreamableHttpError::ServerDoesNotSupportSse)
    }
}

/// The `WWW-Authenticate` challenge of `response`, if any.
pub(super) fn challenge(response: &reqwest::Response) -> Option<String> {
    response.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).map(str::to_owned)
}

/// What a non-2xx, non-3xx answer means: credentials wanted (none were sent: `credentials` false) or
/// refused, a scope missing, a session unknown, another status; each with what the server said (`body`).
pub(super) fn refusal(
    status: u16,
    challenge: Option<&str>,
    body: &str,
    credentials: bool,
    in_session: bool,
) -> ClientError {
    let detail = error_detail(body);
    match status {
        401 if !credentials => ClientError::Unauthorized(format!(
            "the server wants credentials ({detail}); pass them with --header \"Authorization: Bearer KEY\""
        )),
        401 => {
            let why = challenge.and_then(|c| auth_param(c, "error_description")).unwrap_or(detail);
            ClientError::Unauthorized(format!("the credentials sent were refused ({why})"))
        }
        403 => ClientError::Forbidden(detail),
        404 if in_session => ClientError::Status(404, format!("the session is unknown or expired ({detail})")),
        code => ClientError::Status(code, detail),
    }
}

/// Why a request could not be sent or its answer not read.
pub(super) fn send_error(error: &reqwest::Error, url: &str, method: &str) -> ClientError {
    if error.is_connect() {
        ClientError::Unreachable(format!("cannot connect to {url}: {}", error_chain(error)))
    } else {
        ClientError::Closed(format!("`{method}` to {url} failed: {}", error_chain(error)))
    }
}

/// Counts the bytes of the SSE event being read: an event ends at a blank line.
#[derive(Debug, Default)]
pub(super) struct EventCap {
    /// Bytes of the event so far.
    event: usize,
    /// Bytes of its current line so far (`\r` not counted).
    line: usize,
}

impl EventCap {
    pub(super) fn feed(&mut self, bytes: &[u8]) -> Result<(), TooLarge> {
        for &byte in bytes {
            match byte {
                b'\n' if self.line == 0 => self.event = 0,
                b'\n' => self.line = 0,
                b'\r' => {}
                _ => self.line += 1,
            }
            self.event += 1;
            if self.event > MAX_BODY {
                return Err(TooLarge { cap: MAX_BODY });
            }
        }
        Ok(())
    }
}

/// The message of a JSON-RPC error body, or the body itself, shortened.
pub(crate) fn error_detail(body: &str) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_owned));
    match message {
        Some(message) => message,
        None if body.trim().is_empty() => "empty body".to_owned(),
        None => shorten(body.trim(), 200),
    }
}

/// A parameter of a `WWW-Authenticate` challenge (`error_description="…"`).
pub(crate) fn auth_param(challenge: &str, name: &str) -> Option<String> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &challenge[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_and_challenges_are_read() {
        assert_eq!(error_detail(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32010,"message":"no"}}"#), "no");
        assert_eq!(error_detail(""), "empty body");
        assert_eq!(error_detail("plain"), "plain");
        let challenge = r#"Bearer realm="x", error="invalid_token", error_description="unknown API key""#;
        assert_eq!(auth_param(challenge, "error_description").as_deref(), Some("unknown API key"));
        assert_eq!(auth_param(challenge, "scope"), None);
    }

    #[test]
    fn an_sse_event_beyond_the_cap_is_refused_and_small_events_pass() {
        let mut cap = EventCap::default();
        let line = vec![b'a'; 1 << 20];
        for _ in 0..16 {
            cap.feed(&line).unwrap();
        }
        assert_eq!(cap.feed(b"aa"), Err(TooLarge { cap: MAX_BODY }), "one event without its blank line");
        let mut cap = EventCap::default();
        for _ in 0..40 {
            cap.feed(b"data: ").unwrap();
            cap.feed(&line).unwrap();
            cap.feed(b"\r\n\r\n").unwrap();
        }
    }
}
