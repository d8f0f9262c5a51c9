//! One stdio client connection: frames in, answers and notifications out. Admission and refusals go the
//! way they go on every transport (`admit`, `Refused`, `Pipeline::refused`).
//!
//! Every request gets exactly one answer (or none, when the client cancelled it, as MCP requires) and one
//! audit record. Reading never waits for a request to run:
//! - up to `transport.max_in_flight` requests run at once;
//! - as many more wait for a place, each in its own task, already in flight: a `notifications/cancelled`
//!   for one ends it unanswered (audited `cancelled`) and frees its place at once;
//! - beyond those, a request is refused at once with −32012 (`data.limit = "concurrency"`, audited
//!   `rate_limited`);
//! - notifications and responses (to the server's own requests) are handled as soon as they are read.
//!
//! Each request of a batch takes a place of its own, by the same rule: a batch is no way around the bound.
//! A 2026-07-28 `subscriptions/listen` holds its place for as long as it listens (no timeout cuts it): size
//! `transport.max_in_flight` for the listens a client keeps open plus its calls.
//!
//! Once `initialize` succeeded, the session's change listener (see `server/handlers/listen.rs`) is delivered
//! on the connection by a task of its own, until the connection ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Refused;
use crate::audit::Refusal;
use crate::auth::Credentials;
use crate::pipeline::Pipeline;
use crate::protocol::jsonrpc::decode;
use crate::protocol::{
    Answer, ErrorCode, ErrorObject, Frame, Message, Notification, Outgoing, Rejected, Request, RequestId, method,
};
use crate::request::{Listener, Notifier, Outcome, PendingRequests, Session, TransportKind};

type InFlight = Arc<Mutex<HashMap<RequestId, Flight>>>;

/// A request in flight: running, or waiting for a place to run in.
struct Flight {
    token: CancellationToken,
    /// The waiting place it holds until it runs or is cancelled.
    place: Option<Arc<OwnedSemaphorePermit>>,
}

/// Where a request goes when it is read.
enum Slot {
    /// A running place was free.
    Run(OwnedSemaphorePermit),
    /// A waiting place: it runs when a running place frees up.
    Wait(OwnedSemaphorePermit),
}

/// A connection's state: its session, its in-flight requests, and its outbound queue.
pub(crate) struct Connection {
    pipeline: Pipeline,
    session: Session,
    out: mpsc::Sender<Outgoing>,
    to_client: Arc<PendingRequests>,
    in_flight: InFlight,
    /// The running places (`transport.max_in_flight`).
    permits: Arc<Semaphore>,
    /// The waiting places, as many as the running ones.
    places: Arc<Semaphore>,
    tasks: TaskTracker,
    transport: TransportKind,
    /// The client's credential (stdio: from the environment), checked for every request; `None` when the
    /// server authenticates nobody.
    credentials: Option<Arc<Credentials>>,
    /// Cancelled when the connection ends: its session's change listener leaves the bus at once.
    ended: CancellationToken,
}

impl Connection {
    pub(crate) fn new(
        pipeline: Pipeline,
        out: mpsc::Sender<Outgoing>,
        transport: TransportKind,
        credentials: Option<Credentials>,
    ) -> Self {
        let max = pipeline.config().transport.max_in_flight.max(1);
        Self {
            pipeline,
            session: Session::new(),
            out,
            to_client: Arc::default(),
            in_flight: InFlight::default(),
            permits: Arc::new(Semaphore::new(max)),
            places: Arc::new(Semaphore::new(max)),
            tasks: TaskTracker::new(),
            transport,
            credentials: credentials.map(Arc::new),
            ended: CancellationToken::new(),
        }
    }

    /// Handles one frame (a stdio line): answers are sent by the tasks it spawns. It never waits for a
    /// request to run, only for the outbound and audit queues (and for `initialize`, answered before the
    /// next frame is read).
    pub(crate) async fn handle_frame(&self, bytes: &[u8]) {
        match decode(bytes) {
            Err(rejected) => self.reject(rejected).await,
            Ok(Frame::Single(Err(rejected))) => self.reject(rejected).await,
            Ok(Frame::Single(Ok(message))) => {
                if let Some(request) = self.accept(message) {
                    // `initialize` settles the session every later request is admitted into: answer it
                    // before reading on.
                    if request.method == method::INITIALIZE {
                        if let (Some(answer), _) = self.prepare(request, None, std::future::ready(())).await {
                            let _ = self.out.send(Outgoing::Answer(answer)).await;
                        }
                        if let Some(listener) = self.session.take_listener() {
                            self.deliver(listener);
                        }
                        return;
                    }
                    let Some(slot) = self.slot() else {
                        let answer = self.busy(&request).await;
                        let _ = self.out.send(Outgoing::Answer(answer)).await;
                        return;
                    };
                    let (place, ready) = self.ready(slot);
                    let run = self.prepare(request, place.map(Arc::new), ready);
                    let out = self.out.clone();
                    self.tasks.spawn(async move {
                        let (answer, permit) = run.await;
                        if let Some(answer) = answer {
                            let _ = out.send(Outgoing::Answer(answer)).await;
                        }
                        drop(permit); // held until the answer is queued: a slow reader of answers slows requests
                    });
                }
            }
            Ok(Frame::Batch(items)) => self.handle_batch(items).await,
        }
    }

    async fn handle_batch(&self, items: Vec<Result<Message, Rejected>>) {
        match self.session.version() {
            Some(v) if v.allows_batches() => {}
            version => {
                let under =
                    version.map_or_else(|| "before initialize".to_owned(), |v| format!("under protocol revision {v}"));
                let error = ErrorObject::invalid_request(format_args!(
                    "JSON-RPC batches are not accepted {under}: they exist only in revisions 2024-11-05 and 2025-03-26"
                ));
                return self.reject(Rejected { id: None, error }).await;
            }
        }
        // Each request takes a place of its own, running or waiting, exactly as it would alone; one that
        // finds none is refused (−32012) inside the batch's answer.
        let mut runs = Vec::with_capacity(items.len());
        let mut answers = Vec::new();
        for item in items {
            match item {
                Err(rejected) => answers.push(Answer { id: rejected.id, body: Err(rejected.error) }),
                Ok(message) => {
                    let Some(request) = self.accept(message) else { continue };
                    match self.slot() {
                        Some(slot) => {
                            let (place, ready) = self.ready(slot);
                            // Its place is free as soon as it has run: the batch's other requests may be
                            // waiting for it, and the batch is answered only when all have run.
                            let run = self.prepare(request, place.map(Arc::new), ready);
                            runs.push(async move { run.await.0 });
                        }
                        None => answers.push(self.busy(&request).await),
                    }
                }
            }
        }
        if runs.is_empty() {
            if !answers.is_empty() {
                let _ = self.out.send(Outgoing::Batch(answers)).await;
            }
            return;
        }
        let out = self.out.clone();
        self.tasks.spawn(async move {
            answers.extend(join_all(runs).await.into_iter().flatten());
            if !answers.is_empty() {
                let _ = out.send(Outgoing::Batch(answers)).await;
            }
        });
    }

    /// A running place if one is free, else a waiting place if one is; `None` when both are full.
    fn slot(&self) -> Option<Slot> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Some(Slot::Run(permit));
        }
        Arc::clone(&self.places).try_acquire_owned().ok().map(Slot::Wait)
    }

    /// The waiting place a slot holds, and the future that yields its running place.
    fn ready(
        &self,
        slot: Slot,
    ) -> (Option<OwnedSemaphorePermit>, impl Future<Output = OwnedSemaphorePermit> + Send + 'static) {
        let (permit, place) = match slot {
            Slot::Run(permit) => (Some(permit), None),
            Slot::Wait(place) => (None, Some(place)),
        };
        let permits = Arc::clone(&self.permits);
        let ready = async move {
            match permit {
                Some(permit) => permit,
                None => permits.acquire_owned().await.expect("the semaphore is never closed"),
            }
        };
        (place, ready)
    }

    /// Refuses a request read while every running and waiting place is taken, and records it.
    async fn busy(&self, request: &Request) -> Answer {
        let max = self.pipeline.config().transport.max_in_flight.max(1);
        let running = max - self.permits.available_permits();
        let waiting = max - self.places.available_permits();
        let mut error = ErrorObject::new(
            ErrorCode::RATE_LIMITED,
            format!(
                "server busy: {running} requests running and {waiting} waiting on this connection \
                 (transport.max_in_flight): retry in 1000 ms"
            ),
        );
        error.data =
            Some(json!({ "retryAfterMs": 1000, "limit": "concurrency", "running": running, "waiting": waiting }));
        tracing::debug!(id = %request.id, method = %request.method, running, waiting, "connection full: request refused");
        let refusal = Refusal {
            transport: self.transport,
            started: Instant::now(),
            source: None,
            principal: None,
            method: Some(&request.method),
            request_id: Some(&request.id),
        };
        let error = Refused::new(error, Outcome::RateLimited).record(&self.pipeline, refusal).await;
        Answer { id: Some(request.id.clone()), body: Err(error) }
    }

    /// Notifications and responses are handled here; requests are returned to be run.
    fn accept(&self, message: Message) -> Option<Request> {
        match message {
            Message::Request(request) => Some(request),
            Message::Notification(n) => {
                self.notification(&n);
                None
            }
            Message::Response(r) => {
                let id = r.id.clone();
                if !self.to_client.complete(r) {
                    tracing::debug!(%id, "ignoring a response to no pending request");
                }
                None
            }
        }
    }

    fn notification(&self, n: &Notification) {
        match n.method.as_str() {
            method::NOTIFICATION_INITIALIZED => self.session.mark_initialized(),
            method::NOTIFICATION_CANCELLED => {
                let Some(id) = n.params.get("requestId").and_then(|v| RequestId::deserialize(v).ok()) else {
                    tracing::debug!("ignoring a malformed notifications/cancelled");
                    return;
                };
                let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
                match in_flight.get_mut(&id) {
                    Some(flight) => {
                        tracing::debug!(%id, reason = ?n.params.get("reason"), "request cancelled by the client");
                        flight.token.cancel();
                        // A waiting request gives its place back now, before the next frame is read.
                        flight.place = None;
                    }
                    None => tracing::debug!(%id, "cancellation for a request not in flight"),
                }
            }
            other => tracing::debug!(method = other, "ignoring notification"),
        }
    }

    /// Registers the request as in flight (holding `place`, its waiting place, if any) and returns the
    /// future that runs it once `ready` yields its running place: the answer (`None`: cancelled) and that
    /// place, to hold until the answer is queued.
    fn prepare<P: Send + 'static>(
        &self,
        request: Request,
        place: Option<Arc<OwnedSemaphorePermit>>,
        ready: impl Future<Output = P> + Send + 'static,
    ) -> impl Future<Output = (Option<Answer>, Option<P>)> + Send + 'static {
        let started = Instant::now();
        let id = request.id.clone();
        let method = request.method.clone();
        let token = CancellationToken::new();
        let duplicate = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
            if in_flight.contains_key(&id) {
                true
            } else {
                in_flight.insert(id.clone(), Flight { token: token.clone(), place });
                false
            }
        };
        let admitted = if duplicate {
            let error =
                ErrorObject::invalid_request(format_args!("request id {id} is already in use by a request in flight"));
            Err(Refused::invalid(error))
        } else {
            let notifier = Notifier::with_requests(self.out.clone(), Arc::clone(&self.to_client)).lasting();
            super::admit(&self.session, request, notifier, token.clone(), self.transport)
        };
        let pipeline = self.pipeline.clone();
        let in_flight = Arc::clone(&self.in_flight);
        let credentials = self.credentials.clone();
        let transport = self.transport;
        async move {
            let refusal = || Refusal {
                transport,
                started,
                source: None,
                principal: None,
                method: Some(&method),
                request_id: Some(&id),
            };
            let mut permit = None;
            // Whether the request reached the corridor, whose audit layer records it however it ends.
            let mut entered = false;
            let answer = match admitted {
                Err(refused) => Some(Err(refused.record(&pipeline, refusal()).await)),
                Ok(mut request) => {
                    let run = async {
                        permit = Some(ready.await);
                        // Running: the waiting place (if it had one) is free.
                        if let Some(flight) = in_flight.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&id) {
                            flight.place = None;
                        }
                        if let Some(credentials) = &credentials {
                            request.principal = match pipeline.gate().authenticate(credentials).await {
                                Ok(principal) => principal,
                                Err(rejection) => return Err(Refused::rejected(&rejection)),
                            };
                        }
                        entered = true;
                        Ok(pipeline.call(request).await.body)
                    };
                    tokio::select! {
                        biased;
                        () = token.cancelled() => None,
                        answered = run => match answered {
                            Ok(body) => Some(body),
                            Err(refused) => Some(Err(refused.record(&pipeline, refusal()).await)),
                        },
                    }
                }
            };
            if answer.is_none() && !entered {
                // Cancelled while it waited for its place, or before the corridor: recorded here.
                pipeline.cancelled(refusal()).await;
            }
            if !duplicate {
                in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
            }
            (answer.map(|body| Answer { id: Some(id.clone()), body }), permit)
        }
    }

    async fn reject(&self, rejected: Rejected) {
        let refusal = Refusal {
            transport: self.transport,
            started: Instant::now(),
            source: None,
            principal: None,
            method: None,
            request_id: rejected.id.as_ref(),
        };
        let error = Refused::invalid(rejected.error).record(&self.pipeline, refusal).await;
        let answer = Answer { id: rejected.id, body: Err(error) };
        let _ = self.out.send(Outgoing::Answer(answer)).await;
    }

    /// Delivers what the session's listener hears as notifications on the connection, after the answers
    /// queued before them, until the connection ends or the server shuts down. The outbound queue is
    /// bounded: while a client does not read, this task waits and the bus coalesces what changes meanwhile
    /// (each kind of list change once, each updated resource once), so the server never waits for it.
    fn deliver(&self, listener: Listener) {
        let (out, ended) = (self.out.clone(), self.ended.clone());
        tokio::spawn(async move {
            let delivery = async {
                while let Some(pending) = listener.next().await {
                    for notification in pending.notifications(None) {
                        if out.send(Outgoing::Notification(notification)).await.is_err() {
                            return; // stdout is gone
                        }
                    }
                }
            };
            tokio::select! {
                biased;
                () = ended.cancelled() => {}
                () = delivery => {}
            }
            drop(listener); // leaves the bus, and frees its caller's place, now
        });
    }

    /// Lets in-flight requests finish for up to `grace`, then cancels the rest. The session's listener leaves
    /// the bus first.
    pub(crate) async fn drain(self, grace: Duration) {
        self.ended.cancel();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_err() {
            let tokens: Vec<_> = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .map(|flight| flight.token.clone())
                .collect();
            tracing::warn!(requests = tokens.len(), "shutdown grace elapsed: cancelling in-flight requests");
            for token in tokens {
                token.cancel();
            }
            self.tasks.wait().await;
        }
    }
}
