//! `crate = path` for a runtime reached under another name.

extern crate mcp_runtime as mcp;

/// A tool whose generated code names `mcp::__private`.
#[mcp::mcp_tool(crate = mcp)]
async fn renamed(x: u8) -> String {
    x.to_string()
}

#[mcp::mcp_server(crate = mcp)]
async fn main() {}
