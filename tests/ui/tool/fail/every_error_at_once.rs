use mcp_runtime::prelude::*;

/// Three mistakes, three errors.
#[mcp_tool(rate = "x", timeout = "soon", burst = 0)]
async fn lookup(sku: String) -> String {
    sku
}

fn main() {}
