use mcp_runtime::prelude::*;

/// Not a duration.
#[mcp_tool(timeout = "5 fortnights")]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
