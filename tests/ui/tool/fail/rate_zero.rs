use mcp_runtime::prelude::*;

/// Zero calls per minute.
#[mcp_tool(rate = "0/min")]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
