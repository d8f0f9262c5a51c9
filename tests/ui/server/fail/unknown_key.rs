#[mcp_runtime::mcp_server(nmae = "x")]
async fn main() {}
