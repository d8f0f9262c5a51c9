#[mcp_runtime::mcp_server]
fn main() {}
