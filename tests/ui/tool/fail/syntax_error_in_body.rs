use mcp_runtime::prelude::*;

/// One syntax error in the body gives one error.
#[mcp_tool]
async fn lookup(sku: String) -> String {
    let x = ;
    sku
}

fn main() {}
