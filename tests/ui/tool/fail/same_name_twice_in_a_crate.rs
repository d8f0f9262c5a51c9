use mcp_runtime::prelude::*;

/// One tool.
#[mcp_tool(name = "lookup")]
async fn lookup_by_sku(sku: String) -> String {
    sku
}

mod other {
    use mcp_runtime::prelude::*;

    /// Another tool, in another module, with the same name.
    #[mcp_tool(name = "lookup")]
    pub(crate) async fn lookup_by_name(name: String) -> String {
        name
    }
}

fn main() {}
