//! What `list`, `call` and `scan --url` share as an HTTP client: careful with the credentials they are given
//! and with the answers they read.
//!
//! - **No redirect is followed.** The `--header` headers are credentials, and a redirect may point anywhere:
//!   reqwest drops `Authorization` on a hop to another origin but keeps every other header (`X-Api-Key`),
//!   and a 307 or 308 sends the body again. A 3xx is reported with its `Location` instead, so a user who
//!   trusts that address can pass it as `--url`.
//! - **Answers are capped.** A body, an SSE event and a line of a stdio server's output are read up to
//!   [`MAX_BODY`] bytes; beyond, the command ends with an error naming the cap. An SSE stream is read one
//!   event at a time and each event is dropped once handled, so a stream that never ends holds at most one
//!   event and is cut off by the command's deadline.

use std::fmt;

use reqwest::header::LOCATION;

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

/// Reads Server-Sent Events incrementally: each complete event's `data:` lines, joined by newlines.
/// Comments (`:` lines) and events without data (priming events) yield nothing. An event (or a line) that
/// grows beyond the cap is refused.
#[derive(Debug)]
pub(crate) struct SseParser {
    cap: usize,
    /// The line being read, up to its `\n`.
    pending: Vec<u8>,
    /// The `data:` lines of the event being read, and their length.
    data: Vec<String>,
    data_len: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::with_cap(MAX_BODY)
    }
}

impl SseParser {
    /// A parser that refuses an event larger than `cap` bytes.
    pub(crate) fn with_cap(cap: usize) -> Self {
        Self { cap, pending: Vec::new(), data: Vec::new(), data_len: 0 }
    }

    /// Takes the next bytes of the stream; returns the data of every event they complete.
    ///
    /// # Errors
    /// [`TooLarge`] when the event being read outgrows the cap.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, TooLarge> {
        let mut events = Vec::new();
        // Each byte is looked at once: a long line arriving in many chunks is not scanned again and again.
        for piece in bytes.split_inclusive(|&b| b == b'\n') {
            self.pending.extend_from_slice(piece);
            if piece.ends_with(b"\n") {
                let raw = std::mem::take(&mut self.pending);
                self.line(&raw, &mut events);
            }
            if self.pending.len() + self.data_len > self.cap {
                return Err(TooLarge { cap: self.cap });
            }
        }
        Ok(events)
    }

    /// The stream ended: the data of an event left without its blank line, if any.
    pub(crate) fn finish(&mut self) -> Option<String> {
        let raw = std::mem::take(&mut self.pending);
        let mut events = Vec::new();
        if !raw.is_empty() {
            // A last line without its newline still counts; alone it completes no event.
            self.line(&raw, &mut events);
        }
        self.dispatch()
    }

    fn line(&mut self, raw: &[u8], events: &mut Vec<String>) {
        let line = String::from_utf8_lossy(raw);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            events.extend(self.dispatch());
        } else if let Some(value) = line.strip_prefix("data") {
            let value = value.strip_prefix(':').map_or("", |v| v.strip_prefix(' ').unwrap_or(v));
            self.data_len += value.len() + 1;
            self.data.push(value.to_owned());
        }
    }

    fn dispatch(&mut self) -> Option<String> {
        let data = std::mem::take(&mut self.data);
        self.data_len = 0;
        let joined = data.join("\n");
        (!joined.trim().is_empty()).then_some(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_read_across_chunks_and_priming_events_skipped() {
        let mut parser = SseParser::default();
        assert!(parser.feed(b"id: 0\ndata:\n\n: keep-alive\n\nid: 1\ndata: {\"a\":").unwrap().is_empty());
        assert_eq!(parser.feed(b"1}\r\n\r\ndata: x\ndata: y\n\ndata:z").unwrap(), ["{\"a\":1}", "x\ny"]);
        assert_eq!(parser.finish().as_deref(), Some("z"));
        assert_eq!(parser.finish(), None);
    }

    #[test]
    fn an_sse_event_or_line_beyond_the_cap_is_refused() {
        let mut parser = SseParser::with_cap(64);
        assert_eq!(parser.feed(&[b'a'; 40]).unwrap(), Vec::<String>::new());
        assert_eq!(parser.feed(&[b'a'; 40]), Err(TooLarge { cap: 64 }), "one line without its end");
        let mut parser = SseParser::with_cap(64);
        for _ in 0..5 {
            assert!(parser.feed(b"data: 0123456789\n").unwrap().is_empty());
        }
        assert!(parser.feed(b"data: 0123456789\n").is_err(), "many lines of one event");
        let mut parser = SseParser::with_cap(64);
        for _ in 0..100 {
            assert_eq!(parser.feed(b"data: 0123456789\n\n").unwrap(), ["0123456789"], "small events pass");
        }
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
