//! The writer: one thread that takes records off the queue and writes them as JSON lines, with the hash
//! chain when it is on, to stdout, stderr, a rotating file, or `tracing`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use std::net::IpAddr;
use std::sync::Arc;

use opentelemetry::trace::{SpanId, TraceId};

use super::record::{AuditClient, AuditReason, AuditRecord, rfc3339};
use super::redact::{Marks, Redactor, hex};
use crate::auth::Principal;
use crate::config::{AuditConfig, AuditFsync};
use crate::protocol::{ProtocolVersion, RequestId};
use crate::server::{ClientInfo, TransportKind};

/// What the queue carries.
pub(crate) enum Item {
    Record(Box<AuditRecord>),
    /// A corridor request's record, finished here: the time formatted, the arguments (and result) redacted
    /// and hashed — work kept off the request's path.
    Call(Box<Unfinished>),
    /// Write and sync everything before, then answer.
    Flush(oneshot::Sender<()>),
}

/// How long the writer waits for more records after a batch before it blocks (see [`Writer::run`]).
const NAP: Duration = Duration::from_millis(1);

/// The zero hash a chain starts from.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

enum Target {
    Stdout,
    Stderr,
    Tracing,
    File(FileSink),
}

struct FileSink {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    keep: usize,
    fsync: AuditFsync,
    synced: Instant,
}

pub(crate) struct Writer {
    target: Target,
    chain: Option<String>,
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
    pub(crate) reason: AuditReason,
    pub(crate) latency_us: u64,
    pub(crate) arguments: Option<serde_json::Value>,
    pub(crate) result: Option<serde_json::Value>,
    pub(crate) marks: Marks,
}

impl Unfinished {
    fn finish(self, redactor: &Redactor) -> AuditRecord {
        let (arguments, arguments_sha256) = redactor.arguments(self.arguments.as_ref(), self.marks);
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
            result: self.result.map(|r| redactor.redact(&r, Marks { redact: self.marks.redact, clear: &[] })),
            client: self
                .client
                .implementation
                .as_ref()
                .map(|i| AuditClient { name: i.name.clone(), version: i.version.clone() }),
        }
    }
}

impl Writer {
    /// Opens the sink (`destination` already resolved from `auto`).
    pub(crate) fn open(
        destination: &str,
        config: &AuditConfig,
        redactor: std::sync::Arc<Redactor>,
    ) -> Result<Self, String> {
        let target = match destination {
            "stdout" => Target::Stdout,
            "stderr" => Target::Stderr,
            "tracing" => Target::Tracing,
            other => {
                let path = PathBuf::from(other.strip_prefix("file:").unwrap_or(other));
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("audit.destination: cannot open {}: {e}", path.display()))?;
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                Target::File(FileSink {
                    path,
                    file,
                    size,
                    max: config.max_file_bytes.max(1),
                    keep: config.keep_files,
                    fsync: config.fsync,
                    synced: Instant::now(),
                })
            }
        };
        let chain = config.hash_chain.then(|| match &target {
            // A restarted server continues the file's chain.
            Target::File(sink) => last_hash(&sink.path).unwrap_or_else(|| GENESIS.to_owned()),
            _ => GENESIS.to_owned(),
        });
        Ok(Self { target, chain, redactor })
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
                match item {
                    Item::Record(record) => encode(&record, &mut self.chain, &mut batch),
                    Item::Call(call) => {
                        let record = call.finish(&self.redactor);
                        encode(&record, &mut self.chain, &mut batch);
                    }
                    Item::Flush(done) => waiting.push(done),
                }
                next = if batch.len() < 256 * 1024 { rx.try_recv().ok() } else { None };
            }
            if let Err(e) = self.write(&batch, !waiting.is_empty()) {
                tracing::error!(error = %e, "audit records could not be written");
            }
            batch.clear();
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        let _ = self.write(&[], true);
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

impl FileSink {
    fn write(&mut self, batch: &[u8], force_sync: bool) -> io::Result<()> {
        if !batch.is_empty() && self.size > 0 && self.size + batch.len() as u64 > self.max {
            self.rotate()?;
        }
        self.file.write_all(batch)?;
        self.size += batch.len() as u64;
        let due = match self.fsync {
            AuditFsync::Always => true,
            AuditFsync::Interval => self.synced.elapsed() >= Duration::from_secs(1),
            AuditFsync::Never => false,
        };
        if due || force_sync {
            self.file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }

    /// `audit.log` → `audit.log.1`, `.1` → `.2` …, the oldest beyond `keep` deleted.
    fn rotate(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        let name = |n: usize| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(name(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(name(n), name(n + 1));
            }
            std::fs::rename(&self.path, name(1))?;
        }
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Appends `record` to `out` as one JSON line, chained to `chain`'s last hash when the chain is on.
fn encode(record: &AuditRecord, chain: &mut Option<String>, out: &mut Vec<u8>) {
    let Ok(line) = serde_json::to_string(record) else {
        tracing::error!("an audit record could not be encoded");
        return;
    };
    match chain {
        None => out.extend_from_slice(line.as_bytes()),
        Some(prev) => {
            let hash = chain_hash(prev, &line);
            // `{...}` → `{...,"prev_hash":"…","hash":"…"}`: the verifier strips the suffix to rehash.
            out.extend_from_slice(&line.as_bytes()[..line.len() - 1]);
            out.extend_from_slice(format!(r#","prev_hash":"{prev}","hash":"{hash}"}}"#).as_bytes());
            *prev = hash;
        }
    }
    out.push(b'\n');
}

/// The writer's work on one corridor record, for `benches/corridor.rs` and nothing else: not a public
/// API, no stability promise, hidden from the docs.
#[doc(hidden)]
pub struct Encoder {
    redactor: Redactor,
    chain: Option<String>,
}

#[doc(hidden)]
impl Encoder {
    /// The redaction and chain `[audit]` describes.
    ///
    /// # Errors
    /// An unresolvable redaction key.
    pub fn new(config: &AuditConfig) -> Result<Self, String> {
        Ok(Self { redactor: Redactor::new(config, true)?, chain: config.hash_chain.then(|| GENESIS.to_owned()) })
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
            principal: Arc::new(Principal::new("ops", ["inventory:read".to_owned()], crate::auth::AuthMethod::ApiKey)),
            transport: TransportKind::Http,
            version: ProtocolVersion::LATEST,
            source: Some(IpAddr::from([10, 0, 0, 7])),
            method: "tools/call".to_owned(),
            tool: Some(tool.to_owned()),
            client: Arc::default(),
            reason: AuditReason::Ok,
            latency_us: 42,
            arguments: Some(arguments),
            result: None,
            marks: Marks::default(),
        };
        let record = unfinished.finish(&self.redactor);
        encode(&record, &mut self.chain, out);
    }
}

/// SHA-256 of the previous hash followed by the record's JSON, hex.
pub(crate) fn chain_hash(prev: &str, record: &str) -> String {
    let mut input = Vec::with_capacity(prev.len() + record.len());
    input.extend_from_slice(prev.as_bytes());
    input.extend_from_slice(record.as_bytes());
    hex(&crate::auth::sha256(&input))
}

fn last_hash(path: &std::path::Path) -> Option<String> {
    let file = File::open(path).ok()?;
    let last = io::BufReader::new(file).lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()).last()?;
    let value: serde_json::Value = serde_json::from_str(&last).ok()?;
    value.get("hash")?.as_str().map(str::to_owned)
}
