//! One client connection, transport-neutral: frames in, answers and notifications out.
//!
//! Every request gets exactly one answer (or none, when the client cancelled it, as MCP requires);
//! requests run concurrently up to `transport.max_in_flight`, and reading waits beyond that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Deserialize;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::audit::{AuditReason, Refusal};
use crate::auth::Credentials;
use crate::pipeline::Pipeline;
use crate::protocol::jsonrpc::decode;
use crate::protocol::{Answer, ErrorObject, Frame, Message, Notification, Outgoing, Rejected, Request, RequestId};
use crate::server::{Notifier, PendingRequests, Session, TransportKind};

type InFlight = Arc<Mutex<HashMap<RequestId, CancellationToken>>>;

/// A connection's state: its session, its in-flight requests, and its outbound queue.
pub(crate) struct Connection {
    pipeline: Pipeline,
    session: Session,
    out: mpsc::Sender<Outgoing>,
    to_client: Arc<PendingRequests>,
    in_flight: InFlight,
    permits: Arc<Semaphore>,
    tasks: TaskTracker,
    transport: TransportKind,
    /// The client's credential (stdio: from the environment), checked for every request; `None` when the
    /// server authenticates nobody.
    credentials: Option<Arc<Credentials>>,
}

impl Connection {
    pub(crate) fn new(
        pipeline: Pipeline,
        out: mpsc::Sender<Outgoing>,
        transport: TransportKind,
        credentials: Option<Credentials>,
    ) -> Self {
        let permits = Arc::new(Semaphore::new(pipeline.config().transport.max_in_flight.max(1)));
        Self {
            pipeline,
            session: Session::new(),
            out,
            to_client: Arc::default(),
            in_flight: InFlight::default(),
            permits,
            tasks: TaskTracker::new(),
            transport,
            credentials: credentials.map(Arc::new),
        }
    }

    /// Handles one frame (a stdio line): answers are sent by the tasks it spawns.
    pub(crate) async fn handle_frame(&self, bytes: &[u8]) {
        match decode(bytes) {
            Err(rejected) => self.reject(rejected).await,
            Ok(Frame::Single(Err(rejected))) => self.reject(rejected).await,
            Ok(Frame::Single(Ok(message))) => {
                if let Some(request) = self.accept(message) {
                    // `initialize` settles the session every later request is admitted into: answer it
                    // before reading on.
                    if request.method == "initialize" {
                        if let Some(answer) = self.prepare(request).await {
                            let _ = self.out.send(Outgoing::Answer(answer)).await;
                        }
                        return;
                    }
                    let permit =
                        Arc::clone(&self.permits).acquire_owned().await.expect("the semaphore is never closed");
                    let run = self.prepare(request);
                    let out = self.out.clone();
                    self.tasks.spawn(async move {
                        if let Some(answer) = run.await {
                            let _ = out.send(Outgoing::Answer(answer)).await;
                        }
                        drop(permit);
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
        let permit = Arc::clone(&self.permits).acquire_owned().await.expect("the semaphore is never closed");
        let mut runs = Vec::with_capacity(items.len());
        let mut answers = Vec::new();
        for item in items {
            match item {
                Err(rejected) => answers.push(Answer { id: rejected.id, body: Err(rejected.error) }),
                Ok(message) => {
                    if let Some(request) = self.accept(message) {
                        runs.push(self.prepare(request));
                    }
                }
            }
        }
        let out = self.out.clone();
        self.tasks.spawn(async move {
            answers.extend(join_all(runs).await.into_iter().flatten());
            if !answers.is_empty() {
                let _ = out.send(Outgoing::Batch(answers)).await;
            }
            drop(permit);
        });
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
            "notifications/initialized" => self.session.mark_initialized(),
            "notifications/cancelled" => {
                let Some(id) = n.params.get("requestId").and_then(|v| RequestId::deserialize(v).ok()) else {
                    tracing::debug!("ignoring a malformed notifications/cancelled");
                    return;
                };
                let token = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
                match token {
                    Some(token) => {
                        tracing::debug!(%id, reason = ?n.params.get("reason"), "request cancelled by the client");
                        token.cancel();
                    }
                    None => tracing::debug!(%id, "cancellation for a request not in flight"),
                }
            }
            other => tracing::debug!(method = other, "ignoring notification"),
        }
    }

    /// Registers the request as in flight and returns the future that answers it (`None`: cancelled).
    fn prepare(&self, request: Request) -> impl Future<Output = Option<Answer>> + Send + 'static {
        let started = Instant::now();
        let id = request.id.clone();
        let method = request.method.clone();
        let token = CancellationToken::new();
        let duplicate = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
            if in_flight.contains_key(&id) {
                true
            } else {
                in_flight.insert(id.clone(), token.clone());
                false
            }
        };
        let admitted = if duplicate {
            Err(ErrorObject::invalid_request(format_args!("request id {id} is already in use by a request in flight")))
        } else {
            let notifier = Notifier::with_requests(self.out.clone(), Arc::clone(&self.to_client));
            self.session.admit(request, notifier, token.clone(), self.transport)
        };
        let pipeline = self.pipeline.clone();
        let in_flight = Arc::clone(&self.in_flight);
        let credentials = self.credentials.clone();
        let transport = self.transport;
        async move {
            let run = async {
                let mut request = admitted.map_err(|e| (e, AuditReason::InvalidRequest))?;
                if let Some(credentials) = &credentials {
                    request.principal = pipeline
                        .gate()
                        .authenticate(credentials)
                        .await
                        .map_err(|r| (r.error(), AuditReason::Unauthenticated))?;
                }
                Ok(request)
            };
            let answer = match run.await {
                Err((error, reason)) => {
                    let refusal = Refusal {
                        transport,
                        started,
                        source: None,
                        principal: None,
                        method: Some(&method),
                        request_id: Some(&id),
                    };
                    pipeline.refused(refusal, reason).await;
                    Some(Answer { id: Some(id.clone()), body: Err(error) })
                }
                Ok(request) => {
                    tokio::select! {
                        biased;
                        () = token.cancelled() => None,
                        response = pipeline.call(request) => Some(Answer { id: Some(id.clone()), body: response.body }),
                    }
                }
            };
            if !duplicate {
                in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
            }
            answer
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
        self.pipeline.refused(refusal, AuditReason::InvalidRequest).await;
        let answer = Answer { id: rejected.id, body: Err(rejected.error) };
        let _ = self.out.send(Outgoing::Answer(answer)).await;
    }

    /// Lets in-flight requests finish for up to `grace`, then cancels the rest.
    pub(crate) async fn drain(self, grace: Duration) {
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_err() {
            let tokens: Vec<_> =
                self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
            tracing::warn!(requests = tokens.len(), "shutdown grace elapsed: cancelling in-flight requests");
            for token in tokens {
                token.cancel();
            }
            self.tasks.wait().await;
        }
    }
}
