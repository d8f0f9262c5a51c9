//! The echo tool on this runtime: `cargo xtask bench` starts it with a bare configuration (no
//! authentication, audit, limits or export) and with the full production pipeline.

use mcp_runtime::prelude::*;

/// Repeats the message back.
#[mcp_tool(idempotent)]
async fn echo(
    /// What to repeat.
    #[schema(max_length = 64)]
    message: String,
) -> String {
    message
}

#[mcp_server(name = "bench-echo")]
async fn main() {}
