//! [`AuditRecord`]: what one request leaves behind.

use std::net::IpAddr;
use std::time::{Instant, SystemTime};

use serde::Serialize;
use serde_json::Value;

use crate::protocol::RequestId;
pub(crate) use crate::protocol::rfc3339;
use crate::request::{Decision, Outcome, Principal, TransportKind};

/// The client as the record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditClient {
    /// `clientInfo.name`.
    pub name: String,
    /// `clientInfo.version`.
    pub version: String,
}

/// One request's record: a JSON line a SIEM can ingest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When the request arrived (RFC 3339, UTC, microseconds).
    pub ts: String,
    /// The JSON-RPC id, when the request had one.
    pub request_id: Option<Value>,
    /// The trace the request belongs to (W3C, hex), when tracing is on.
    pub trace_id: Option<String>,
    /// The request's span, when tracing is on.
    pub span_id: Option<String>,
    /// The principal's id, or `anonymous`.
    pub principal: String,
    /// How it was authenticated (`api-key`, `jwt`, `introspection`, `anonymous`, a custom name).
    pub auth_method: String,
    /// `stdio`, `http`, `sse`.
    pub transport: &'static str,
    /// The revision it was served under, when admitted.
    pub protocol_version: Option<&'static str>,
    /// The client's address, when the transport has one.
    pub source: Option<String>,
    /// The method, when the request was read.
    pub method: Option<String>,
    /// The tool, for `tools/call`.
    pub tool: Option<String>,
    /// `allow` or `deny`.
    pub decision: Decision,
    /// Why it ended.
    pub reason: Outcome,
    /// From arrival to answer.
    pub latency_us: u64,
    /// The arguments, redacted (`audit.arguments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// HMAC-SHA256 (hex) under `audit.redact_key` of the arguments as received (before redaction), to match
    /// records without the values; `None` without a key, since a plain hash of a short secret (a PIN, a
    /// phone number) is reversed by trying every value. The name is kept for the records' readers.
    pub arguments_sha256: Option<String>,
    /// The tool's result, redacted, when `audit.results` is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The client's name and version, when it said.
    pub client: Option<AuditClient>,
    /// For the record of a task's outcome: the task. (The request that created it has its own record,
    /// with the same `request_id`.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<AuditTask>,
}

/// The task an outcome record is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditTask {
    /// The task's id.
    pub id: String,
    /// How it ended: `completed`, `failed` or `cancelled`.
    pub status: &'static str,
}

impl AuditRecord {
    /// The record of a request refused before it entered the corridor (by a transport).
    pub fn refused(refusal: Refusal<'_>, reason: Outcome) -> Self {
        Self {
            ts: rfc3339(SystemTime::now() - refusal.started.elapsed()),
            request_id: refusal.request_id.and_then(|id| serde_json::to_value(id).ok()),
            trace_id: None,
            span_id: None,
            principal: refusal.principal.map_or_else(|| "anonymous".to_owned(), |p| p.id.clone()),
            auth_method: refusal.principal.map_or("anonymous", |p| p.method.as_str()).to_owned(),
            transport: refusal.transport.as_str(),
            protocol_version: None,
            source: refusal.source.map(|ip| ip.to_string()),
            method: refusal.method.map(str::to_owned),
            tool: None,
            decision: reason.decision(),
            reason,
            latency_us: u64::try_from(refusal.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            arguments: None,
            arguments_sha256: None,
            result: None,
            client: None,
            task: None,
        }
    }
}

/// What a transport knows of a request it refused.
#[derive(Debug, Clone, Copy)]
pub struct Refusal<'a> {
    /// The transport.
    pub transport: TransportKind,
    /// When the request arrived.
    pub started: Instant,
    /// The client's address.
    pub source: Option<IpAddr>,
    /// Who it was, when authentication got that far.
    pub principal: Option<&'a Principal>,
    /// Its method, when the body was read.
    pub method: Option<&'a str>,
    /// Its id, when the body was read.
    pub request_id: Option<&'a RequestId>,
}
