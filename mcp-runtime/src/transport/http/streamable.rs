//! The Streamable HTTP endpoint: POST (answered as JSON, or as an SSE stream once the request has
//! something to say before its answer), GET (a session's stream, or a resumption), DELETE.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::read_json_message;
use super::headers::{self, LAST_EVENT_ID, PROTOCOL_VERSION, SESSION_ID};
use super::reply::{self, Audited, refusal, session_refused, share_refused, sse_response};
use super::session::HttpSession;
use super::shares::StreamTicket;
use super::sse::{EventId, EventLog};
use super::{Caller, HttpState};
use crate::protocol::{
    Answer, ErrorCode, ErrorObject, Message, Outgoing, ProtocolVersion, Request, RequestId, meta, method,
};
use crate::request::{Notifier, Outcome, Session, TransportKind};
use crate::transport::Refused;

/// Messages a request may queue before its task waits for the HTTP side.
const REQUEST_QUEUE: usize = 64;

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').map(|m| m.split(';').next().unwrap_or("").trim()).any(|m| m == media || m == "*/*"))
}

/// The era a POSTed request belongs to (SEP-2575).
enum Era<'a> {
    /// 2026-07-28: its `_meta` names this revision, which `MCP-Protocol-Version` must repeat.
    Stateless(&'a str),
    /// 2026-07-28 by its `MCP-Protocol-Version` header (or its `_meta`), without the per-request field its
    /// revision requires: refused with this −32602 before anything else.
    Malformed(ErrorObject),
    /// The handshake era: `initialize`, then the session's requests.
    Handshake,
}

/// Tells a request's era: a request whose `_meta` names a protocol version is a 2026-07-28 one (whatever
/// its method: `initialize` too, which that revision removed); so is one without that field when its
/// `MCP-Protocol-Version` header names 2026-07-28 — it lacks what its revision requires. A request with
/// neither belongs to the handshake era (a header naming a revision this server does not speak is
/// answered there, −32022).
fn era<'a>(request: &'a Request, headers: &HeaderMap) -> Era<'a> {
    let meta = request.params.get("_meta");
    match meta.and_then(|m| m.get(meta::PROTOCOL_VERSION)) {
        Some(Value::String(version)) => return Era::Stateless(version),
        Some(_) => {
            let error =
                ErrorObject::invalid_params(format_args!("`_meta.{}` must be a string", meta::PROTOCOL_VERSION));
            return Era::Malformed(error);
        }
        None => {}
    }
    if !is_stateless(headers) {
        return Era::Handshake;
    }
    let error = match meta {
        Some(Value::Object(_)) => ErrorObject::invalid_params(format_args!(
            "`_meta.{}` is required under 2026-07-28 (the MCP-Protocol-Version header's revision)",
            meta::PROTOCOL_VERSION
        )),
        Some(_) => ErrorObject::invalid_params("`_meta` must be an object"),
        None => ErrorObject::invalid_params(format_args!(
            "a 2026-07-28 request carries `_meta` with `{}` and `{}`",
            meta::PROTOCOL_VERSION,
            meta::CLIENT_CAPABILITIES
        )),
    };
    Era::Malformed(error)
}

/// The client notifications 2026-07-28 removed with the handshake and roots' change notices: a POST
/// carrying one under that revision is answered 404 with −32601 (and no id), as a removed request is.
fn removed_notification(method: &str) -> bool {
    matches!(method, method::NOTIFICATION_INITIALIZED | method::NOTIFICATION_ROOTS_LIST_CHANGED)
}

pub(super) async fn post(State(state): State<Arc<HttpState>>, request: axum::extract::Request) -> Response {
    // The parts are read in place: the `HeaderMap` and `Extension` extractors would clone them.
    let (mut parts, body) = request.into_parts();
    let Some(caller) = parts.extensions.remove::<Caller>() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response(); // the edge authenticates every POST
    };
    let headers = &parts.headers;
    let message = match read_json_message(&state, headers, body).await {
        Ok(message) => message,
        Err(response) => return response,
    };
    let sse = accepts(headers, "text/event-stream");
    if let Message::Request(request) = &message {
        let version = match era(request, headers) {
            Era::Handshake => None,
            Era::Malformed(error) => {
                return refusal(StatusCode::BAD_REQUEST, Some(request.id.clone()), Refused::invalid(error));
            }
            Era::Stateless(version) => Some(version),
        };
        if let Some(version) = version {
            let checked = headers::check_stateless(headers, request, version)
                .and_then(|()| headers::check_params(headers, request, state.pipeline.app()));
            if let Err(error) = checked {
                return refusal(StatusCode::BAD_REQUEST, Some(request.id.clone()), Refused::invalid(error));
            }
            if request.method == method::SUBSCRIPTIONS_LISTEN && !sse {
                // Its notifications travel on the POST's SSE stream: a JSON-only answer would carry nothing.
                let error = ErrorObject::invalid_request(
                    "subscriptions/listen streams its notifications: send Accept: application/json, text/event-stream",
                );
                return refusal(StatusCode::NOT_ACCEPTABLE, Some(request.id.clone()), Refused::invalid(error));
            }
            let Message::Request(request) = message else { unreachable!("matched above") };
            return respond(&state, request, None, sse, caller).await;
        }
    }
    if is_stateless(headers) && !headers.contains_key(SESSION_ID) {
        match &message {
            // A notification 2026-07-28 removed is not accepted (the transport says: an HTTP error).
            Message::Notification(n) if removed_notification(&n.method) => {
                let error = ErrorObject::method_not_found(&n.method);
                return refusal(StatusCode::NOT_FOUND, None, Refused::invalid(error));
            }
            // 2026-07-28 notifications: the only one is notifications/cancelled, and closing the request's
            // stream is the cancellation over HTTP.
            Message::Notification(_) | Message::Response(_) => return StatusCode::ACCEPTED.into_response(),
            Message::Request(_) => {}
        }
    }
    handshake(&state, headers, message, sse, caller).await
}

async fn handshake(state: &HttpState, headers: &HeaderMap, message: Message, sse: bool, caller: Caller) -> Response {
    let id = match &message {
        Message::Request(r) => Some(r.id.clone()),
        _ => None,
    };
    match headers::text(headers, PROTOCOL_VERSION) {
        Ok(None) => {}
        Ok(Some(v)) if v.parse::<ProtocolVersion>().is_ok_and(|v| !v.is_stateless()) => {}
        Ok(Some(v)) => {
            let error = crate::transport::unsupported_version(&v);
            return refusal(StatusCode::BAD_REQUEST, id, Refused::invalid(error));
        }
        Err(e) => return refusal(StatusCode::BAD_REQUEST, id, Refused::invalid(e)),
    }
    // A session belongs to the principal that opened it: another principal presenting its id gets 404.
    let owner = caller.owner();
    let session_id = headers::text(headers, SESSION_ID).ok().flatten();
    match message {
        Message::Request(request) if request.method == method::INITIALIZE => {
            if session_id.is_some() {
                let error =
                    ErrorObject::invalid_request("initialize opens a new session: send it without Mcp-Session-Id");
                return refusal(StatusCode::BAD_REQUEST, id, Refused::invalid(error));
            }
            let session = match state.sessions.open(owner.clone(), caller.key()) {
                Ok(session) => session,
                Err(full) => return session_refused(state, full, id),
            };
            let mut response = respond(state, request, Some(Arc::clone(&session)), false, caller).await;
            if session.protocol.handshake().is_some() {
                if let Ok(value) = HeaderValue::from_str(&session.id) {
                    response.headers_mut().insert(SESSION_ID, value);
                }
                if let Some(listener) = session.protocol.take_listener() {
                    Arc::clone(&session).deliver(listener);
                }
            } else {
                state.sessions.remove(&session.id); // initialize failed: nothing to keep
            }
            response
        }
        Message::Request(request) => {
            with_session(state, session_id, owner.as_deref(), id, |session| {
                respond(state, request, Some(session), sse, caller)
            })
            .await
        }
        other => {
            with_session(state, session_id, owner.as_deref(), None, move |session| async move {
                accept_message(&session, other);
                StatusCode::ACCEPTED.into_response()
            })
            .await
        }
    }
}

/// A place for one standalone stream (a session's GET stream, the legacy `GET /sse`) in the caller's share,
/// with its budget spent (`throttling.per_principal`, `throttling.global`); else the refusal to send.
pub(super) async fn stream_place(state: &HttpState, caller: &Caller) -> Result<StreamTicket, Response> {
    let Some(ticket) = state.streams.take(caller.key()) else {
        let what = "this caller holds its whole share of open streams (http.max_streams_per_caller): close one first";
        return Err(share_refused(state, None, "streams", what));
    };
    match state.pipeline.spend_open(&caller.principal, caller.source).await {
        None => Ok(ticket),
        Some(refused) => {
            let response = reply::answer(state, Answer { id: None, body: refused.body }, false);
            Err(reply::with_outcome(response, refused.outcome))
        }
    }
}

/// A notification or a response from the client, in a session.
pub(super) fn accept_message(session: &HttpSession, message: Message) {
    match message {
        Message::Notification(n) => match n.method.as_str() {
            method::NOTIFICATION_INITIALIZED => session.protocol.mark_initialized(),
            method::NOTIFICATION_CANCELLED => {
                if let Some(id) = n.params.get("requestId").and_then(|v| serde::Deserialize::deserialize(v).ok()) {
                    session.cancel_request(&id);
                }
            }
            other => tracing::debug!(method = other, "ignoring notification"),
        },
        Message::Response(r) => {
            if !session.to_client.complete(r) {
                tracing::debug!("ignoring a response to no pending request");
            }
        }
        Message::Request(_) => unreachable!("requests are run, not accepted"),
    }
}

/// Finds the session a request names, or answers 400 (no id) / 404 (unknown, expired, or another's).
async fn with_session<F, Fut>(
    state: &HttpState,
    session_id: Option<String>,
    owner: Option<&str>,
    id: Option<RequestId>,
    then: F,
) -> Response
where
    F: FnOnce(Arc<HttpSession>) -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(session_id) = session_id else {
        let error = ErrorObject::invalid_request("the Mcp-Session-Id header is required after initialize");
        return refusal(StatusCode::BAD_REQUEST, id, Refused::invalid(error));
    };
    match state.sessions.get(&session_id, owner) {
        Ok(session) => then(session).await,
        Err(_) => {
            let error =
                ErrorObject::new(ErrorCode(-32001), "session not found: it expired or was closed; initialize again");
            refusal(StatusCode::NOT_FOUND, id, Refused::invalid(error))
        }
    }
}

/// Runs one request and answers it: as JSON when the answer is the first thing the request says, as an
/// SSE stream (when the client accepts one) when notifications or requests to the client come first.
async fn respond(
    state: &HttpState,
    request: Request,
    session: Option<Arc<HttpSession>>,
    sse: bool,
    caller: Caller,
) -> Response {
    let started = std::time::Instant::now();
    let id = request.id.clone();
    let method = request.method.clone();
    // A request refused here is answered and recorded at once.
    let refuse = |status: StatusCode, refused: Refused| {
        reply::refused(state, &caller, started, Some((&method, &id)), status, refused)
    };
    let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
    let (token, notifier, protocol) = match &session {
        Some(s) => {
            let Some(token) = s.start_request(&id) else {
                let error = ErrorObject::invalid_request(format_args!(
                    "request id {id} is already in use by a request in flight"
                ));
                return refuse(StatusCode::BAD_REQUEST, Refused::invalid(error)).await;
            };
            (token, Notifier::with_requests(tx, Arc::clone(&s.to_client)), s.protocol.clone())
        }
        None => (CancellationToken::new(), Notifier::new(tx), Session::new()),
    };
    let stateless = session.is_none();
    let admitted = crate::transport::admit(&protocol, request, notifier, token.clone(), TransportKind::Http);
    let mut request = match admitted {
        Ok(request) => request,
        Err(refused) => {
            if let Some(s) = &session {
                s.end_request(&id);
            }
            let status = if stateless { StatusCode::BAD_REQUEST } else { StatusCode::OK };
            return refuse(status, refused).await;
        }
    };
    caller.stamp(&mut request);
    let mut response = run(state, request, session, sse, token, rx, stateless, id).await;
    response.extensions_mut().insert(Audited); // the corridor wrote its record
    response
}

/// The corridor's run of one request: its answer, or `None` when it was cancelled first.
type Call = std::pin::Pin<Box<dyn Future<Output = Option<Answer>> + Send>>;

/// Runs an admitted request through the corridor and answers it.
///
/// The corridor runs in the handler's task, so a request that answers before it says anything else (nearly
/// every one) costs no task and no channel hop. When a notification or a request to the client comes
/// first, the rest of the run moves to a task that feeds the SSE stream.
#[allow(clippy::too_many_arguments)] // one call site; the pieces are the request's plumbing
async fn run(
    state: &HttpState,
    request: crate::request::McpRequest,
    session: Option<Arc<HttpSession>>,
    sse: bool,
    token: CancellationToken,
    mut rx: mpsc::Receiver<Outgoing>,
    stateless: bool,
    id: RequestId,
) -> Response {
    let pipeline = state.pipeline.clone();
    let call_token = token.clone();
    let call_session = session.clone();
    let call: Call = Box::pin(async move {
        let answer = tokio::select! {
            biased;
            () = call_token.cancelled() => None,
            response = pipeline.call(request) => Some(Answer { id: Some(id.clone()), body: response.body }),
        };
        if let Some(s) = call_session {
            s.end_request(&id);
        }
        answer
    });
    // Over 2026-07-28 a client that hangs up has cancelled: dropping the run records it `cancelled`. In the
    // handshake era it may come back: the run goes on in a task of its own.
    let mut call = Running { call: Some(call), cancel: stateless.then(|| token.clone()) };
    let first = tokio::select! {
        biased;
        answer = call.running() => match rx.try_recv() {
            Err(_) => return finished(state, answer, stateless), // nothing came before the answer
            Ok(first) => First::Message(first, Some(answer)),
        },
        message = rx.recv() => match message {
            Some(first) => First::Message(first, None),
            None => First::Closed,
        },
    };
    let (first, answer) = match first {
        First::Closed => return finished(state, call.running().await, stateless),
        First::Message(first, answer) => (first, answer),
    };
    if !sse {
        // A client that takes only JSON gets the answer; what came before it has nowhere to go.
        drop(rx);
        let answer = match answer {
            Some(answer) => answer,
            None => call.running().await,
        };
        return finished(state, answer, stateless);
    }
    let log = match &session {
        Some(s) => {
            let log = s.open_stream(state.config.replay_events);
            log.prime();
            log
        }
        None => EventLog::new(0, state.config.replay_events),
    };
    feed(&log, first);
    let pump_log = Arc::clone(&log);
    let rest = call.take();
    // A 2026 hang-up cancels the request: the token drops with the body.
    let cancel_on_drop = stateless.then(|| token.drop_guard());
    tokio::spawn(async move {
        let answer = match (answer, rest) {
            (Some(answer), _) => answer,
            (None, Some(mut rest)) => loop {
                tokio::select! {
                    biased;
                    answer = &mut rest => break answer,
                    message = rx.recv() => match message {
                        Some(message) => feed_paced(&pump_log, message).await,
                        None => break rest.await,
                    },
                }
            },
            (None, None) => None,
        };
        // What the run said before its answer is in the channel already: it goes first.
        while let Ok(message) = rx.try_recv() {
            feed_paced(&pump_log, message).await;
        }
        if let Some(answer) = answer {
            feed_paced(&pump_log, Outgoing::Answer(answer)).await;
        }
        // Work the tool spawned may still hold a notifier: its messages follow until it lets go.
        while let Some(message) = rx.recv().await {
            feed_paced(&pump_log, message).await;
        }
        pump_log.finish();
    });
    let body = log.follow(None, state.config.keep_alive).map(move |chunk| {
        let _keep = &cancel_on_drop;
        chunk
    });
    sse_response(Body::from_stream(body))
}

/// What a run said first.
enum First {
    /// A message before the answer (and the answer, when the run finished before it was read).
    Message(Outgoing, Option<Option<Answer>>),
    /// The channel closed before anything was said.
    Closed,
}

/// A run in the handler's task: if the handler is dropped while the run is still going (the client hung
/// up), a handshake-era run goes on in a task of its own; a 2026-07-28 run is cancelled (its token, for
/// work the tool spawned) and dropped (its record says `cancelled`).
struct Running {
    call: Option<Call>,
    /// The request's token when a hang-up cancels it (2026-07-28).
    cancel: Option<CancellationToken>,
}

impl Running {
    /// The run, until it answers (`None` once taken or finished: nothing more to wait for).
    async fn running(&mut self) -> Option<Answer> {
        let answer = self.call.as_mut()?.await;
        self.call = None;
        answer
    }

    /// The unfinished run, for a task to finish.
    fn take(&mut self) -> Option<Call> {
        self.call.take()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(call) = self.call.take() else { return };
        match &self.cancel {
            Some(token) => token.cancel(),
            None => drop(tokio::spawn(call)),
        }
    }
}

/// The JSON answer of a finished run, or 202 when it was cancelled before it answered.
fn finished(state: &HttpState, answer: Option<Answer>, stateless: bool) -> Response {
    match answer {
        Some(answer) => reply::answer(state, answer, stateless),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

pub(super) fn feed(log: &EventLog, message: Outgoing) {
    match message {
        Outgoing::CloseStream { retry } => log.disconnect(retry),
        other => log.push(&other),
    }
}

/// [`feed`], once the stream's reader has room (see `EventLog::push_paced`): a request that says more
/// than its reader takes waits, rather than have what was not read dropped from the stream's log.
pub(super) async fn feed_paced(log: &EventLog, message: Outgoing) {
    match message {
        Outgoing::CloseStream { retry } => log.disconnect(retry),
        other => log.push_paced(&other).await,
    }
}

/// GET: the session's stream for messages not tied to a request, or the resumption of a stream with
/// `Last-Event-ID`. 2026-07-28 has no GET (405).
pub(super) async fn get(
    State(state): State<Arc<HttpState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Response {
    if is_stateless(&headers) {
        return reply::method_not_allowed();
    }
    if !accepts(&headers, "text/event-stream") {
        let error = ErrorObject::invalid_request("GET needs Accept: text/event-stream");
        return refusal(StatusCode::NOT_ACCEPTABLE, None, Refused::invalid(error));
    }
    let session_id = headers::text(&headers, SESSION_ID).ok().flatten();
    let keep_alive = state.config.keep_alive;
    let capacity = state.config.replay_events;
    let resume = headers::text(&headers, LAST_EVENT_ID).ok().flatten().and_then(|v| EventId::parse(&v));
    let owner = caller.owner();
    let state = &state;
    with_session(state, session_id, owner.as_deref(), None, |session| async move {
        let resumed = resume.and_then(|r| session.stream(r.stream).map(|log| (log, r.seq)));
        if let Some((log, seq)) = &resumed
            && !log.has_sent(*seq)
        {
            let error = ErrorObject::invalid_request("Last-Event-ID names an event this stream has not sent");
            return refusal(StatusCode::BAD_REQUEST, None, Refused::invalid(error));
        }
        let ticket = match stream_place(state, &caller).await {
            Ok(ticket) => ticket,
            Err(refused) => return refused,
        };
        let (log, after) = match resumed {
            Some((log, seq)) => (log, Some(seq)),
            None => {
                // A new standalone stream carries the session's change notifications; a resumption
                // replays a stream and needs no listener.
                if let Some(refused) = listen_here(state, &session, &caller) {
                    return refused;
                }
                let log = session.open_stream(capacity);
                log.mark_standalone();
                log.prime();
                // Ends with the session.
                let watch = Arc::clone(&log);
                let closed = session.closed.clone();
                tokio::spawn(async move {
                    closed.cancelled().await;
                    watch.finish();
                });
                (log, None)
            }
        };
        // A standalone stream (not the resumption of a request's) is where the session's change
        // notifications go while it is read.
        let outlet = log.is_standalone().then(|| session.attach(Arc::clone(&log)));
        // The stream holds its place in the caller's share, and its outlet, until the body is dropped.
        let body = log.follow(after, keep_alive).map(move |chunk| {
            let _held = (&ticket, &outlet);
            chunk
        });
        sse_response(Body::from_stream(body))
    })
    .await
}

/// Makes sure the session has its change listener before its standalone GET stream opens: `initialize`
/// registered it unless the server was shutting down then; it is asked for again now, and when the server
/// is shutting down the stream is refused (503) rather than opened to carry nothing: the refusal to answer
/// with, if any. (Sessions' listeners are not in the `[listen]` caps: see `Bus::listen_for_session`.)
fn listen_here(state: &HttpState, session: &Arc<HttpSession>, caller: &Caller) -> Option<Response> {
    if !session.claim_delivery() {
        return None;
    }
    let app = state.pipeline.app();
    match crate::server::session_listener(app, &caller.principal, &session.protocol) {
        Ok(Some(listener)) => {
            Arc::clone(session).deliver(listener);
            None
        }
        Ok(None) => None, // the server announces nothing
        Err(refused) => {
            session.release_delivery();
            tracing::info!(principal = %caller.principal.id, error = %refused, "a session's GET stream was refused: no change listener");
            let refused = Refused::new(refused.error(), Outcome::RateLimited);
            Some(refusal(StatusCode::SERVICE_UNAVAILABLE, None, refused))
        }
    }
}

/// DELETE: ends the session. 2026-07-28 has no sessions (405).
pub(super) async fn delete(
    State(state): State<Arc<HttpState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Response {
    if is_stateless(&headers) {
        return reply::method_not_allowed();
    }
    let session_id = headers::text(&headers, SESSION_ID).ok().flatten();
    let sessions = &state.sessions;
    let owner = caller.owner();
    with_session(&state, session_id, owner.as_deref(), None, |session| async move {
        sessions.remove(&session.id);
        StatusCode::OK.into_response()
    })
    .await
}

fn is_stateless(headers: &HeaderMap) -> bool {
    headers::text(headers, PROTOCOL_VERSION)
        .ok()
        .flatten()
        .and_then(|v| v.parse::<ProtocolVersion>().ok())
        .is_some_and(ProtocolVersion::is_stateless)
}
