//! Procedural macros of [mcp-runtime](https://docs.rs/mcp-runtime): `#[mcp_tool]`, `#[mcp_resource]`,
//! `#[mcp_prompt]` and `#[mcp_server]`.
//!
//! Use them through `mcp-runtime`, which re-exports them; generated code names only
//! `::mcp_runtime::__private` (or the path given with `crate = path`). Set `MCP_MACROS_DEBUG=1` to print
//! the generated code at build time.

use proc_macro::TokenStream;

mod codegen;
mod ctxt;
mod doc;
mod inject;
mod item;
mod param;
mod prompt;
mod resource;
mod server;
mod tool;

/// Declares an async function as an MCP tool. See `mcp_runtime::mcp_tool`.
#[proc_macro_attribute]
pub fn mcp_tool(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_attr_with(args, input, tool::expand)
}

/// Declares an async function as an MCP resource or resource template. See `mcp_runtime::mcp_resource`.
#[proc_macro_attribute]
pub fn mcp_resource(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_attr_with(args, input, resource::expand)
}

/// Declares an async function as an MCP prompt. See `mcp_runtime::mcp_prompt`.
#[proc_macro_attribute]
pub fn mcp_prompt(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_attr_with(args, input, prompt::expand)
}

/// Turns `async fn main` into a server binary. See `mcp_runtime::mcp_server`.
#[proc_macro_attribute]
pub fn mcp_server(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_attr_with(args, input, server::expand)
}

fn expand_attr_with(
    args: TokenStream,
    input: TokenStream,
    f: fn(proc_macro2::TokenStream, proc_macro2::TokenStream) -> proc_macro2::TokenStream,
) -> TokenStream {
    let output = f(args.into(), input.into());
    if std::env::var_os("MCP_MACROS_DEBUG").is_some() {
        eprintln!("{output}");
    }
    output.into()
}
