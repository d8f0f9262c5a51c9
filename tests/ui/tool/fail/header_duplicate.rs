use mcp_runtime::prelude::*;

/// Two arguments cannot share a header, whatever the case.
#[mcp_tool]
async fn route(
    #[schema(header = "Region")] region: String,
    #[schema(header = "REGION")] fallback: String,
) -> String {
    format!("{region} {fallback}")
}

fn main() {}
