//! `#[mcp_prompt]`: attr (parse) → ast (typed model) → check (rules) → expand (codegen).

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::item::expand_fn(
        input,
        |cx, item| {
            let attrs = attr::parse(cx, args);
            let prompt = ast::PromptFn::from_item(cx, item, attrs);
            check::check(cx, &prompt);
            prompt
        },
        |prompt| &prompt.item,
        expand::expand,
    )
}
