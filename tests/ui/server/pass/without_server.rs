use mcp_runtime::prelude::*;

/// The simplest server.
#[mcp_tool]
async fn hello() -> &'static str {
    "hello"
}

#[mcp_server]
async fn main() {}
