//! AFL++ entry point of the `request_state` target: see [`mcp_fuzz::request_state`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::request_state::run(data));
}
