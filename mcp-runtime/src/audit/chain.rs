//! The hash chain: each record's `hash` links it to the one before, under a key, and signed checkpoints
//! say how long the chain was and where it ended.
//!
//! A chained record is its JSON with two fields appended: `…,"prev_hash":"<hex>","hash":"<hex>"}`, where
//! `hash = HMAC-SHA256(k, prev_hash || record)` and `record` is the line without those two fields. The
//! first record of a chain has `prev_hash` [`GENESIS`]. A checkpoint is a line of its own,
//! `{"checkpoint":{"records":N,"head":"<hex>","ts":"…"},"mac":"<hex>"}`: `N` records since the genesis,
//! the last of them hashed to `head`, and `mac = HMAC-SHA256(k, "checkpoint" || the object)`. Checkpoints
//! do not enter the chain: the record after one links to the record before it.
//!
//! `k` is derived from `audit.chain_key`, else from `audit.redact_key` (HMAC of a fixed label under it, so
//! the chain and redaction never use the same key bytes). Without either the chain is plain SHA-256: it
//! catches accidental edits, not someone who rewrites the file and recomputes it.

use std::io::{self, BufRead};
use std::path::Path;

use super::record::rfc3339;
use super::redact::hmac;
use crate::config::AuditConfig;

/// The hash a chain starts from.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How a checkpoint line starts; records start with `{"ts":`.
pub(crate) const CHECKPOINT_PREFIX: &str = r#"{"checkpoint":"#;

/// What the chain's hashes and checkpoints are computed with: a key derived from `audit.chain_key` or
/// `audit.redact_key`, or none (plain SHA-256). Its `Debug` never shows the key.
#[derive(Clone, Default)]
pub struct ChainKey(Option<[u8; 32]>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "ChainKey(keyed)" } else { "ChainKey(unkeyed)" })
    }
}

impl ChainKey {
    /// No key: a plain SHA-256 chain, which detects accidental edits only.
    pub fn unkeyed() -> Self {
        Self(None)
    }

    /// The chain's key derived from `secret` (the value of `audit.chain_key` or `audit.redact_key`).
    pub fn new(secret: &[u8]) -> Self {
        Self(Some(hmac(secret, b"mcp-runtime audit chain v1")))
    }

    /// The key `[audit]` gives the chain: `chain_key`, else `redact_key`, else none. The server and
    /// `--verify-audit` both call this, so they agree.
    ///
    /// # Errors
    /// A secret reference that cannot be resolved (an unset variable, an unreadable file, an inline
    /// literal outside `--dev`).
    pub fn from_config(config: &AuditConfig, allow_inline: bool) -> Result<Self, String> {
        let (name, reference) = match (&config.chain_key, &config.redact_key) {
            (Some(chain), _) => ("audit.chain_key", chain),
            (None, Some(redact)) => ("audit.redact_key", redact),
            (None, None) => return Ok(Self::unkeyed()),
        };
        let secret = reference.resolve(allow_inline).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self::new(secret.expose().as_bytes()))
    }

    /// Whether there is a key (else the chain is plain SHA-256).
    pub fn is_keyed(&self) -> bool {
        self.0.is_some()
    }

    fn mac(&self, parts: &[&[u8]]) -> String {
        let message = parts.concat();
        match &self.0 {
            Some(key) => hex::encode(hmac(key, &message)),
            None => hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&message)),
        }
    }

    /// The hash of a record whose line (without its chain fields) is `record`, following `prev`.
    pub(crate) fn link(&self, prev: &str, record: &str) -> String {
        self.mac(&[prev.as_bytes(), record.as_bytes()])
    }

    /// The MAC of a checkpoint's object.
    pub(crate) fn sign(&self, checkpoint: &str) -> String {
        self.mac(&[b"checkpoint", checkpoint.as_bytes()])
    }
}

/// A chain being written: its key, its last hash, how many records it holds.
pub(crate) struct Chain {
    key: ChainKey,
    head: String,
    records: u64,
    /// The head before the last record was appended (a rotation closes the old file there).
    previous: String,
}

/// Where a chain stood: what a checkpoint states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) records: u64,
    pub(crate) head: String,
}

impl Chain {
    /// A chain starting at the genesis.
    pub(crate) fn new(key: ChainKey) -> Self {
        Self { key, head: GENESIS.to_owned(), records: 0, previous: GENESIS.to_owned() }
    }

    /// The chain continued from the file at `path` (a restarted server appends to its file): its last
    /// checkpoint, and the records after it. A missing or empty file starts at the genesis.
    pub(crate) fn resume(key: ChainKey, path: &Path) -> Self {
        let mut chain = Self::new(key);
        let Ok(file) = std::fs::File::open(path) else { return chain };
        for line in io::BufReader::new(file).lines().map_while(Result::ok) {
            if let Some((mark, _)) = parse_checkpoint(&line) {
                (chain.records, chain.head) = (mark.records, mark.head);
            } else if let Some(chained) = Chained::parse(&line) {
                chain.records += 1;
                chain.head = chained.hash.to_owned();
            }
        }
        chain
    }

    /// Appends `record` (one JSON object) to `out` with its chain fields, and moves the chain on.
    pub(crate) fn append(&mut self, record: &str, out: &mut Vec<u8>) {
        let hash = self.key.link(&self.head, record);
        // `{...}` → `{...,"prev_hash":"…","hash":"…"}`: the verifier strips the suffix to rehash.
        out.extend_from_slice(&record.as_bytes()[..record.len() - 1]);
        out.extend_from_slice(format!(r#","prev_hash":"{}","hash":"{hash}"}}"#, self.head).as_bytes());
        out.push(b'\n');
        self.previous = std::mem::replace(&mut self.head, hash);
        self.records += 1;
    }

    /// Where the chain stands now.
    pub(crate) fn mark(&self) -> Mark {
        Mark { records: self.records, head: self.head.clone() }
    }

    /// Where the chain stood before the last record.
    pub(crate) fn before_last(&self) -> Mark {
        Mark { records: self.records.saturating_sub(1), head: self.previous.clone() }
    }

    /// The signed checkpoint line (newline included) for `mark`.
    pub(crate) fn checkpoint(&self, mark: &Mark) -> Vec<u8> {
        let object = format!(
            r#"{{"records":{},"head":"{}","ts":"{}"}}"#,
            mark.records,
            mark.head,
            rfc3339(std::time::SystemTime::now())
        );
        let mac = self.key.sign(&object);
        format!("{CHECKPOINT_PREFIX}{object},\"mac\":\"{mac}\"}}\n").into_bytes()
    }
}

/// Whether two MACs are equal, compared in constant time: a MAC is what a forger probes.
pub(crate) fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A chained record line, split: the record as hashed, and its chain fields.
pub(crate) struct Chained<'a> {
    pub(crate) record: String,
    pub(crate) prev: &'a str,
    pub(crate) hash: &'a str,
}

impl<'a> Chained<'a> {
    /// Splits `…,"prev_hash":"<64>","hash":"<64>"}`; `None` when the line has no chain fields.
    pub(crate) fn parse(line: &'a str) -> Option<Self> {
        const SUFFIX: usize = r#","prev_hash":"","hash":""}"#.len() + 128;
        if line.len() < SUFFIX + 2 || !line.is_char_boundary(line.len() - SUFFIX) {
            return None;
        }
        let (body, tail) = line.split_at(line.len() - SUFFIX);
        let fields = tail.strip_prefix(r#","prev_hash":""#)?.strip_suffix("\"}")?;
        let (prev, hash) = fields.split_once(r#"","hash":""#)?;
        Some(Self { record: format!("{body}}}"), prev, hash })
    }
}

/// A checkpoint line: what it states and its MAC over the object; `None` when the line is not one.
pub(crate) fn parse_checkpoint(line: &str) -> Option<(Mark, Checkpoint<'_>)> {
    let rest = line.strip_prefix(CHECKPOINT_PREFIX)?;
    let (object, mac) = rest.rsplit_once(r#","mac":""#)?;
    let mac = mac.strip_suffix("\"}")?;
    let value: serde_json::Value = serde_json::from_str(object).ok()?;
    let mark = Mark { records: value.get("records")?.as_u64()?, head: value.get("head")?.as_str()?.to_owned() };
    Some((mark, Checkpoint { object, mac }))
}

/// The signed part of a checkpoint line.
pub(crate) struct Checkpoint<'a> {
    object: &'a str,
    mac: &'a str,
}

impl Checkpoint<'_> {
    /// Whether `key` signed it.
    pub(crate) fn signed_by(&self, key: &ChainKey) -> bool {
        same(&key.sign(self.object), self.mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_round_trips_through_its_lines() {
        let mut chain = Chain::new(ChainKey::new(b"k"));
        let mut out = Vec::new();
        chain.append(r#"{"ts":"t","n":1}"#, &mut out);
        chain.append(r#"{"ts":"t","n":2}"#, &mut out);
        let mark = chain.mark();
        out.extend(chain.checkpoint(&mark));
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let first = Chained::parse(lines[0]).unwrap();
        assert_eq!((first.prev, first.record.as_str()), (GENESIS, r#"{"ts":"t","n":1}"#));
        let second = Chained::parse(lines[1]).unwrap();
        assert_eq!(second.prev, first.hash);
        let (stated, signed) = parse_checkpoint(lines[2]).unwrap();
        assert_eq!(stated, Mark { records: 2, head: second.hash.to_owned() });
        assert!(signed.signed_by(&ChainKey::new(b"k")));
        assert!(!signed.signed_by(&ChainKey::new(b"other")) && !signed.signed_by(&ChainKey::unkeyed()));
        assert_ne!(ChainKey::new(b"k").link(GENESIS, "x"), ChainKey::unkeyed().link(GENESIS, "x"));
    }
}
