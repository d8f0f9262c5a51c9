//! `#[mcp_tool]`: attr (parse) → ast (typed model) → check (rules) → expand (codegen).

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::item::expand_fn(
        input,
        |cx, item| {
            let attrs = attr::parse_tool_attrs(cx, args);
            let tool = ast::ToolFn::from_item(cx, item, attrs);
            let resolved = check::check(cx, &tool);
            (tool, resolved)
        },
        |(tool, _)| &tool.item,
        |(tool, resolved)| expand::expand(tool, resolved),
    )
}
