use mcp_runtime::prelude::*;

/// An audit mark that means nothing, and one on an injected parameter.
#[mcp_tool]
async fn lookup(#[audit(hide)] sku: String, #[audit(redact)] ctx: Context) -> String {
    let _ = ctx;
    sku
}

fn main() {}
