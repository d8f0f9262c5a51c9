//! Requests this server sends to its client (sampling, elicitation, roots) and the matching of the
//! client's responses to them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::protocol::{ErrorObject, RequestId, Response};

/// Why a request to the client got no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The client did not declare the capability the request needs.
    #[error("the client does not support {0}")]
    Unsupported(&'static str),
    /// The client answered with an error.
    #[error("the client refused: {0}")]
    Rejected(ErrorObject),
    /// The connection (or session) closed before the client answered.
    #[error("the client went away before answering")]
    Closed,
    /// The client did not answer in time.
    #[error("the client did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// This request cannot reach the client (a stateless 2026-07-28 request, or a transport without a
    /// channel back).
    #[error("requests to the client are not available here: {0}")]
    Unavailable(&'static str),
}

/// A connection's (or session's) requests to the client that await a response.
#[derive(Debug, Default)]
pub struct PendingRequests {
    next: AtomicI64,
    waiting: Mutex<HashMap<RequestId, oneshot::Sender<Result<Value, ErrorObject>>>>,
}

impl PendingRequests {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh id and the receiver its response will arrive on.
    pub(crate) fn register(&self) -> (RequestId, oneshot::Receiver<Result<Value, ErrorObject>>) {
        let id = RequestId::number(self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), tx);
        (id, rx)
    }

    /// Forgets a request nobody waits for any more (timed out, cancelled).
    pub(crate) fn forget(&self, id: &RequestId) {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Hands a response from the client to the request waiting for it; `false` when none waits.
    pub fn complete(&self, response: Response) -> bool {
        let waiter = self.waiting.lock().unwrap_or_else(PoisonError::into_inner).remove(&response.id);
        match waiter {
            Some(tx) => tx.send(response.outcome).is_ok(),
            None => false,
        }
    }
}
