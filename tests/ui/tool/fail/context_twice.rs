use mcp_runtime::prelude::*;

/// Context taken twice.
#[mcp_tool]
async fn lookup(sku: String, a: Context, b: Context) -> String {
    let _ = (a, b);
    sku
}

fn main() {}
