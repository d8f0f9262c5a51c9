//! 2026-07-28 has no requests from server to client. A tool that needs the client (sampling,
//! elicitation, roots) is answered `resultType: "input_required"` with the requests it made, and the
//! client calls again with `inputResponses`; the tool runs again from the start and this time each of
//! its requests is answered from those responses (MRTR, multi-round-trip requests).
//!
//! Requests are keyed by method and the order the tool makes them in (`sampling/createMessage:0`), so a
//! tool that asks the same things in the same order is answered the same way on every attempt. The
//! responses come from the client, so they are as trustworthy as the client: nothing here is a secret.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::{Map, Value, json};
use tokio::sync::Notify;

/// The input exchange of one 2026-07-28 `tools/call` attempt.
#[derive(Debug, Default)]
pub(crate) struct InputExchange {
    responses: Map<String, Value>,
    next: AtomicUsize,
    needed: Mutex<Map<String, Value>>,
    raised: Notify,
}

impl InputExchange {
    /// An exchange holding the client's `inputResponses` (`None`: none yet).
    pub(crate) fn new(responses: Option<Value>) -> Self {
        let responses = match responses {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Self { responses, ..Self::default() }
    }

    /// The client's answer to this request when it already gave one; otherwise records the request and
    /// never completes (the attempt ends with `input_required`).
    pub(crate) async fn request(&self, method: &'static str, params: Value) -> Value {
        let key = format!("{method}:{}", self.next.fetch_add(1, Ordering::Relaxed));
        if let Some(answer) = self.responses.get(&key) {
            return answer.clone();
        }
        self.needed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, json!({ "method": method, "params": params }));
        self.raised.notify_one();
        std::future::pending().await
    }

    /// The requests the tool made that the client has not answered (empty: none).
    pub(crate) fn needed(&self) -> Map<String, Value> {
        self.needed.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Completes once the tool made a request the client has not answered, with every such request.
    pub(crate) async fn input_required(&self) -> Map<String, Value> {
        loop {
            let raised = self.raised.notified();
            {
                let needed = self.needed.lock().unwrap_or_else(PoisonError::into_inner);
                if !needed.is_empty() {
                    return needed.clone();
                }
            }
            raised.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn known_answers_return_and_unknown_ones_raise() {
        let x = Arc::new(InputExchange::new(Some(json!({"sampling/createMessage:0": {"content": "4"}}))));
        assert_eq!(x.request("sampling/createMessage", json!({})).await, json!({"content": "4"}));
        let pending = Arc::clone(&x);
        let blocked = tokio::spawn(async move { pending.request("elicitation/create", json!({"message": "?"})).await });
        let needed = x.input_required().await;
        assert_eq!(needed["elicitation/create:1"]["params"]["message"], "?");
        assert!(!blocked.is_finished(), "the request never completes in this attempt");
        blocked.abort();
    }
}
