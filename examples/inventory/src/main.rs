//! The inventory gateway binary: `MCP_CLIENT_KEY=inv-demo-ops-7f3a9c cargo run -p inventory` speaks MCP on
//! stdin/stdout. Its built-in configuration (`mcp.toml` beside this crate's manifest) asks every client for
//! an API key.

use inventory::Inventory;
use mcp_runtime::prelude::*;

#[mcp_server(
    name = "inventory-gateway",
    instructions = "Look up and adjust stock levels by SKU and warehouse.",
    config = "mcp.toml"
)]
async fn main(server: Server) -> anyhow::Result<Server> {
    Ok(server.with_state(Inventory::seeded()))
}
