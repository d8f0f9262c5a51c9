//! Checks a hash-chained audit file ([`chain`](super::chain) describes the format).
//!
//! Every record's `hash` must be the keyed hash of its `prev_hash` and its own line, every `prev_hash` the
//! `hash` of the record before, and every checkpoint signed by the key and true of the records before it.
//! A file starts at the genesis, or with the checkpoint that closed the file rotated before it (rotation
//! writes it at the end of the old file and the start of the new one); it must end with a checkpoint.
//!
//! **Detected**, given the key: an edited, inserted, removed or reordered record; a removed head (the
//! first line no longer starts the chain or carries a signed anchor); a removed tail up to the last
//! checkpoint (the file no longer ends with one: "no closing checkpoint"); a file or checkpoint forged
//! without the key.
//!
//! **Not detected**: records written after the last checkpoint of a process that crashed, then removed
//! (a crash also leaves no closing checkpoint, so the report is the same one, and it is the signal to look);
//! a file cut back to an earlier checkpoint (one a previous run wrote at shutdown, or a rotation), or the
//! newest file deleted together with its checkpoints: compare with the checkpoints a log shipper carried
//! off the machine; a whole rotated file deleted (each file verifies alone); anything done by someone who
//! holds the key. Without a key (neither `audit.chain_key` nor `audit.redact_key`) the chain is plain
//! SHA-256 and anyone can recompute it: it detects accidental edits only, and the verifier says so.

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::chain::{CHECKPOINT_PREFIX, ChainKey, Chained, GENESIS, parse_checkpoint, same};

/// Why a chained audit file does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The file could not be read.
    #[error("cannot read the audit file: {0}")]
    Read(String),
    /// The first line (1-based) where the chain breaks, and how.
    #[error("line {line}: {why}")]
    Broken {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// Every line verifies, but the file does not end with a checkpoint: records after the last one may
    /// have been removed. A process that crashed leaves the same.
    #[error(
        "no closing checkpoint: {records} records verify, but the file does not end with a checkpoint{since}, so \
         records at its end may have been removed (a server that crashed also leaves this)",
        since = match last_checkpoint { Some(line) => format!(" (the last is on line {line})"), None => String::new() }
    )]
    Unclosed {
        /// Records that verified.
        records: usize,
        /// The line of the last checkpoint, when there is one.
        last_checkpoint: Option<usize>,
    },
}

/// What a file that verifies holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Records in the file.
    pub records: usize,
    /// Records in the chain up to the file's end, counting those of the files rotated before it.
    pub chain_length: u64,
    /// Checkpoints in the file.
    pub checkpoints: usize,
    /// Whether the chain is keyed; an unkeyed chain detects accidental edits only.
    pub keyed: bool,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} records, the chain is intact and ends with a checkpoint", self.records)?;
        if self.keyed {
            write!(f, " (keyed; {} records since the chain began)", self.chain_length)
        } else {
            f.write_str(" (UNKEYED: this detects accidental edits only, not a rewrite; set audit.chain_key)")
        }
    }
}

/// Verifies an unkeyed chain (no `audit.chain_key` nor `audit.redact_key`); returns how many records it
/// holds. See [`verify_with`].
///
/// # Errors
/// As [`verify_with`].
pub fn verify(path: &Path) -> Result<usize, VerifyError> {
    verify_with(path, &ChainKey::unkeyed()).map(|v| v.records)
}

/// Verifies the file under `key` (what [`ChainKey::from_config`] gives for the server's configuration).
///
/// # Errors
/// The first line that was edited, removed, reordered or inserted, or that another key signed
/// ([`VerifyError::Broken`]); a file that does not end with a checkpoint ([`VerifyError::Unclosed`]).
pub fn verify_with(path: &Path, key: &ChainKey) -> Result<Verified, VerifyError> {
    let file = std::fs::File::open(path).map_err(|e| VerifyError::Read(e.to_string()))?;
    let mut prev: Option<String> = None;
    let mut chain_length = 0u64;
    let (mut records, mut checkpoints) = (0, 0);
    let mut last_checkpoint = None;
    let mut closed = false;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| VerifyError::Read(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let broken = |why: &str| VerifyError::Broken { line: i + 1, why: why.to_owned() };
        if line.starts_with(CHECKPOINT_PREFIX) {
            let (mark, signed) = parse_checkpoint(&line).ok_or_else(|| broken("a malformed checkpoint"))?;
            if !signed.signed_by(key) {
                return Err(broken(&format!("the checkpoint is not signed by {}", what_key(key))));
            }
            match &prev {
                // The file's first line: the anchor a rotation left, where the chain goes on. It opens the
                // file and closes nothing (rotation writes it before a batch of records), so a file cut
                // back to it is reported.
                None => {
                    (prev, chain_length) = (Some(mark.head), mark.records);
                    checkpoints += 1;
                    continue;
                }
                Some(head) if *head != mark.head || chain_length != mark.records => {
                    return Err(broken(&format!(
                        "the checkpoint states {} records ending at another hash than the {} before it: \
                         records were removed or inserted",
                        mark.records, chain_length
                    )));
                }
                Some(_) => {}
            }
            checkpoints += 1;
            last_checkpoint = Some(i + 1);
            closed = true;
            continue;
        }
        let Some(chained) = Chained::parse(&line) else {
            return Err(broken("not a chained record"));
        };
        match &prev {
            Some(expected) if expected != chained.prev => {
                return Err(broken(
                    "prev_hash is not the hash of the record before: records were removed or reordered",
                ));
            }
            None if chained.prev != GENESIS => {
                return Err(broken(
                    "the chain does not start here: the file's head (its first records, or the checkpoint that \
                     anchors it to the file before) was removed",
                ));
            }
            _ => {}
        }
        if !same(&key.link(chained.prev, &chained.record), chained.hash) {
            return Err(broken(&format!("the record does not match its hash under {}: it was edited", what_key(key))));
        }
        prev = Some(chained.hash.to_owned());
        chain_length += 1;
        records += 1;
        closed = false;
    }
    if !closed {
        return Err(VerifyError::Unclosed { records, last_checkpoint });
    }
    Ok(Verified { records, chain_length, checkpoints, keyed: key.is_keyed() })
}

fn what_key(key: &ChainKey) -> &'static str {
    if key.is_keyed() { "this key" } else { "no key (if the chain is keyed, give its key)" }
}
