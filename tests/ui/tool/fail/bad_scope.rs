use mcp_runtime::prelude::*;

/// A scope with a space.
#[mcp_tool(scopes = ["inventory read"])]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
