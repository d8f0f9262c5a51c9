//! The audit trail: exactly one [`AuditRecord`] per request, whatever ended it, on every transport.
//!
//! Requests that reach the corridor are recorded by [`AuditLayer`], its outermost stage: it takes a place in
//! the queue *before* the request runs (so a full queue refuses a request rather than losing the record of
//! one that ran), and writes the record when the answer is ready — or `cancelled` when the request's future
//! is dropped. Requests refused before the corridor (bad credentials, a forbidden `Host`, an unreadable body,
//! an unsupported revision) are recorded by the transport through [`Auditor::record`].
//!
//! Records are redacted ([`redact`](self) rules: `audit.redact_fields`, `#[audit(redact)]`,
//! `#[audit(clear)]`), queued (bounded: `audit.queue`, with `audit.on_full` deciding what a full queue does)
//! and written by one thread to stdout, stderr, a rotating file or `tracing`, optionally hash-chained
//! ([`verify`]). At shutdown, after in-flight requests finished, [`Auditor::flush`] writes and syncs
//! everything queued.

mod chain;
mod file;
mod layer;
mod names;
mod record;
mod redact;
mod service;
mod sink;
mod task;
mod verify;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use chain::ChainKey;
pub use layer::AuditLayer;
pub use record::{AuditClient, AuditRecord, AuditTask, Refusal};
pub use service::Audit;
pub(crate) use task::outcome_records;
pub use verify::{Verified, VerifyError, verify, verify_with};

pub(crate) use redact::{Marks, Redactor};
#[doc(hidden)]
pub use sink::Encoder;
pub(crate) use sink::Unfinished;
use sink::{Item, Writer};

use crate::config::{AuditConfig, AuditOnFull, TransportKindConfig};
use crate::protocol::{ErrorCode, ErrorObject};
use crate::request::Outcome;

/// The queue and the policy for when it is full. Shared by the audit layer and the transports.
pub struct Auditor {
    tx: Option<mpsc::Sender<Item>>,
    pub(crate) results: bool,
    on_full: AuditOnFull,
    block_timeout: Duration,
    dropped: AtomicU64,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("enabled", &self.tx.is_some())
            .field("on_full", &self.on_full)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

/// A place in the queue, taken before a request runs; `None` inside when the record will not be kept.
pub struct Slot(Option<mpsc::OwnedPermit<Item>>);

impl Slot {
    /// Writes the record into the place taken for it (never waits, never fails).
    pub fn send(self, record: AuditRecord) {
        if let Some(permit) = self.0 {
            permit.send(Item::Record(Box::new(record)));
        }
    }

    /// Hands a record to the writer to finish (time, redaction, hashes) and write.
    pub(crate) fn send_unfinished(self, record: Unfinished) {
        if let Some(permit) = self.0 {
            permit.send(Item::Call(Box::new(record)));
        }
    }
}

/// The audit queue is full and the policy refused the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the audit trail cannot keep up: retry later")]
pub struct QueueFull;

impl QueueFull {
    /// The answer to a request refused because its record could not be kept: −32014, retry in a second
    /// (over HTTP, 503 with `Retry-After`). The corridor's audit stage and the transports answer with it.
    pub fn error(self) -> ErrorObject {
        ErrorObject::new(ErrorCode::AUDIT_UNAVAILABLE, self.to_string())
            .with_data(serde_json::json!({ "retryAfterMs": 1000 }))
    }
}

impl Auditor {
    /// Starts the writer `[audit]` describes (`auto`: stdout, or stderr over stdio).
    ///
    /// # Errors
    /// An unopenable file (or an existing one that is not an audit trail), an unresolvable redaction or
    /// chain key.
    pub fn new(config: &AuditConfig, transport: TransportKindConfig, allow_inline: bool) -> Result<Self, String> {
        let destination = match (config.destination.as_str(), transport) {
            ("auto", TransportKindConfig::Stdio) => "stderr",
            ("auto", _) => "stdout",
            (other, _) => other,
        };
        let redactor = std::sync::Arc::new(Redactor::new(config, allow_inline)?);
        let tx = if destination == "none" {
            None
        } else {
            let key = ChainKey::from_config(config, allow_inline)?;
            let writer = Writer::open(destination, config, std::sync::Arc::clone(&redactor), key)?;
            let (tx, rx) = mpsc::channel(config.queue.max(1));
            std::thread::Builder::new()
                .name("mcp-audit".to_owned())
                .spawn(move || writer.run(rx))
                .map_err(|e| format!("cannot start the audit writer: {e}"))?;
            Some(tx)
        };
        Ok(Self {
            tx,
            results: config.results,
            on_full: config.on_full,
            block_timeout: config.block_timeout,
            dropped: AtomicU64::new(0),
        })
    }

    /// Whether records are written at all (`audit.destination` is not `"none"`).
    pub(crate) fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Takes a place in the queue for a request about to run, per `audit.on_full`.
    ///
    /// # Errors
    /// [`QueueFull`] under `block` (after `block_timeout`) and `reject`: the request must be refused.
    pub async fn reserve(&self) -> Result<Slot, QueueFull> {
        let Some(tx) = &self.tx else { return Ok(Slot(None)) };
        match tx.clone().try_reserve_owned() {
            Ok(permit) => return Ok(Slot(Some(permit))),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.count_drop(); // the writer is gone: still never a silent loss
                return Ok(Slot(None));
            }
            Err(mpsc::error::TrySendError::Full(_)) => {}
        }
        match self.on_full {
            AuditOnFull::Block => match tokio::time::timeout(self.block_timeout, tx.clone().reserve_owned()).await {
                Ok(Ok(permit)) => Ok(Slot(Some(permit))),
                Ok(Err(_)) => {
                    self.count_drop();
                    Ok(Slot(None))
                }
                Err(_) => {
                    tracing::warn!(waited = ?self.block_timeout, "the audit queue stayed full: request refused");
                    Err(QueueFull)
                }
            },
            AuditOnFull::Reject => {
                tracing::warn!("the audit queue is full: request refused");
                Err(QueueFull)
            }
            AuditOnFull::Drop => {
                self.count_drop();
                Ok(Slot(None))
            }
        }
    }

    /// Records a request refused before the corridor ([`AuditRecord::refused`]).
    ///
    /// # Errors
    /// [`QueueFull`], as [`Auditor::record`].
    pub async fn refused(&self, refusal: Refusal<'_>, reason: Outcome) -> Result<(), QueueFull> {
        if self.tx.is_none() {
            return Ok(());
        }
        self.record(AuditRecord::refused(refusal, reason)).await
    }

    /// Records a request refused before the corridor. A full queue waits up to `block_timeout` under
    /// `block`; under `drop` the record is dropped, counted and logged.
    ///
    /// # Errors
    /// [`QueueFull`] when the queue stayed full under `block` or was full under `reject`: the record is not
    /// written, and the caller answers the request with the audit refusal (−32014, HTTP 503) instead of its
    /// own, so no request is answered without either a record or that refusal.
    pub async fn record(&self, record: AuditRecord) -> Result<(), QueueFull> {
        let Some(tx) = &self.tx else { return Ok(()) };
        let item = Item::Record(Box::new(record));
        let full = match self.on_full {
            AuditOnFull::Block => match tokio::time::timeout(self.block_timeout, tx.send(item)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(_)) => false, // the writer is gone
                Err(_) => true,
            },
            policy => match tx.try_send(item) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => policy == AuditOnFull::Reject,
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            },
        };
        if full {
            tracing::warn!("the audit queue is full: a refused request is answered with the audit refusal");
            return Err(QueueFull);
        }
        self.count_drop();
        Ok(())
    }

    /// Counts (and logs) one record lost: the writer is gone, `drop` dropped it, or it had no answer to
    /// replace (a cancelled request's record under a full queue).
    pub(crate) fn count_drop(&self) {
        let total = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // Logged, never silent; at most once per thousand to keep a flood from flooding the logs.
        if total == 1 || total.is_multiple_of(1000) {
            tracing::warn!(
                dropped = total,
                "audit record dropped: the queue is full (audit.on_full = \"drop\") or the writer is gone"
            );
        }
    }

    /// Records dropped so far (`audit.on_full = "drop"`, or a writer that is gone).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Writes and syncs every record queued so far.
    pub async fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (done, written) = oneshot::channel();
        if tx.send(Item::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}
