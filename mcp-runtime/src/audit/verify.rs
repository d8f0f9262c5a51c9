//! Checks a hash-chained audit file: every line's `hash` must be SHA-256(`prev_hash` || the line without
//! its chain fields), and every `prev_hash` the `hash` of the line before.

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::sink::{GENESIS, chain_hash};

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
}

/// Verifies the file; returns how many records it holds. A first line whose `prev_hash` is not the
/// genesis hash is accepted as the continuation of a rotated file.
///
/// # Errors
/// The first line that was edited, removed, reordered or inserted.
pub fn verify(path: &Path) -> Result<usize, VerifyError> {
    let file = std::fs::File::open(path).map_err(|e| VerifyError::Read(e.to_string()))?;
    let mut prev: Option<String> = None;
    let mut count = 0;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| VerifyError::Read(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let broken = |why: &str| VerifyError::Broken { line: i + 1, why: why.to_owned() };
        // `…,"prev_hash":"<64>","hash":"<64>"}`
        const SUFFIX: usize = r#","prev_hash":"","hash":""}"#.len() + 128;
        if line.len() < SUFFIX + 2 || !line.ends_with("\"}") {
            return Err(broken("not a chained record"));
        }
        let (body, tail) = line.split_at(line.len() - SUFFIX);
        let fields = tail.strip_prefix(r#","prev_hash":""#).and_then(|t| t.strip_suffix("\"}"));
        let Some((line_prev, hash)) = fields.and_then(|f| f.split_once(r#"","hash":""#)) else {
            return Err(broken("the chain fields are missing"));
        };
        match &prev {
            Some(expected) if expected != line_prev => {
                return Err(broken("prev_hash is not the hash of the line before"));
            }
            None if line_prev != GENESIS && count > 0 => return Err(broken("the chain does not start here")),
            _ => {}
        }
        if chain_hash(line_prev, &format!("{body}}}")) != hash {
            return Err(broken("the record does not match its hash: it was edited"));
        }
        prev = Some(hash.to_owned());
        count += 1;
    }
    Ok(count)
}
