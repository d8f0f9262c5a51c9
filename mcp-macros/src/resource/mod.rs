//! `#[mcp_resource]`: attr (parse) → ast (typed model) → check (rules) → expand (codegen).

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
            let resource = ast::ResourceFn::from_item(cx, item, attrs);
            let resolved = check::check(cx, &resource);
            (resource, resolved)
        },
        |(resource, _)| &resource.item,
        |(resource, resolved)| expand::expand(resource, resolved),
    )
}
