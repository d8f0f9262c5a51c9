//! AFL++ entry point of the `stateless_headers` target: see [`mcp_fuzz::stateless_headers`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::stateless_headers::run(data));
}
