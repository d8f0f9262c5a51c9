use mcp_runtime::prelude::*;

/// Bounds the wrong way round.
#[mcp_tool]
async fn lookup(#[schema(min_length = 12, max_length = 5)] sku: String) -> String {
    sku
}

fn main() {}
