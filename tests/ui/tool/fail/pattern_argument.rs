use mcp_runtime::prelude::*;

/// A destructuring pattern has no property name.
#[mcp_tool]
async fn lookup((a, b): (String, String)) -> String {
    a + &b
}

fn main() {}
