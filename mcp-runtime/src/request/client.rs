//! The client on the other side of a request: who it is ([`ClientInfo`]), how to reach it ([`Notifier`]) and
//! which log messages it wants ([`LogGate`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::peer::{PeerError, PendingRequests};
use crate::protocol::{Implementation, LogLevel, Outgoing, OutgoingNotification, OutgoingRequest};

/// The peer on the other side of a request: its name and its declared capabilities.
///
/// Handshake-era clients declare these once in `initialize`; 2026-07-28 clients send them with every request.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// `clientInfo`, when the client sent it.
    pub implementation: Option<Implementation>,
    /// `capabilities` (`sampling`, `elicitation`, `roots`, …).
    pub capabilities: Map<String, Value>,
}

/// Sends notifications and requests to the client on the stream the request came in on.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: Option<mpsc::Sender<Outgoing>>,
    requests: Option<Arc<PendingRequests>>,
    /// Whether the channel outlives the request (a connection's, a session's stream) rather than ending
    /// with its answer (a Streamable HTTP POST stream).
    lasting: bool,
}

impl Notifier {
    /// A notifier writing notifications into a transport's outbound channel.
    pub fn new(tx: mpsc::Sender<Outgoing>) -> Self {
        Self { tx: Some(tx), requests: None, lasting: false }
    }

    /// A notifier that can also send requests to the client; their responses are matched in `pending`.
    pub fn with_requests(tx: mpsc::Sender<Outgoing>, pending: Arc<PendingRequests>) -> Self {
        Self { tx: Some(tx), requests: Some(pending), lasting: false }
    }

    /// A notifier that drops everything (for requests no peer listens to).
    pub fn discard() -> Self {
        Self { tx: None, requests: None, lasting: false }
    }

    /// Marks the channel as one that outlives the request: the connection's (stdio) or the session's
    /// stream (legacy SSE). Work that goes on after the answer (a task) may keep talking on it.
    #[must_use]
    pub fn lasting(mut self) -> Self {
        self.lasting = true;
        self
    }

    /// Whether the channel outlives the request ([`Notifier::lasting`]).
    pub fn outlives_request(&self) -> bool {
        self.lasting
    }

    /// Sends a request to the client and waits for its response.
    ///
    /// # Errors
    /// See [`PeerError`].
    pub async fn request(&self, method: &'static str, params: Value, timeout: Duration) -> Result<Value, PeerError> {
        let (Some(tx), Some(pending)) = (&self.tx, &self.requests) else {
            return Err(PeerError::Unavailable("this transport has no channel to the client"));
        };
        let (id, response) = pending.register();
        if tx.send(Outgoing::Request(OutgoingRequest::new(id.clone(), method, params))).await.is_err() {
            pending.forget(&id);
            return Err(PeerError::Closed);
        }
        match tokio::time::timeout(timeout, response).await {
            Ok(Ok(Ok(result))) => Ok(result),
            Ok(Ok(Err(error))) => Err(PeerError::Rejected(error)),
            Ok(Err(_)) => Err(PeerError::Closed),
            Err(_) => {
                pending.forget(&id);
                Err(PeerError::Timeout(timeout))
            }
        }
    }

    /// Sends a notification; waits while the transport's queue is full. A gone peer is not an error:
    /// the notification is dropped.
    pub async fn notify(&self, notification: OutgoingNotification) {
        if let Some(tx) = &self.tx {
            // The receiver is gone only when the connection closed; nothing is owed to it then.
            let _ = tx.send(Outgoing::Notification(notification)).await;
        }
    }
}

/// Which log messages a request may send to its client.
#[derive(Debug, Clone)]
pub(crate) enum LogGate {
    /// Handshake era: the session's level, changed by `logging/setLevel` (`u8::MAX`: off).
    Session(Arc<AtomicU8>),
    /// 2026-07-28: the level in the request's `_meta`, or none (then nothing may be sent).
    Fixed(Option<LogLevel>),
}

impl LogGate {
    pub(crate) fn allows(&self, level: LogLevel) -> bool {
        let threshold = match self {
            Self::Session(v) => LogLevel::from_u8(v.load(Ordering::Relaxed)),
            Self::Fixed(v) => *v,
        };
        threshold.is_some_and(|t| level >= t)
    }
}

impl Notifier {
    /// Over Streamable HTTP, ends the SSE stream this request's messages travel on (see
    /// `Context::close_stream`); a notifier without a channel does nothing.
    pub(crate) async fn close_stream(&self, retry: Duration) {
        if let Some(tx) = &self.tx {
            // The receiver is gone only when the connection closed; nothing is owed to it then.
            let _ = tx.send(Outgoing::CloseStream { retry }).await;
        }
    }
}
