use mcp_runtime::prelude::*;

struct Sku(String);

/// An argument type with neither Deserialize nor JsonSchema.
#[mcp_tool]
async fn lookup(sku: Sku) -> String {
    sku.0
}

fn main() {}
