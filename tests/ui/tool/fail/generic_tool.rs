use mcp_runtime::prelude::*;

/// Generic over its argument.
#[mcp_tool]
async fn lookup<T: std::fmt::Display>(sku: String) -> String {
    sku
}

fn main() {}
