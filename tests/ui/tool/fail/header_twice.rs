use mcp_runtime::prelude::*;

/// An argument is mirrored into one header at most.
#[mcp_tool]
async fn route(#[schema(header = "Region", header = "Zone")] region: String) -> String {
    region
}

fn main() {}
