//! AFL++ entry point of the `arguments` target: see [`mcp_fuzz::arguments`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::arguments::run(data));
}
