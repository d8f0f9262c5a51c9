//! `cargo xtask scan-eval`: the scanner's recall and precision on its labelled corpus
//! (`mcp-cli/tests/corpus/*.jsonl`), per attack category, with the corpus's size and sources, and the time
//! to lint 1,000 definitions.
//!
//! The figures come from `mcp-cli/tests/scan_eval.rs`, run in a release build with its ignored timing
//! test: the table is the one its target test checks, and the timing is of the same code path as
//! `cargo mcp scan --manifest` (parse, then every manifest rule). The first run builds mcp-cli in release,
//! which takes minutes; the timing is of one machine at one moment, noisy on a shared one.

use std::path::Path;

use anyhow::{Context, Result, bail};

pub(crate) fn run(root: &Path) -> Result<()> {
    eprintln!("xtask: building mcp-cli's scan eval in release (the first build takes minutes), then running it");
    let status = super::cargo_command()
        .args(["test", "--release", "--locked", "-p", "mcp-cli", "--test", "scan_eval", "--"])
        // One test at a time, output not captured: the table, the misses, then the timing, in that order.
        .args(["--include-ignored", "--nocapture", "--test-threads=1"])
        .current_dir(root)
        .status()
        .context("cannot run cargo test")?;
    eprintln!(
        "xtask: the timing above is of a release build on this machine at this moment; on a shared machine \
         it is noisy: compare runs, not single figures"
    );
    if !status.success() {
        bail!(
            "the scan eval failed ({status}): the scanner misses a target, the corpus is malformed, or the build \
             failed; the table, the misses and the false positives are above"
        );
    }
    Ok(())
}
