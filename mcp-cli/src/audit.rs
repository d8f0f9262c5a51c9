//! `cargo mcp audit verify FILE`: the hash chain of an audit file (`audit.hash_chain = true`), under the key
//! the server chained it with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use mcp_runtime::audit::{ChainKey, VerifyError};
use mcp_runtime::config::{Cli, Config};

/// `cargo mcp audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify an audit file's hash chain and checkpoints; name the first broken line, or a missing tail.
    Verify(VerifyArgs),
}

/// `cargo mcp audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The audit file (JSON lines with `prev_hash` and `hash`, and checkpoints).
    pub file: PathBuf,
    /// The server's configuration file: the key is its `audit.chain_key`, else `audit.redact_key`
    /// (references resolved as the server resolves them, `MCP_AUDIT__*` variables applied).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["key_env", "key_file"])]
    pub config: Option<PathBuf>,
    /// The environment variable that holds the chain's key (the value of `chain_key` or `redact_key`).
    #[arg(long, value_name = "VAR", conflicts_with = "key_file")]
    pub key_env: Option<String>,
    /// The file that holds the chain's key (trailing newline trimmed, as `${file:PATH}`).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// Runs an audit subcommand: 0 when the chain is intact and closed by a checkpoint, 1 when a line is
/// broken or the file ends without a checkpoint, 2 when the file or the key cannot be read.
pub fn run(command: &AuditCommand) -> ExitCode {
    match command {
        AuditCommand::Verify(args) => verify(args),
    }
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let key = match key(args) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let file = &args.file;
    match mcp_runtime::audit::verify_with(file, &key) {
        Ok(verified) => {
            println!("{}: {verified}", file.display());
            ExitCode::SUCCESS
        }
        Err(e @ VerifyError::Read(_)) => {
            eprintln!("error: {}: {e}", file.display());
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

/// The key from the flag given; none given: unkeyed (the verifier says what that is worth).
fn key(args: &VerifyArgs) -> Result<ChainKey, String> {
    if let Some(var) = &args.key_env {
        let value = std::env::var(var).map_err(|_| format!("--key-env {var}: the variable is not set"))?;
        return Ok(ChainKey::new(value.as_bytes()));
    }
    if let Some(path) = &args.key_file {
        let value = std::fs::read_to_string(path).map_err(|e| format!("--key-file {}: {e}", path.display()))?;
        return Ok(ChainKey::new(value.trim_end_matches(['\n', '\r']).as_bytes()));
    }
    match &args.config {
        Some(path) => from_config(path),
        None => Ok(ChainKey::unkeyed()),
    }
}

fn from_config(path: &Path) -> Result<ChainKey, String> {
    let cli = Cli { config: Some(path.to_owned()), ..Cli::default() };
    let config = Config::load(&cli, std::env::vars_os()).map_err(|e| e.to_string())?;
    ChainKey::from_config(&config.audit, config.security.allow_inline_secrets)
}
