use mcp_runtime::prelude::*;

struct Inventory;

impl Inventory {
    /// A method.
    #[mcp_tool]
    async fn lookup(&self, sku: String) -> String {
        sku
    }
}

fn main() {}
