//! The legacy HTTP+SSE transport (protocol 2024-11-05), served only when `transport.kind = "sse"`:
//! `GET /sse` opens a session's one stream and announces where to POST; `POST /messages?sessionId=…`
//! takes each message (202) and every answer travels on the stream. Same corridor, same guard, same
//! limits as Streamable HTTP.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::body::read_json_message;
use super::reply::{self, refusal, session_refused, sse_response};
use super::streamable::{accept_message, feed_paced, stream_place};
use super::{Caller, HttpState};
use crate::protocol::{Answer, ErrorCode, ErrorObject, Message, Outgoing, method};
use crate::request::{Notifier, TransportKind};
use crate::transport::Refused;

pub(super) const SSE_PATH: &str = "/sse";
pub(super) const MESSAGES_PATH: &str = "/messages";

/// Removes a legacy session when its stream's client goes away: the stream is the session.
struct EndSessionOnDrop {
    state: Arc<HttpState>,
    id: String,
}

impl Drop for EndSessionOnDrop {
    fn drop(&mut self) {
        self.state.sessions.remove(&self.id);
    }
}

pub(super) async fn open(State(state): State<Arc<HttpState>>, Extension(caller): Extension<Caller>) -> Response {
    // The stream is the session: it takes a place in both of the caller's shares, and spends its budget.
    let ticket = match stream_place(&state, &caller).await {
        Ok(ticket) => ticket,
        Err(refused) => return refused,
    };
    let session = match state.sessions.open(caller.owner(), caller.key()) {
        Ok(session) => session,
        Err(full) => return session_refused(&state, full, None),
    };
    let log = session.open_stream(state.config.replay_events);
    log.push_named("endpoint", &format!("{MESSAGES_PATH}?sessionId={}", session.id));
    let watch = Arc::clone(&log);
    let closed = session.closed.clone();
    tokio::spawn(async move {
        closed.cancelled().await;
        watch.finish();
    });
    let guard = EndSessionOnDrop { state: Arc::clone(&state), id: session.id.clone() };
    let body = log.follow(None, state.config.keep_alive).map(move |chunk| {
        let _held = (&guard, &ticket);
        chunk
    });
    sse_response(Body::from_stream(body))
}

#[derive(Deserialize)]
pub(super) struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

pub(super) async fn message(
    State(state): State<Arc<HttpState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<SessionQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let message = match read_json_message(&state, &headers, body).await {
        Ok(message) => message,
        Err(response) => return response,
    };
    let owner = caller.owner();
    let found =
        state.sessions.get(&query.session_id, owner.as_deref()).ok().and_then(|s| s.stream(0).map(|log| (s, log)));
    let Some((session, log)) = found else {
        let error = ErrorObject::new(ErrorCode(-32001), "session not found: open a new stream at /sse");
        return refusal(StatusCode::NOT_FOUND, None, Refused::invalid(error));
    };
    let Message::Request(request) = message else {
        accept_message(&session, message);
        return StatusCode::ACCEPTED.into_response();
    };
    let started = std::time::Instant::now();
    let id = request.id.clone();
    let method = request.method.clone();
    let Some(token) = session.start_request(&id) else {
        let error =
            ErrorObject::invalid_request(format_args!("request id {id} is already in use by a request in flight"));
        let refused = Refused::invalid(error);
        return reply::refused(&state, &caller, started, Some((&method, &id)), StatusCode::BAD_REQUEST, refused).await;
    };
    let (tx, mut rx) = mpsc::channel(64);
    let notifier = Notifier::with_requests(tx.clone(), Arc::clone(&session.to_client)).lasting();
    let admitted =
        match crate::transport::admit(&session.protocol, request, notifier, token.clone(), TransportKind::Sse) {
            Ok(mut request) => {
                caller.stamp(&mut request);
                Ok(request)
            }
            // Answered on the stream, so the POST's 202 says nothing: recorded here, and answered with the
            // audit refusal instead when its record could not be kept.
            Err(refused) => {
                Err(refused.record(&state.pipeline, caller.refusal(&state, started, Some((&method, &id)))).await)
            }
        };
    let pipeline = state.pipeline.clone();
    let pump_log = Arc::clone(&log);
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            feed_paced(&pump_log, message).await;
        }
    });
    let initialize = matches!(&admitted, Ok(r) if r.method == method::INITIALIZE);
    let listening = Arc::clone(&session);
    let run = async move {
        let body = match admitted {
            Err(error) => Some(Err(error)),
            Ok(request) => tokio::select! {
                biased;
                () = token.cancelled() => None,
                response = pipeline.call(request) => Some(response.body),
            },
        };
        if let Some(body) = body {
            let _ = tx.send(Outgoing::Answer(Answer { id: Some(id.clone()), body })).await;
        }
        session.end_request(&id);
    };
    if initialize {
        run.await; // the session must be open before the client's next POST is admitted
        // The stream is the session's outbound stream: its change notifications go there too.
        if let Some(listener) = listening.protocol.take_listener() {
            super::session::deliver_to(&listening, log, listener);
        }
    } else {
        tokio::spawn(run);
    }
    StatusCode::ACCEPTED.into_response()
}
