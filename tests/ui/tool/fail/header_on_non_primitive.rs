use mcp_runtime::prelude::*;

/// Only strings, integers and booleans can be mirrored into a header: not a float, not a list.
#[mcp_tool]
async fn route(
    #[schema(header = "Score")] score: f64,
    #[schema(header = "Regions")] regions: Vec<String>,
    #[schema(header = "Ratio")] ratio: Option<f32>,
) -> String {
    format!("{score} {regions:?} {ratio:?}")
}

fn main() {}
