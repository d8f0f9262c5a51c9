//! Generates the code beside a prompt function. Only generation happens here.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ReturnType;
use syn::spanned::Spanned;

use super::ast::PromptFn;
use crate::codegen::{self, option_str};
use crate::inject::{self, Injected};
use crate::param::Param;

pub(crate) fn expand(prompt: &PromptFn) -> TokenStream {
    let item = &prompt.item;
    let fn_ident = &item.sig.ident;
    let vis = &item.vis;
    let krate = &prompt.krate;
    let private = quote!(#krate::__private);

    let mut lets = Vec::new();
    let mut args = Vec::new();
    let mut arguments = Vec::new();
    let mut completers = Vec::new();
    let mut completer_fns = Vec::new();
    let mut states = Vec::new();
    for (i, param) in prompt.params.iter().enumerate() {
        let var = format_ident!("__mcp_arg_{}", i);
        match param {
            Param::Named(named) => {
                let (name, ty) = (&named.name, &named.ty);
                lets.push(quote_spanned!(ty.span()=> let #var: #ty = __invocation.argument(#name)?;));
                let title = option_str(named.docs.title());
                let description = named.docs.description();
                arguments.push(quote! {
                    _mcp::PromptArgument {
                        name: #name,
                        title: #title,
                        description: #description,
                        required: <#ty as _mcp::FromPromptArgument>::REQUIRED,
                    }
                });
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
    let convert = quote_spanned!(ret.span()=> _mcp::IntoPromptMessages::into_prompt_result(__output));
    let name = &prompt.name;
    let title = option_str(prompt.title().as_deref());
    let description = codegen::description(prompt.attrs.description.as_ref(), &prompt.docs);
    let location = codegen::location();
    let scopes = prompt.attrs.scopes.iter().flat_map(|(_, s)| s.iter());
    let spec_doc =
        format!("The MCP prompt spec of [`{fn_ident}`](fn@{fn_ident}): pass `{fn_ident}::SPEC` to `Server::prompt`.");

    quote! {
        #item

        #[doc = #spec_doc]
        #[allow(non_camel_case_types)]
        #vis struct #fn_ident {}

        const _: () = {
            use #private as _mcp;

            #[allow(unused_mut)]
            fn __mcp_get(mut __invocation: _mcp::PromptInvocation) -> _mcp::PromptFuture {
                ::std::boxed::Box::pin(async move {
                    #(#lets)*
                    let __output = #fn_ident(#(#args),*).await;
                    ::core::result::Result::Ok(#convert)
                })
            }

            #(#completer_fns)*

            impl #fn_ident {
                /// The prompt's spec: name, arguments and handler.
                pub const SPEC: &'static _mcp::PromptSpec = &_mcp::PromptSpec {
                    name: #name,
                    title: #title,
                    description: #description,
                    arguments: &[#(#arguments),*],
                    scopes: &[#(#scopes),*],
                    completions: &[#(#completers),*],
                    state: &[#(#states),*],
                    handler: __mcp_get,
                    location: #location,
                };
            }

            #[_mcp::linkme::distributed_slice(_mcp::PROMPTS)]
            #[linkme(crate = _mcp::linkme)]
            static __MCP_PROMPT: &'static _mcp::PromptSpec = #fn_ident::SPEC;
        };
    }
}
