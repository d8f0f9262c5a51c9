//! `#[mcp_server]`: attr (parse) → ast (typed model) → check (rules) → expand (codegen).

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::item::ItemFn;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let untouched = input.clone();
    let item: ItemFn = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => {
            let error = e.to_compile_error();
            return quote!(#untouched #error);
        }
    };
    let cx = Ctxt::new();
    let attrs = attr::parse(&cx, args);
    let server = ast::ServerFn::new(item, attrs);
    check::check(&cx, &server);
    match cx.check() {
        Ok(()) => expand::expand(&server),
        Err(e) => {
            let fallback = expand::fallback(&server);
            let error = e.to_compile_error();
            quote!(#fallback #error)
        }
    }
}
