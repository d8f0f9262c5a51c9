use mcp_runtime::prelude::*;

#[mcp_server]
async fn main(server: Server) -> u32 {
    let _ = server;
    7
}
