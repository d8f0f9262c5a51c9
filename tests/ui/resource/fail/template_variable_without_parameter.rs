use mcp_runtime::prelude::*;

/// `{id}` has no parameter.
#[mcp_resource(uri = "orders://{id}")]
async fn order() -> String {
    String::new()
}

fn main() {}
