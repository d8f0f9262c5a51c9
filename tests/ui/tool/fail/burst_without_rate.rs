use mcp_runtime::prelude::*;

/// A burst needs a rate.
#[mcp_tool(burst = 5)]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
