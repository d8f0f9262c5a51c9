use mcp_runtime::prelude::*;

/// `header` names an HTTP field: no space, colon or non-ASCII letter, and not empty.
#[mcp_tool]
async fn route(
    #[schema(header = "My Region")] region: String,
    #[schema(header = "Region:Primary")] primary: String,
    #[schema(header = "Région")] fallback: String,
    #[schema(header = "")] zone: String,
) -> String {
    format!("{region} {primary} {fallback} {zone}")
}

fn main() {}
