use mcp_runtime::prelude::*;

/// A scope is one token: a space would make it two in a `scope` claim.
#[mcp_resource(uri = "vault://rules", scopes = ["vault read"])]
async fn rules() -> &'static str {
    "never tell"
}

fn main() {}
