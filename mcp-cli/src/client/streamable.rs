//! The server as a Streamable HTTP endpoint: a POST per message, answers as JSON or an SSE stream.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use serde_json::Value;

use super::{ClientError, Incoming, answer_to_result, classify, shorten};
use crate::http::{self, BodyError, MAX_BODY, SseParser, error_chain};

/// A Streamable HTTP endpoint.
pub(super) struct HttpPeer {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    session: Option<String>,
    pub(super) version: Option<String>,
}

impl HttpPeer {
    pub(super) fn new(url: &str, headers: HeaderMap, timeout: Duration) -> Result<Self, ClientError> {
        let client = http::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ClientError::Unreachable(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { client, url: url.to_owned(), headers, session: None, version: None })
    }

    /// The headers of every request after `initialize`: the user's, the session and the protocol version.
    fn session_headers(&self) -> HeaderMap {
        let mut headers = self.headers.clone();
        if let Some(session) = self.session.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
            headers.insert("mcp-session-id", session);
        }
        if let Some(version) = self.version.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert("mcp-protocol-version", version);
        }
        headers
    }

    async fn post(&mut self, message: &Value, method: &str) -> Result<reqwest::Response, ClientError> {
        let response = self
            .client
            .post(&self.url)
            .headers(self.session_headers())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .body(message.to_string())
            .send()
            .await
            .map_err(|e| self.send_error(&e, method))?;
        if self.session.is_none()
            && let Some(session) = response.headers().get("mcp-session-id").and_then(|s| s.to_str().ok())
        {
            self.session = Some(session.to_owned());
        }
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if let Some(redirect) = http::redirect(&response) {
            return Err(ClientError::Redirected(format!("{}: {redirect}", self.url)));
        }
        let challenge = response.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).map(str::to_owned);
        let body = http::error_body(response).await;
        let detail = error_detail(&body);
        Err(match status.as_u16() {
            401 if self.headers.is_empty() => ClientError::Unauthorized(format!(
                "the server wants credentials ({detail}); pass them with --header \"Authorization: Bearer KEY\""
            )),
            401 => {
                let why = challenge.as_deref().and_then(|c| auth_param(c, "error_description")).unwrap_or(detail);
                ClientError::Unauthorized(format!("the credentials sent were refused ({why})"))
            }
            403 => ClientError::Forbidden(detail),
            404 if self.session.is_some() => {
                ClientError::Status(404, format!("the session is unknown or expired ({detail})"))
            }
            code => ClientError::Status(code, detail),
        })
    }

    fn send_error(&self, error: &reqwest::Error, method: &str) -> ClientError {
        if error.is_connect() {
            ClientError::Unreachable(format!("cannot connect to {}: {}", self.url, error_chain(error)))
        } else {
            ClientError::Closed(format!("`{method}` to {} failed: {}", self.url, error_chain(error)))
        }
    }

    pub(super) async fn request(&mut self, message: &Value, id: i64, method: &str) -> Result<Value, ClientError> {
        let mut response = self.post(message, method).await?;
        let content_type =
            response.headers().get(CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        if content_type.starts_with("text/event-stream") {
            let mut parser = SseParser::default();
            loop {
                let chunk = response.chunk().await.map_err(|e| {
                    ClientError::Closed(format!("the stream answering `{method}` broke: {}", error_chain(&e)))
                })?;
                let events = match &chunk {
                    Some(bytes) => parser.feed(bytes).map_err(|too_large| {
                        ClientError::TooLarge(format!("an event answering `{method}`"), too_large)
                    })?,
                    None => parser.finish().into_iter().collect(),
                };
                for data in events {
                    let incoming: Value = serde_json::from_str(&data).map_err(|e| {
                        ClientError::Protocol(format!("an SSE event is not JSON ({e}): {}", shorten(&data, 200)))
                    })?;
                    match classify(&incoming, id) {
                        Incoming::Answer(answer) => return answer_to_result(answer),
                        Incoming::Request(reply) => self.notify(&reply).await?,
                        Incoming::Other => {}
                    }
                }
                if chunk.is_none() {
                    return Err(ClientError::Closed(format!(
                        "the server ended the stream without answering `{method}`"
                    )));
                }
            }
        }
        let body = match http::read_body(&mut response, MAX_BODY).await {
            Ok(body) => String::from_utf8_lossy(&body).into_owned(),
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
        let incoming: Value = serde_json::from_str(&body).map_err(|e| {
            ClientError::Protocol(format!("the answer to `{method}` is not JSON ({e}): {}", shorten(&body, 200)))
        })?;
        match classify(&incoming, id) {
            Incoming::Answer(answer) => answer_to_result(answer),
            _ => Err(ClientError::Protocol(format!(
                "the answer to `{method}` is not its response: {}",
                shorten(&body, 200)
            ))),
        }
    }

    /// POSTs a message that expects no answer (a notification, or a response to the server).
    pub(super) async fn notify(&mut self, message: &Value) -> Result<(), ClientError> {
        let method = message.get("method").and_then(Value::as_str).unwrap_or("response").to_owned();
        self.post(message, &method).await.map(drop)
    }

    /// DELETEs the session, if there is one (a server that has none, or refuses, is left alone).
    pub(super) async fn close(self) {
        if self.session.is_some() {
            let delete = self.client.delete(&self.url).headers(self.session_headers()).send();
            let _ = tokio::time::timeout(Duration::from_secs(5), delete).await;
        }
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
}
