//! A running task's requests to the client (elicitation, sampling, roots), and where their answers come
//! from: under 2025-11-25 a `tasks/result` request carries them to the client on its own stream; under
//! 2026-07-28 `tasks/get` shows them as `inputRequests` and `tasks/update` brings the `inputResponses`.
//! While any is unanswered the task reads `input_required`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use crate::request::PeerError;

/// The requests one task waits on.
#[derive(Debug, Default)]
pub(crate) struct TaskInputs {
    pending: Mutex<BTreeMap<String, Pending>>,
    next: AtomicU64,
}

#[derive(Debug)]
struct Pending {
    method: &'static str,
    params: Value,
    /// Taken when the request is forwarded to the client (2025-11-25), or answered.
    answer: Option<oneshot::Sender<Result<Value, PeerError>>>,
    forwarded: bool,
}

/// One request to forward: its method and parameters, and where the client's answer goes.
pub(crate) struct Forward {
    pub(crate) method: &'static str,
    pub(crate) params: Value,
    pub(crate) answer: oneshot::Sender<Result<Value, PeerError>>,
}

impl TaskInputs {
    /// Records a request and returns its key and the receiver of its answer.
    pub(crate) fn raise(
        &self,
        method: &'static str,
        params: Value,
    ) -> (String, oneshot::Receiver<Result<Value, PeerError>>) {
        let key = format!("{}-{}", method.replace('/', "-"), self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        let pending = Pending { method, params, answer: Some(tx), forwarded: false };
        self.lock().insert(key.clone(), pending);
        (key, rx)
    }

    /// Forgets a request (answered, timed out or dropped).
    pub(crate) fn settle(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The requests not answered yet, as 2026-07-28 `inputRequests` (`{key: {method, params}}`).
    pub(crate) fn requests(&self) -> Map<String, Value> {
        self.lock().iter().map(|(k, p)| (k.clone(), json!({ "method": p.method, "params": p.params }))).collect()
    }

    /// Answers the requests named in `responses` (2026-07-28 `tasks/update`); keys of no waiting request
    /// are ignored. Returns how many were answered.
    pub(crate) fn respond(&self, responses: Map<String, Value>) -> usize {
        let mut pending = self.lock();
        let mut answered = 0;
        for (key, response) in responses {
            if let Some(sender) = pending.get_mut(&key).and_then(|p| p.answer.take()) {
                answered += usize::from(sender.send(Ok(response)).is_ok());
            }
        }
        answered
    }

    /// The requests not forwarded yet, taken for a 2025-11-25 `tasks/result` to send to the client.
    pub(crate) fn take_unforwarded(&self) -> Vec<Forward> {
        let mut pending = self.lock();
        pending
            .values_mut()
            .filter(|p| !p.forwarded)
            .filter_map(|p| {
                p.forwarded = true;
                p.answer.take().map(|answer| Forward { method: p.method, params: p.params.clone(), answer })
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_is_answered_once_by_its_key() {
        let inputs = TaskInputs::default();
        let (key, rx) = inputs.raise("elicitation/create", json!({"message": "sure?"}));
        assert_eq!(inputs.requests()[&key]["method"], "elicitation/create");
        assert_eq!(inputs.respond(Map::from_iter([("nope".to_owned(), json!({}))])), 0);
        let answer = Map::from_iter([(key.clone(), json!({"action": "accept"}))]);
        assert_eq!(inputs.respond(answer.clone()), 1);
        assert_eq!(rx.await.unwrap().unwrap()["action"], "accept");
        assert_eq!(inputs.respond(answer), 0, "a second answer finds nothing waiting");
        inputs.settle(&key);
        assert!(inputs.requests().is_empty());
    }

    #[tokio::test]
    async fn forwarding_takes_each_request_once() {
        let inputs = TaskInputs::default();
        let (_key, rx) = inputs.raise("sampling/createMessage", json!({}));
        let taken = inputs.take_unforwarded();
        assert_eq!(taken.len(), 1);
        assert!(inputs.take_unforwarded().is_empty(), "each request is forwarded once");
        for f in taken {
            f.answer.send(Ok(json!({"content": "4"}))).unwrap();
        }
        assert_eq!(rx.await.unwrap().unwrap()["content"], "4");
    }
}
