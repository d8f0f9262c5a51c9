//! `cargo mcp audit verify FILE`: the hash chain of an audit file (`audit.hash_chain = true`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

/// `cargo mcp audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify an audit file's hash chain and name the first broken line.
    Verify {
        /// The audit file (JSON lines with `prev_hash` and `hash`).
        file: PathBuf,
    },
}

/// Runs an audit subcommand: 0 when the chain is intact, 1 when a line is broken, 2 when the file
/// cannot be read.
pub fn run(command: &AuditCommand) -> ExitCode {
    match command {
        AuditCommand::Verify { file } => match mcp_runtime::audit::verify(file) {
            Ok(count) => {
                println!("{}: {count} records, the chain is intact", file.display());
                ExitCode::SUCCESS
            }
            Err(e @ mcp_runtime::audit::VerifyError::Read(_)) => {
                eprintln!("error: {}: {e}", file.display());
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
    }
}
