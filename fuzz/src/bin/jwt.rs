//! AFL++ entry point of the `jwt` target: see [`mcp_fuzz::jwt`].

fn main() {
    afl::fuzz!(|data: &[u8]| mcp_fuzz::jwt::run(data));
}
