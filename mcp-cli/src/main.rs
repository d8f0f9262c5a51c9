//! `cargo-mcp`: run as `cargo mcp …` (cargo passes `mcp` as the first argument) or directly.

fn main() -> std::process::ExitCode {
    mcp_cli::main_with(std::env::args_os())
}
