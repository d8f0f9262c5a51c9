//! The server the official MCP conformance suite drives (`cargo xtask conformance`): every tool,
//! resource and prompt its scenarios name, with the names and answers they expect.
//!
//! Run with `cargo run -p conformance-server -- --transport http`.

mod diagnostics;
mod headers;
mod input;
mod prompts;
mod resources;
mod tasks;
mod tools;
mod triggers;

use mcp_runtime::prelude::*;

/// The macro tools, resources and prompts are linked in; the tools built at run time are added here.
#[mcp_server(name = "mcp-runtime-conformance", instructions = "The MCP conformance suite's test server.")]
async fn main(server: Server) -> Result<Server, mcp_runtime::server::RegistryError> {
    Ok(server.tool(tools::json_schema_2020_12_tool()?))
}
