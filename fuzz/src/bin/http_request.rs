//! AFL++ entry point of the `http_request` target: see [`mcp_fuzz::http_request`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::http_request::run(data));
}
