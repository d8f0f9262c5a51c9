use mcp_runtime::prelude::*;

/// An injected parameter is not an argument: nothing to mirror.
#[mcp_tool]
async fn route(region: String, #[schema(header = "Context")] ctx: Context) -> String {
    let _ = ctx;
    region
}

fn main() {}
