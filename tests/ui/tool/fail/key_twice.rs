use mcp_runtime::prelude::*;

/// The same key twice.
#[mcp_tool(rate = "30/min", rate = "10/s")]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
