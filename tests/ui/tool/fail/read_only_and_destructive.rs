use mcp_runtime::prelude::*;

/// Contradicting hints.
#[mcp_tool(read_only, destructive)]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
