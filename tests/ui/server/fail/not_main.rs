#[mcp_runtime::mcp_server(name = "x")]
async fn serve() {}

fn main() {}
