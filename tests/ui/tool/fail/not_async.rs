use mcp_runtime::prelude::*;

/// Not async.
#[mcp_tool]
fn lookup(sku: String) -> String {
    sku
}

fn main() {}
