//! A server written the shortest way: `#[mcp_server]` on a parameterless `main`, one linked tool.

use mcp_runtime::prelude::*;

/// # Echo
/// Repeats the message back.
#[mcp_tool(idempotent, timeout = "2s")]
async fn echo(
    /// What to repeat.
    #[schema(max_length = 64)]
    message: String,
) -> String {
    message
}

#[mcp_server]
async fn main() {}
