use mcp_runtime::prelude::*;

/// A fortnight is not a unit.
#[mcp_tool(rate = "30/fortnight")]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
