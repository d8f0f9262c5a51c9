//! `#[mcp_prompt]`: attr (parse) → ast (typed model) → check (rules) → expand (codegen).

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
        // Not a function we can read: give the tokens back untouched so the IDE keeps working.
        Err(e) => {
            let error = e.to_compile_error();
            return quote!(#untouched #error);
        }
    };
    let cx = Ctxt::new();
    let attrs = attr::parse(&cx, args);
    let prompt = ast::PromptFn::from_item(&cx, item, attrs);
    check::check(&cx, &prompt);
    match cx.check() {
        Ok(()) => expand::expand(&prompt),
        Err(e) => {
            // Re-emit the function (parameter attributes stripped) so the rest of the crate still resolves it.
            let item = &prompt.item;
            let error = e.to_compile_error();
            quote!(#item #error)
        }
    }
}
