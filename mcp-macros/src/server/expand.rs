//! Generates the real `fn main`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::ast::ServerFn;

pub(crate) fn expand(server: &ServerFn) -> TokenStream {
    let krate = &server.krate;
    let item = &server.item;
    let attrs = &item.attrs;
    let setup_ident = format_ident!("__mcp_setup");
    let mut setup = item.sig.clone();
    setup.ident = setup_ident.clone();
    let body = &item.body;
    let name = match &server.attrs.name {
        Some(n) => quote!(#n),
        None => quote!(::core::env!("CARGO_PKG_NAME")),
    };
    let version = match &server.attrs.version {
        Some(v) => quote!(#v),
        None => quote!(::core::env!("CARGO_PKG_VERSION")),
    };
    // The bundled defaults are read at compile time; a change to the file rebuilds the server. Their path
    // goes along: relative paths inside resolve against the file's folder, never the working directory.
    let defaults = match &server.attrs.config {
        Some(path) => quote_spanned! {path.span()=>
            ::core::option::Option::Some((
                ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path),
                ::core::include_str!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path)),
            ))
        },
        None => quote!(::core::option::Option::None),
    };
    let mut builder = Vec::new();
    if let Some(t) = &server.attrs.title {
        builder.push(quote!(.title(#t)));
    }
    if let Some(d) = &server.attrs.description {
        builder.push(quote!(.description(#d)));
    }
    if let Some(i) = &server.attrs.instructions {
        builder.push(quote!(.instructions(#i)));
    }
    let run = if server.takes_server {
        quote!(#krate::__private::IntoServer::into_server(#setup_ident(__server).await))
    } else {
        quote!(#krate::__private::IntoSetup::into_setup(#setup_ident().await).map(move |()| __server))
    };
    let allocator = match &server.attrs.allocator {
        Some(a) if a.value() == "none" => quote!(),
        _ => quote!(#krate::__mcp_default_allocator!();),
    };
    quote! {
        #allocator

        #(#attrs)*
        fn main() -> ::std::process::ExitCode {
            #setup #body
            #krate::__private::run_main(#name, #version, #defaults, |__server| async move {
                let __server = __server #(#builder)*;
                #run
            })
        }
    }
}

/// What is emitted when the attribute is wrong: a `main` that compiles, so the one real error shows.
pub(crate) fn fallback(server: &ServerFn) -> TokenStream {
    let item = &server.item;
    if item.sig.ident != "main" {
        // Not on `main`: give the function back as written; the crate's own `main` stays the only one.
        return quote!(#item);
    }
    let attrs = &item.attrs;
    quote! {
        #(#attrs)*
        fn main() {}
    }
}
