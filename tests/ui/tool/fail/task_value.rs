use mcp_runtime::prelude::*;

/// Not a task setting.
#[mcp_tool(task = "sometimes")]
async fn report(month: String) -> String {
    month
}

/// The task setting twice.
#[mcp_tool(task = "optional", task = "required")]
async fn archive(month: String) -> String {
    month
}

fn main() {}
