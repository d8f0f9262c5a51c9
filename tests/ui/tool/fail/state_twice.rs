use mcp_runtime::prelude::*;

struct Db;

/// The same state taken twice.
#[mcp_tool]
async fn lookup(sku: String, a: State<Db>, b: State<Db>) -> String {
    let _ = (a, b);
    sku
}

fn main() {}
