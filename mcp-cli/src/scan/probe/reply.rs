//! One probe request on the wire: what it sends, and what of the answer it keeps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use sse_stream::SseStream;

use crate::client::{auth_param, error_detail};
use crate::http::{self, MAX_BODY, TooLarge};

/// What the server answered to one POST.
#[derive(Debug, Default)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) session: Option<String>,
    /// The `WWW-Authenticate` challenge.
    pub(super) challenge: Option<String>,
    /// What to say of a redirect (not followed), naming where it points.
    pub(super) redirect: Option<String>,
    pub(super) body: String,
}

impl Reply {
    /// The JSON-RPC messages of the body: one JSON value (an object or a batch), or SSE events.
    pub(super) fn messages(&self) -> Vec<Value> {
        match serde_json::from_str::<Value>(&self.body) {
            Ok(Value::Array(batch)) => batch,
            Ok(one) => vec![one],
            Err(_) => {
                http::sse_data(self.body.as_bytes()).iter().filter_map(|e| serde_json::from_str(e).ok()).collect()
            }
        }
    }

    /// A 2xx answer carrying a JSON-RPC result.
    pub(super) fn accepted(&self) -> bool {
        (200..300).contains(&self.status) && self.messages().iter().any(|m| m.get("result").is_some())
    }

    /// HTTP 429, or the runtime's rate-limit error (−32012).
    pub(super) fn rate_limited(&self) -> bool {
        self.status == 429 || self.messages().iter().any(|m| m.pointer("/error/code") == Some(&json!(-32012)))
    }

    /// How a refusal looks: the status, the challenge's `error` code and the error's message. Two refusals
    /// that look alike were refused for the same reason.
    pub(super) fn refusal(&self) -> (u16, Option<String>, String) {
        let code = self.challenge.as_deref().and_then(|c| auth_param(c, "error"));
        (self.status, code, error_detail(&self.body))
    }

    /// A 2xx tool result that is not an error.
    pub(super) fn served_call(&self) -> bool {
        (200..300).contains(&self.status)
            && self.messages().iter().any(|m| m.get("result").is_some_and(|r| r.get("isError") != Some(&json!(true))))
    }
}

/// POSTs `body`; reads the answer until the body ends, or until an SSE event carried a response. A
/// redirect is not followed; an answer beyond the cap is an error.
pub(super) async fn send(
    client: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: String,
) -> Result<Reply, String> {
    let response = client
        .post(url)
        .headers(headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {}: {}", without_query(url), http::error_chain(&e.without_url())))?;
    let header = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
    let mut reply = Reply {
        status: response.status().as_u16(),
        session: header("mcp-session-id"),
        challenge: header(WWW_AUTHENTICATE.as_str()),
        redirect: http::redirect(&response),
        body: String::new(),
    };
    let sse = header(CONTENT_TYPE.as_str()).is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
    // The body as read, up to the cap: kept whole for the probes, and parsed as it comes when it is SSE.
    let (read, over) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
    let (kept, cut) = (Arc::clone(&read), Arc::clone(&over));
    let chunks = response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() + chunk.len() > MAX_BODY {
            cut.store(true, Ordering::SeqCst);
            // Any error ends the reading; `over` says which.
            return Err(std::io::Error::other(TooLarge { cap: MAX_BODY }));
        }
        kept.extend_from_slice(&chunk);
        Ok(chunk)
    });
    if sse {
        let mut events = SseStream::from_bytes_stream(chunks);
        while let Some(Ok(event)) = events.next().await {
            let answer = event.data.and_then(|d| serde_json::from_str::<Value>(&d).ok());
            if answer.is_some_and(|m| m.get("result").is_some() || m.get("error").is_some()) {
                break;
            }
        }
    } else {
        let mut chunks = std::pin::pin!(chunks);
        while let Some(Ok(_)) = chunks.next().await {}
    }
    if over.load(Ordering::SeqCst) {
        return Err(format!("the answer from {} is {}", without_query(url), TooLarge { cap: MAX_BODY }));
    }
    let bytes = read.lock().unwrap_or_else(PoisonError::into_inner);
    reply.body = String::from_utf8_lossy(&bytes).into_owned();
    Ok(reply)
}

/// `url` without its query string, for messages (a probe's query string is its own, but keep it short).
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply { status, body: body.to_owned(), ..Reply::default() }
    }

    #[test]
    fn replies_are_read_as_json_or_sse() {
        let json = reply(200, r#"{"jsonrpc":"2.0","id":0,"result":{}}"#);
        assert!(json.accepted() && !json.rate_limited());
        let sse = reply(200, "id: 0\ndata:\n\ndata: {\"id\":1,\"result\":{\"isError\":true}}\n\n");
        assert!(sse.accepted() && !sse.served_call());
        let limited = reply(200, r#"{"id":1,"error":{"code":-32012,"message":"slow down"}}"#);
        assert!(limited.rate_limited() && !limited.accepted());
        assert!(!reply(401, r#"{"id":null,"result":{}}"#).accepted());
        assert!(reply(429, "").rate_limited());
    }

    #[test]
    fn refusals_compare_by_status_challenge_code_and_message() {
        let refused = |status, challenge: Option<&str>, body| Reply {
            challenge: challenge.map(str::to_owned),
            ..reply(status, body)
        };
        let body = r#"{"error":{"code":-32010,"message":"invalid credentials: unknown key"}}"#;
        let wrong = refused(401, Some(r#"Bearer realm="x", error="invalid_token""#), body);
        let same = refused(401, Some(r#"Bearer error="invalid_token", realm="x""#), body);
        assert_eq!(wrong.refusal(), same.refusal());
        assert_ne!(wrong.refusal(), refused(401, Some(r#"Bearer realm="x""#), body).refusal(), "no error code");
        assert_ne!(wrong.refusal(), refused(400, Some(r#"Bearer error="invalid_token""#), body).refusal());
        assert_ne!(wrong.refusal(), refused(401, Some(r#"Bearer error="invalid_token""#), "other").refusal());
    }

    /// A loopback server that reads one request (headers and `Content-Length` body), then lets `answer`
    /// write to the connection; returns its URL and what `answer` returned.
    async fn one_answer<T: Send + 'static, F: Future<Output = T> + Send + 'static>(
        answer: impl FnOnce(TcpStream) -> F + Send + 'static,
    ) -> (String, tokio::task::JoinHandle<T>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0; 4096];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length || n == 0 {
                        break;
                    }
                }
            }
            answer(stream).await
        });
        (url, task)
    }

    fn credentials() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("probe-secret"));
        headers
    }

    #[tokio::test]
    async fn a_redirect_is_reported_not_followed() {
        // Where the redirect points: a listener no request may reach.
        let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        elsewhere.set_nonblocking(true).unwrap();
        let location = format!("http://{}/mcp", elsewhere.local_addr().unwrap());
        let answer = format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
        let (url, server) = one_answer(|mut stream: TcpStream| async move {
            stream.write_all(answer.as_bytes()).await.unwrap();
        })
        .await;
        let client = http::builder().build().unwrap();
        let reply = send(&client, &url, &credentials(), "{}".to_owned()).await.unwrap();
        server.await.unwrap();
        assert_eq!(reply.status, 307);
        assert!(reply.redirect.unwrap().contains(&format!("redirects to {location}")));
        // Following it would have connected before `send` returned.
        let reached = elsewhere.accept();
        assert!(
            reached.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "the redirect was followed: {reached:?}"
        );
    }

    #[tokio::test]
    async fn an_endless_answer_is_cut_off_at_the_cap() {
        let (url, server) = one_answer(|mut stream: TcpStream| async move {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await.unwrap();
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0_usize;
            // Until the client hangs up: the stream has no end of its own.
            while stream.write_all(&chunk).await.is_ok() {
                sent += chunk.len();
            }
            sent
        })
        .await;
        let client = http::builder().build().unwrap();
        let error = send(&client, &url, &credentials(), "{}".to_owned()).await.unwrap_err();
        assert!(error.contains("is larger than 16 MiB"), "{error}");
        let sent = server.await.unwrap();
        assert!(sent < 4 * MAX_BODY, "{sent} bytes went out before the probe stopped reading");
    }
}
