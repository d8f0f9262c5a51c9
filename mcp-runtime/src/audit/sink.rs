//! The writer: one thread that takes records off the queue and writes them as JSON lines, with the hash
//! chain when it is on ([`chain`](super::chain)), to stdout, stderr, a rotating file ([`file`](super::file))
//! or `tracing`. With the chain on, a signed checkpoint ends each rotated file and opens the next, and one
//! is written at shutdown ([`Item::Flush`]) and when the queue closes.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use std::net::IpAddr;
use std::sync::Arc;

use opentelemetry::trace::{SpanId, TraceId};

use super::chain::{Chain, ChainKey};
use super::file::FileSink;
use super::record::{AuditClient, AuditRecord, rfc3339};
use super::redact::{Marks, Redactor};
use crate::config::AuditConfig;
use crate::protocol::{ProtocolVersion, RequestId};
use crate::request::Outcome;
use crate::request::Principal;
use crate::request::{ClientInfo, TransportKind};

/// What the queue carries.
pub(crate) enum Item {
    Record(Box<AuditRecord>),
    /// A corridor request's record, finished here: the time formatted, the arguments (and result) redacted
    /// and hashed — work kept off the request's path.
    Call(Box<Unfinished>),
    /// Write and sync everything before, close it with a checkpoint when chained (the server is
    /// stopping), then answer.
    Flush(oneshot::Sender<()>),
}

/// How long the writer waits for more records after a batch before it blocks (see [`Writer::run`]).
const NAP: Duration = Duration::from_millis(1);

enum Target {
    Stdout,
    Stderr,
    Tracing,
    File(FileSink),
}

pub(crate) struct Writer {
    target: Target,
    chain: Option<Chain>,
    /// Records written since the last checkpoint.
    unclosed: bool,
    redactor: std::sync::Arc<Redactor>,
}

/// What the corridor knew of a request, raw: the writer formats, redacts and hashes it into an
/// [`AuditRecord`], keeping that work (and its allocations) off the request's path.
pub(crate) struct Unfinished {
    pub(crate) at: std::time::SystemTime,
    pub(crate) request_id: RequestId,
    pub(crate) trace: Option<(TraceId, SpanId)>,
    pub(crate) principal: Arc<Principal>,
    pub(crate) transport: TransportKind,
    pub(crate) version: ProtocolVersion,
    pub(crate) source: Option<IpAddr>,
    pub(crate) method: String,
    pub(crate) tool: Option<String>,
    pub(crate) client: Arc<ClientInfo>,
    pub(crate) reason: Outcome,
    pub(crate) latency_us: u64,
    pub(crate) arguments: Option<serde_json::Value>,
    pub(crate) result: Option<serde_json::Value>,
    pub(crate) marks: Marks,
    pub(crate) task: Option<super::AuditTask>,
}

impl Unfinished {
    fn finish(self, redactor: &Redactor) -> AuditRecord {
        let (arguments, arguments_sha256) = redactor.arguments(self.arguments.as_ref(), self.marks.clone());
        AuditRecord {
            ts: rfc3339(self.at),
            request_id: serde_json::to_value(&self.request_id).ok(),
            trace_id: self.trace.map(|(trace, _)| trace.to_string()),
            span_id: self.trace.map(|(_, span)| span.to_string()),
            principal: self.principal.id.clone(),
            auth_method: self.principal.method.as_str().to_owned(),
            transport: self.transport.as_str(),
            protocol_version: Some(self.version.as_str()),
            source: self.source.map(|ip| ip.to_string()),
            method: Some(self.method),
            tool: self.tool,
            decision: self.reason.decision(),
            reason: self.reason,
            latency_us: self.latency_us,
            arguments,
            arguments_sha256,
            result: self.result.map(|r| redactor.redact(&r, self.marks.redactions())),
            client: self
                .client
                .implementation
                .as_ref()
                .map(|i| AuditClient { name: i.name.clone(), version: i.version.clone() }),
            task: self.task,
        }
    }
}

impl Writer {
    /// Opens the sink (`destination` already resolved from `auto`).
    pub(crate) fn open(
        destination: &str,
        config: &AuditConfig,
        redactor: std::sync::Arc<Redactor>,
        key: ChainKey,
    ) -> Result<Self, String> {
        let target = match destination {
            "stdout" => Target::Stdout,
            "stderr" => Target::Stderr,
            "tracing" => Target::Tracing,
            other => Target::File(FileSink::open(PathBuf::from(other.strip_prefix("file:").unwrap_or(other)), config)?),
        };
        let chain = config.hash_chain.then(|| match &target {
            // A restarted server continues the file's chain.
            Target::File(sink) => Chain::resume(key, sink.path()),
            _ => Chain::new(key),
        });
        Ok(Self { target, chain, unclosed: false, redactor })
    }

    /// Runs until every sender is gone: batches what is queued, writes it, syncs per policy.
    ///
    /// After writing a batch the writer naps ([`NAP`]) before it looks again, and blocks (to be woken by the
    /// next record) only when a nap found nothing: under load, requests queue records without ever waking
    /// this thread, which costs them a system call each; when idle, the thread sleeps.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Item>) {
        let mut batch = Vec::with_capacity(64 * 1024);
        let mut waiting = Vec::new();
        let mut napped = false;
        loop {
            let first = match rx.try_recv() {
                Ok(item) => item,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) if !napped => {
                    std::thread::sleep(NAP);
                    napped = true;
                    continue;
                }
                Err(mpsc::error::TryRecvError::Empty) => match rx.blocking_recv() {
                    Some(item) => item,
                    None => break,
                },
            };
            napped = false;
            let mut next = Some(first);
            while let Some(item) = next {
                let start = batch.len();
                match item {
                    Item::Record(record) => encode(&record, self.chain.as_mut(), &mut batch),
                    Item::Call(call) => {
                        let record = call.finish(&self.redactor);
                        encode(&record, self.chain.as_mut(), &mut batch);
                    }
                    Item::Flush(done) => waiting.push(done),
                }
                self.rotate_if_full(&mut batch, start);
                next = if batch.len() < 256 * 1024 { rx.try_recv().ok() } else { None };
            }
            self.unclosed |= !batch.is_empty();
            if !waiting.is_empty() {
                self.close(&mut batch);
            }
            if let Err(e) = self.write(&batch, !waiting.is_empty()) {
                tracing::error!(error = %e, "audit records could not be written");
            }
            batch.clear();
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        self.close(&mut batch);
        let _ = self.write(&batch, true);
    }

    /// Rotates the file before the record at `batch[start..]` when it would take the file past
    /// `max_file_bytes`: what comes before it is written to the old file, closed by the checkpoint of the
    /// chain as it stood before that record.
    fn rotate_if_full(&mut self, batch: &mut Vec<u8>, start: usize) {
        let Target::File(sink) = &mut self.target else { return };
        if batch.len() == start || !sink.full(start, batch.len()) {
            return;
        }
        if let Err(e) = sink.write(&batch[..start], false) {
            tracing::error!(error = %e, "audit records could not be written");
        }
        batch.drain(..start);
        let closing = self.chain.as_ref().map(|chain| chain.checkpoint(&chain.before_last()));
        if let Err(e) = sink.rotate(closing.as_deref()) {
            tracing::error!(error = %e, "the audit file could not be rotated");
        }
    }

    /// Appends the chain's checkpoint to `batch` when records were written since the last one.
    fn close(&mut self, batch: &mut Vec<u8>) {
        if let Some(chain) = &self.chain
            && std::mem::take(&mut self.unclosed)
        {
            batch.extend(chain.checkpoint(&chain.mark()));
        }
    }

    fn write(&mut self, batch: &[u8], sync: bool) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(batch)?;
                out.flush()
            }
            Target::Stderr => {
                let mut out = io::stderr().lock();
                out.write_all(batch)?;
                out.flush()
            }
            Target::Tracing => {
                for line in String::from_utf8_lossy(batch).lines() {
                    tracing::info!(target: "mcp_audit", record = line);
                }
                Ok(())
            }
            Target::File(sink) => sink.write(batch, sync),
        }
    }
}

/// Appends `record` to `out` as one JSON line, chained when the chain is on.
fn encode(record: &AuditRecord, chain: Option<&mut Chain>, out: &mut Vec<u8>) {
    let Ok(line) = serde_json::to_string(record) else {
        tracing::error!("an audit record could not be encoded");
        return;
    };
    match chain {
        None => {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        Some(chain) => chain.append(&line, out),
    }
}

/// The writer's work on one corridor record, for `benches/corridor.rs` and nothing else: not a public
/// API, no stability promise, hidden from the docs.
#[doc(hidden)]
pub struct Encoder {
    redactor: Redactor,
    chain: Option<Chain>,
}

#[doc(hidden)]
impl Encoder {
    /// The redaction and chain `[audit]` describes.
    ///
    /// # Errors
    /// An unresolvable redaction key.
    pub fn new(config: &AuditConfig) -> Result<Self, String> {
        let key = ChainKey::from_config(config, true)?;
        Ok(Self { redactor: Redactor::new(config, true)?, chain: config.hash_chain.then(|| Chain::new(key)) })
    }

    /// The record of an allowed `tools/call` of `tool` with `arguments`, finished (time, redaction,
    /// hashes) and appended to `out` as the writer writes it.
    pub fn call(&mut self, tool: &str, arguments: serde_json::Value, out: &mut Vec<u8>) {
        let unfinished = Unfinished {
            at: std::time::SystemTime::now(),
            request_id: RequestId::Number(7.into()),
            trace: Some((
                TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
                SpanId::from(0x00f0_67aa_0ba9_02b7),
            )),
            principal: Arc::new(Principal::new(
                "ops",
                ["inventory:read".to_owned()],
                crate::request::AuthMethod::ApiKey,
            )),
            transport: TransportKind::Http,
            version: ProtocolVersion::LATEST,
            source: Some(IpAddr::from([10, 0, 0, 7])),
            method: "tools/call".to_owned(),
            tool: Some(tool.to_owned()),
            client: Arc::default(),
            reason: Outcome::Ok,
            latency_us: 42,
            arguments: Some(arguments),
            result: None,
            marks: Marks::default(),
            task: None,
        };
        let record = unfinished.finish(&self.redactor);
        encode(&record, self.chain.as_mut(), out);
    }
}
