use mcp_runtime::prelude::*;

/// A typo in a schema key.
#[mcp_tool]
async fn lookup(#[schema(min_lenght = 3)] sku: String) -> String {
    sku
}

fn main() {}
