use mcp_runtime::prelude::*;

/// Not async.
#[mcp_prompt]
fn greet(name: String) -> String {
    name
}

fn main() {}
