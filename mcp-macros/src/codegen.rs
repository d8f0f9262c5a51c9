//! Small pieces of generated code every macro's `expand` uses.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

/// `Some("..")` / `None` as an `Option<&'static str>` expression.
pub(crate) fn option_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

/// The attribute's value when given, else what the doc comments say (an `Option<&'static str>` expression).
pub(crate) fn description(given: Option<&LitStr>, docs: &crate::doc::Docs) -> TokenStream {
    match given {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => docs.description(),
    }
}

/// `file:line` of the annotated function.
pub(crate) fn location() -> TokenStream {
    quote!(::core::concat!(::core::file!(), ":", ::core::line!()))
}

/// The wrapper a `Completer` points at: calls the function `#[complete(path)]` names, errors spanned on
/// the path.
pub(crate) fn completer_fn(ident: &syn::Ident, path: &syn::Path) -> TokenStream {
    quote_spanned! {path.span()=>
        fn #ident(
            __value: ::std::string::String,
            __context: _mcp::CompletionContext,
        ) -> _mcp::CompletionFuture {
            ::std::boxed::Box::pin(async move { _mcp::completion(#path(__value, __context).await) })
        }
    }
}
