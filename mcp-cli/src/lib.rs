//! `cargo mcp`: the command a platform engineer starts with and runs in CI.
//!
//! - `cargo mcp new NAME` scaffolds a server on mcp-runtime that builds and passes its tests offline.
//! - `cargo mcp scan` checks a configuration, a server's tool manifest and a live endpoint for security
//!   flaws, and reports them as text, JSON or SARIF 2.1.0 with an exit code set by `--fail-on`.
//! - `cargo mcp list` / `cargo mcp call` talk to a server over stdio or Streamable HTTP, in 2026-07-28 or
//!   the handshake era (`--protocol`, by default whichever the server offers, 2026-07-28 first).
//! - `cargo mcp audit verify FILE` checks an audit file's hash chain.
//!
//! Exit codes: 0 success, 1 the command ran and failed (a finding at or above `--fail-on`, a tool error, a
//! broken chain), 2 the command could not run (bad arguments, an unreadable file, a server that is not
//! there).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod client;
mod http;
pub mod new;
pub mod scan;

/// `cargo mcp`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo mcp",
    bin_name = "cargo mcp",
    version,
    about = "Scaffold, scan and call MCP servers built on mcp-runtime"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new server project.
    New(new::NewArgs),
    /// Check a configuration, a tool manifest or a live server for security flaws.
    Scan(scan::ScanArgs),
    /// List a server's tools.
    List(client::ListArgs),
    /// Call one of a server's tools.
    ///
    /// Under 2026-07-28 a call the server answers `input_required` is called again with the answers:
    /// `roots/list` gets the current directory, `elicitation/create` a form asked on the terminal (declined
    /// when stdin is not one); at most 8 rounds. Sampling is not offered.
    Call(client::CallArgs),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Runs the CLI on `args` (the program name first). When cargo runs it as `cargo mcp …`, the `mcp` it
/// passes as the first argument is dropped.
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "mcp") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::List(args) => client::list(&args),
        Command::Call(args) => client::call(&args),
        Command::Audit(command) => audit::run(&command),
    }
}
