//! AFL++ entry point of the `jsonrpc` target: see [`mcp_fuzz::jsonrpc`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::jsonrpc::run(data));
}
