use mcp_runtime::prelude::*;

/// An unclosed group.
#[mcp_tool]
async fn lookup(#[schema(pattern = "^([A-Z]+$")] sku: String) -> String {
    sku
}

fn main() {}
