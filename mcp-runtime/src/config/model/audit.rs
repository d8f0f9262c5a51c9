//! `[audit]`: one JSON record per request, whatever ended it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{TransportKindConfig, duration};

/// `[audit]`: one JSON record per request, whatever ended it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// `auto` (stdout for network transports, stderr over stdio), `stdout`, `stderr`, `file:PATH`,
    /// `tracing` (an event of target `mcp_audit` for your own subscriber) or `none`.
    pub destination: String,
    /// Argument (and result) fields replaced wherever they appear. Names are normalised (lowercase, `_` and
    /// `-` removed) and match the words of a field's name: `token` hides `access_token` and `refreshToken`,
    /// not `token_count` (a field with a measuring word is kept). The list replaces the defaults.
    pub redact_fields: Vec<String>,
    /// The HMAC key redacted values are hashed with (by reference), so equal values can be joined without
    /// being revealed. Without it redacted values are removed.
    pub redact_key: Option<crate::config::SecretRef>,
    /// `redacted` (arguments with redacted fields replaced), `hash-only` (only `arguments_sha256`, an HMAC
    /// under `redact_key`: nothing without a key) or `none`.
    pub arguments: AuditArguments,
    /// Record tool results too (redacted the same way).
    pub results: bool,
    /// Records queued for the writer at most.
    pub queue: usize,
    /// When the queue is full: `block` (wait up to `block_timeout`, then refuse the request with 503),
    /// `reject` (refuse at once) or `drop` (serve it unrecorded, counted and logged).
    pub on_full: AuditOnFull,
    /// How long `block` waits for room.
    #[serde(with = "duration")]
    pub block_timeout: Duration,
    /// File sink: `always` (fsync every batch), `interval` (at most once a second) or `never`.
    pub fsync: AuditFsync,
    /// File sink: rotate past this size (`audit.log` → `audit.log.1` …).
    pub max_file_bytes: u64,
    /// File sink: rotated files kept.
    pub keep_files: usize,
    /// Chain records: each carries `prev_hash` and `hash = HMAC-SHA256(k, prev_hash || record)`, and a
    /// signed checkpoint (record count and last hash) closes each file at rotation and at shutdown; an
    /// edited, removed or reordered record, a cut head or tail breaks it (`--verify-audit FILE`, `cargo mcp
    /// audit verify`). `k` comes from `chain_key`, else `redact_key`; without either the chain is plain
    /// SHA-256 and detects accidental edits only.
    pub hash_chain: bool,
    /// The key the hash chain and its checkpoints are computed with (by reference, like `redact_key`);
    /// unset, the chain uses `redact_key`.
    pub chain_key: Option<crate::config::SecretRef>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            destination: "auto".to_owned(),
            redact_fields: [
                "password",
                "passwd",
                "passphrase",
                "secret",
                "token",
                "api_key",
                "private_key",
                "credential",
                "authorization",
                "cookie",
                "session_id",
            ]
            .map(str::to_owned)
            .to_vec(),
            redact_key: None,
            arguments: AuditArguments::Redacted,
            results: false,
            queue: 10_000,
            on_full: AuditOnFull::Block,
            block_timeout: Duration::from_secs(1),
            fsync: AuditFsync::Interval,
            max_file_bytes: 100 * 1024 * 1024,
            keep_files: 5,
            hash_chain: false,
            chain_key: None,
        }
    }
}

impl AuditConfig {
    pub(crate) fn check(&self, transport: TransportKindConfig) -> Result<(), String> {
        match self.destination.as_str() {
            "auto" | "stderr" | "tracing" | "none" => {}
            "stdout" if transport == TransportKindConfig::Stdio => {
                return Err("audit.destination = \"stdout\" is impossible over stdio (stdout carries the \
                            protocol): use stderr, file:PATH or tracing"
                    .to_owned());
            }
            "stdout" => {}
            other if other.strip_prefix("file:").is_some_and(|p| !p.is_empty()) => {}
            other => {
                return Err(format!(
                    "audit.destination `{other}`: use auto, stdout, stderr, file:PATH, tracing or none"
                ));
            }
        }
        if self.queue == 0 {
            return Err("audit.queue must be above zero".to_owned());
        }
        Ok(())
    }
}

/// `audit.arguments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditArguments {
    /// The arguments, redacted.
    Redacted,
    /// Only their SHA-256.
    HashOnly,
    /// Nothing of them.
    None,
}

/// `audit.on_full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOnFull {
    /// Wait for room up to `block_timeout`, then refuse the request (503) before it runs.
    Block,
    /// Refuse the request (503) before it runs.
    Reject,
    /// Serve the request without a record; counted and logged.
    Drop,
}

/// `audit.fsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditFsync {
    /// After every write.
    Always,
    /// At most once a second.
    Interval,
    /// Never (the OS decides).
    Never,
}
