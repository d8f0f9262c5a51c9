//! `mcp`: the same commands as `cargo mcp`, for use outside cargo.

fn main() -> std::process::ExitCode {
    mcp_cli::main_with(std::env::args_os())
}
