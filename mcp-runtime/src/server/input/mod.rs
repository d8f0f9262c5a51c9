//! 2026-07-28 has no requests from server to client. A handler that needs the client (sampling,
//! elicitation, roots) on `tools/call`, `prompts/get` or `resources/read` is answered `resultType:
//! "input_required"` with the requests it made and a sealed `requestState` ([`seal`]); the client calls
//! again with `inputResponses` and that state, and the handler runs again from the start: this time each
//! request it makes is answered from those responses, or from the answers of earlier rounds the state
//! carries (MRTR, multi-round-trip requests, SEP-2322).
//!
//! A request is keyed by the name the handler gives it ([`crate::Context::ask`]) or else by its method and
//! the order of such requests (`sampling/createMessage:0`), so a handler that asks the same things in the
//! same order is answered the same way on every attempt. The answers come from the client: they are as
//! trustworthy as the client. The state makes sure they are this client's, for this request, and recent.
//!
//! A handler that fails after a request of it was refused for a capability the client did not declare is
//! answered −32021 instead ([`capability`]).

mod capability;
pub(crate) mod seal;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use self::capability::{Ran, missing_capabilities};
use self::seal::{Binding, Carried};
use crate::protocol::{ErrorObject, method};
use crate::request::{McpRequest, McpResponse, Outcome, Principal};
use crate::server::App;

/// The input exchange of one 2026-07-28 attempt at a request that may ask the client for input.
#[derive(Debug)]
pub(crate) struct InputExchange {
    /// What the request is, for the state its next round carries ([`Asked::binding`]).
    request: Asked,
    /// The answers this attempt knows: carried by the state from earlier rounds, then the client's new ones.
    responses: Map<String, Value>,
    /// The answers the handler used in this attempt: what the next round's state carries.
    used: Mutex<Map<String, Value>>,
    /// What the handler kept ([`crate::Context::remember`]), from earlier rounds and this one.
    kept: Mutex<Map<String, Value>>,
    next: AtomicUsize,
    needed: Mutex<Map<String, Value>>,
    raised: Notify,
    /// The capabilities the handler's requests needed and the client did not declare ([`Self::refuse`]).
    refused: Mutex<BTreeSet<&'static str>>,
}

/// The method of a request a server may answer `input_required` on (SEP-2322, "Supported Requests").
fn may_ask(method: &str) -> Option<&'static str> {
    [method::TOOLS_CALL, method::PROMPTS_GET, method::RESOURCES_READ].into_iter().find(|m| *m == method)
}

/// The request an exchange belongs to, as it arrived: its [`Binding`] is written out only when a state is
/// opened or sealed, not on every request.
#[derive(Debug)]
struct Asked {
    principal: Arc<Principal>,
    method: &'static str,
    name: String,
    arguments: [u8; 32],
}

impl Asked {
    fn binding(&self) -> Binding {
        Binding {
            principal: format!("{}:{}", self.principal.method.as_str(), self.principal.id),
            method: self.method.to_owned(),
            name: self.name.clone(),
            arguments: hex::encode(self.arguments),
        }
    }
}

impl InputExchange {
    /// The exchange of `req`, a request for `name` (a tool or prompt, or a resource's URI) with
    /// `arguments`: its `inputResponses` and its `requestState`, opened and checked. `None` outside
    /// 2026-07-28 and for methods that may not ask (their `inputResponses`/`requestState` are dropped).
    ///
    /// # Errors
    /// −32602 when `inputResponses` is not an object of result objects, or `requestState` is not a
    /// string or does not open for this caller and request (tampered, expired, foreign).
    pub(crate) fn open(
        app: &App,
        req: &mut McpRequest,
        name: &str,
        arguments: Option<&Map<String, Value>>,
    ) -> Result<Option<Arc<Self>>, ErrorObject> {
        let responses = req.params.remove("inputResponses");
        let state = req.params.remove("requestState");
        let Some(method) = may_ask(&req.method).filter(|_| req.version.is_stateless()) else { return Ok(None) };
        let responses = match responses {
            None => Map::new(),
            Some(Value::Object(responses)) => {
                if let Some((key, _)) = responses.iter().find(|(_, answer)| !answer.is_object()) {
                    return Err(ErrorObject::invalid_params(format_args!(
                        "inputResponses[{key:?}] must be the client's result object for that request"
                    )));
                }
                responses
            }
            Some(_) => {
                return Err(ErrorObject::invalid_params(
                    "inputResponses must be an object keyed by the server's inputRequests",
                ));
            }
        };
        let request = Asked {
            principal: Arc::clone(&req.principal),
            method,
            name: name.to_owned(),
            arguments: seal::digest(arguments),
        };
        let carried = match state {
            None => Carried::default(),
            Some(Value::String(token)) => app
                .request_state()
                .open(&request.binding(), &token)
                .map_err(|refused| ErrorObject::invalid_params(format_args!("{refused}")))?,
            Some(_) => return Err(ErrorObject::invalid_params("requestState must be the string the server gave")),
        };
        // What earlier rounds answered stands; the client's new answers fill in the rest.
        let mut known = responses;
        known.extend(carried.answers);
        Ok(Some(Arc::new(Self {
            request,
            responses: known,
            used: Mutex::default(),
            kept: Mutex::new(carried.kept),
            next: AtomicUsize::new(0),
            needed: Mutex::default(),
            raised: Notify::new(),
            refused: Mutex::default(),
        })))
    }

    /// The client's answer to the request `key` when it gave one (now or in an earlier round); otherwise
    /// records the request and never completes (the attempt ends with `input_required`). `key: None`
    /// keys it by `method` and the order of such requests.
    pub(crate) async fn request(&self, key: Option<&str>, method: &'static str, params: Value) -> Value {
        let key = match key {
            Some(key) => key.to_owned(),
            None => format!("{method}:{}", self.next.fetch_add(1, Ordering::Relaxed)),
        };
        if let Some(answer) = self.responses.get(&key) {
            lock(&self.used).insert(key, answer.clone());
            return answer.clone();
        }
        lock(&self.needed).insert(key, json!({ "method": method, "params": params }));
        self.raised.notify_one();
        std::future::pending().await
    }

    /// Notes that a request of the handler needed the client's `capability`, which the client did not
    /// declare (the handler is told so): should the handler then fail, the request is answered −32021.
    pub(crate) fn refuse(&self, capability: &'static str) {
        lock(&self.refused).insert(capability);
    }

    /// What the handler kept under `key` in an earlier round, if it did.
    pub(crate) fn recall(&self, key: &str) -> Option<Value> {
        lock(&self.kept).get(key).cloned()
    }

    /// Keeps `value` under `key` for the next rounds.
    pub(crate) fn keep(&self, key: &str, value: Value) {
        lock(&self.kept).insert(key.to_owned(), value);
    }

    /// The requests the handler made that the client has not answered (empty: none).
    pub(crate) fn needed(&self) -> Map<String, Value> {
        lock(&self.needed).clone()
    }

    /// Completes once the handler made a request the client has not answered, with every such request.
    pub(crate) async fn input_required(&self) -> Map<String, Value> {
        loop {
            let raised = self.raised.notified();
            {
                let needed = lock(&self.needed);
                if !needed.is_empty() {
                    return needed.clone();
                }
            }
            raised.await;
        }
    }

    /// The `input_required` answer asking for `needed`, with the state the retry resumes from.
    pub(crate) fn answer(&self, app: &App, needed: Map<String, Value>) -> McpResponse {
        let carried = Carried { answers: lock(&self.used).clone(), kept: lock(&self.kept).clone() };
        match app.request_state().seal(&self.request.binding(), carried) {
            Ok(state) => app.format().input_required(needed, Some(state)),
            Err(too_long) => McpResponse::error(ErrorObject::internal(too_long), Outcome::ToolError),
        }
    }
}

/// Runs a handler's attempt: its output; or — when it asked the client for something the client has not
/// answered — the `input_required` answer (the handler's future is dropped); or — when it failed after a
/// request of it was refused for a capability the client did not declare — the −32021 refusal naming
/// what was refused. Without an exchange (the handshake era, methods that may not ask) just the handler.
pub(crate) async fn attempt<T: Ran>(
    app: &App,
    inputs: Option<&InputExchange>,
    run: impl Future<Output = T>,
) -> Result<T, McpResponse> {
    let Some(inputs) = inputs else { return Ok(run.await) };
    let ran = tokio::select! {
        ran = run => ran,
        needed = inputs.input_required() => return Err(inputs.answer(app, needed)),
    };
    let refused = lock(&inputs.refused);
    if refused.is_empty() || !ran.failed() {
        return Ok(ran);
    }
    Err(McpResponse::error(missing_capabilities(&refused), Outcome::InvalidRequest))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(responses: Map<String, Value>) -> Arc<InputExchange> {
        Arc::new(InputExchange {
            request: Asked {
                principal: Arc::new(Principal::anonymous()),
                method: method::TOOLS_CALL,
                name: "t".into(),
                arguments: seal::digest(None),
            },
            responses,
            used: Mutex::default(),
            kept: Mutex::default(),
            next: AtomicUsize::new(0),
            needed: Mutex::default(),
            raised: Notify::new(),
            refused: Mutex::default(),
        })
    }

    #[tokio::test]
    async fn known_answers_return_and_unknown_ones_raise() {
        let mut responses = Map::new();
        responses.insert("sampling/createMessage:0".into(), json!({"content": "4"}));
        responses.insert("city".into(), json!({"action": "accept"}));
        let x = exchange(responses);
        assert_eq!(x.request(None, "sampling/createMessage", json!({})).await, json!({"content": "4"}));
        assert_eq!(x.request(Some("city"), "elicitation/create", json!({})).await, json!({"action": "accept"}));
        let pending = Arc::clone(&x);
        let blocked =
            tokio::spawn(async move { pending.request(None, "elicitation/create", json!({"message": "?"})).await });
        let needed = x.input_required().await;
        assert_eq!(needed["elicitation/create:1"]["params"]["message"], "?");
        assert!(!blocked.is_finished(), "the request never completes in this attempt");
        blocked.abort();
        let used = lock(&x.used).clone();
        assert_eq!(used.len(), 2, "what was answered is carried into the next round: {used:?}");
    }
}
