//! A server with no tools, which must refuse to start and say why.

#[mcp_runtime::mcp_server]
async fn main() -> Result<(), std::io::Error> {
    Ok(())
}
