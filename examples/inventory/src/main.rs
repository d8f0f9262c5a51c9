//! The inventory gateway binary. Run with `cargo run -p inventory`; it speaks MCP on stdin/stdout.

use inventory::Inventory;
use mcp_runtime::prelude::*;

#[mcp_server(name = "inventory-gateway", instructions = "Look up and adjust stock levels by SKU and warehouse.")]
async fn main(server: Server) -> anyhow::Result<Server> {
    Ok(server.with_state(Inventory::seeded()))
}
