//! Generates the code beside a resource function. Only generation happens here.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ReturnType;
use syn::spanned::Spanned;

use super::ast::ResourceFn;
use super::check::Resolved;
use crate::codegen::{self, option_str};
use crate::inject::{self, Injected};
use crate::param::Param;

pub(crate) fn expand(resource: &ResourceFn, resolved: &Resolved) -> TokenStream {
    let item = &resource.item;
    let fn_ident = &item.sig.ident;
    let vis = &item.vis;
    let krate = &resource.krate;
    let private = quote!(#krate::__private);

    let mut lets = Vec::new();
    let mut args = Vec::new();
    let mut completers = Vec::new();
    let mut completer_fns = Vec::new();
    let mut states = Vec::new();
    for (i, param) in resource.params.iter().enumerate() {
        let var = format_ident!("__mcp_arg_{}", i);
        match param {
            Param::Named(named) => {
                let (name, ty) = (&named.name, &named.ty);
                lets.push(quote_spanned!(ty.span()=> let #var: #ty = __invocation.variable(#name)?;));
                if let Some(path) = &named.complete {
                    let complete_fn = format_ident!("__mcp_complete_{}", i);
                    completer_fns.push(codegen::completer_fn(&complete_fn, path));
                    completers.push(quote!(_mcp::Completer { argument: #name, complete: #complete_fn }));
                }
            }
            Param::Inject { ty, kind } => {
                lets.push(inject::extract(&var, ty));
                if *kind == Injected::State {
                    states.push(inject::state_requirement(ty));
                }
            }
        }
        args.push(var);
    }

    let ret = match &item.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    // Spanned on the return type, so a type that cannot be returned is reported there.
    let convert = quote_spanned! {ret.span()=>
        _mcp::IntoResourceContents::into_resource_contents(__output, __invocation.uri(), __invocation.mime_type())
    };
    let uri = &resolved.uri;
    let name = &resource.name;
    let title = option_str(resource.title().as_deref());
    let description = codegen::description(resource.attrs.description.as_ref(), &resource.docs);
    let mime_type = option_str(resource.attrs.mime_type.as_ref().map(syn::LitStr::value).as_deref());
    let ttl_ms = resolved.ttl_ms;
    let location = codegen::location();
    let scopes = resource.attrs.scopes.iter().flat_map(|(_, s)| s.iter());
    let spec_doc = format!(
        "The MCP resource spec of [`{fn_ident}`](fn@{fn_ident}): pass `{fn_ident}::SPEC` to `Server::resource`."
    );

    quote! {
        #item

        #[doc = #spec_doc]
        #[allow(non_camel_case_types)]
        #vis struct #fn_ident {}

        const _: () = {
            use #private as _mcp;

            #[allow(unused_mut)]
            fn __mcp_read(mut __invocation: _mcp::ResourceInvocation) -> _mcp::ResourceFuture {
                ::std::boxed::Box::pin(async move {
                    #(#lets)*
                    let __output = #fn_ident(#(#args),*).await;
                    ::core::result::Result::Ok(#convert)
                })
            }

            #(#completer_fns)*

            impl #fn_ident {
                /// The resource's spec: URI (or URI template), name, MIME type and handler.
                pub const SPEC: &'static _mcp::ResourceSpec = &_mcp::ResourceSpec {
                    uri: #uri,
                    name: #name,
                    title: #title,
                    description: #description,
                    mime_type: #mime_type,
                    ttl: _mcp::ttl_ms(#ttl_ms),
                    scopes: &[#(#scopes),*],
                    completions: &[#(#completers),*],
                    state: &[#(#states),*],
                    handler: __mcp_read,
                    location: #location,
                };
            }

            #[_mcp::linkme::distributed_slice(_mcp::RESOURCES)]
            #[linkme(crate = _mcp::linkme)]
            static __MCP_RESOURCE: &'static _mcp::ResourceSpec = #fn_ident::SPEC;
        };
    }
}
