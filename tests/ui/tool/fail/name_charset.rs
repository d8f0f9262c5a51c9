use mcp_runtime::prelude::*;

/// A name with a space.
#[mcp_tool(name = "look up")]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
