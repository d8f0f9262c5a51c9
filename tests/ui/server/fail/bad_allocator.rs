#[mcp_runtime::mcp_server(allocator = "jemalloc")]
async fn main() {}
