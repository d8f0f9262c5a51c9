use mcp_runtime::prelude::*;

/// A negative rate.
#[mcp_tool(rate = -1)]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
