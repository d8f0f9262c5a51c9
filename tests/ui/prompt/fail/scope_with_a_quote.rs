use mcp_runtime::prelude::*;

/// A scope may not hold `"`.
#[mcp_prompt(scopes = ["vault\"read"])]
async fn explain() -> String {
    "Explain".to_owned()
}

fn main() {}
