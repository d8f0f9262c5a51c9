//! The real MCP clients `cargo xtask test` installs (Node and Python), and running them.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::workspace_root;

/// The folder of the real peers (`tests/interop`), once `cargo xtask test` installed them.
///
/// # Panics
/// When they are not installed: the tests that need them are `#[ignore]`d under plain `cargo test` and run
/// by `cargo xtask test`.
pub fn interop_dir() -> PathBuf {
    let dir = workspace_root().join("tests/interop");
    assert!(
        dir.join("node/node_modules").exists() && dir.join("python/.venv").exists(),
        "the Node and Python MCP clients are not installed: run `cargo xtask test`"
    );
    dir
}

/// The `node` to run the Node clients with (`MCP_TEST_NODE` overrides).
pub fn node() -> PathBuf {
    std::env::var_os("MCP_TEST_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from)
}

/// Runs a command to completion and parses its stdout as one JSON value; stderr is inherited.
///
/// # Panics
/// When the command fails or prints something other than JSON.
pub fn run_json(command: &mut Command) -> Value {
    let output = command.stderr(Stdio::inherit()).output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{command:?} failed with {}; stdout:\n{stdout}", output.status);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{command:?} printed no JSON ({e}):\n{stdout}"))
}
