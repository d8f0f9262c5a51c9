use mcp_runtime::prelude::*;

/// A typo in a key.
#[mcp_tool(rat = "30/min")]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
