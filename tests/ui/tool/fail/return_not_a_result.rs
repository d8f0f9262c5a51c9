use mcp_runtime::prelude::*;

/// A return type that cannot become a tool result.
#[mcp_tool]
async fn lookup(sku: String) -> u32 {
    sku.len() as u32
}

fn main() {}
