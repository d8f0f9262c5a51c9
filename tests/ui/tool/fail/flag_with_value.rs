use mcp_runtime::prelude::*;

/// A flag given a value.
#[mcp_tool(read_only = true)]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
