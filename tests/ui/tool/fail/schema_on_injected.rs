use mcp_runtime::prelude::*;

/// Schema constraints on an injected parameter.
#[mcp_tool]
async fn lookup(sku: String, #[schema(min_length = 3)] ctx: Context) -> String {
    let _ = ctx;
    sku
}

fn main() {}
