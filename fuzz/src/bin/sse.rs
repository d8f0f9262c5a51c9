//! AFL++ entry point of the `sse` target: see [`mcp_fuzz::sse`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::sse::run(data));
}
