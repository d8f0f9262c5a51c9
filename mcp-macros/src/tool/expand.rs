//! Generates the code beside a tool function. Only generation happens here.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{LitStr, ReturnType};

use super::ast::{Param, ToolFn};
use super::check::Resolved;
use crate::codegen::{self, option_str};
use crate::inject::{self, Injected};

pub(crate) fn expand(tool: &ToolFn, resolved: &Resolved) -> TokenStream {
    let item = &tool.item;
    let fn_ident = &item.sig.ident;
    let vis = &item.vis;
    let krate = &tool.krate;
    let private = quote!(#krate::__private);
    let serde_path = LitStr::new(&format!("{}::serde", private.to_string().replace(' ', "")), fn_ident.span());
    let schemars_path = LitStr::new(&format!("{}::schemars", private.to_string().replace(' ', "")), fn_ident.span());

    let fields = tool.params.iter().filter_map(|p| match p {
        Param::Arg { ident, ty, docs, schema } => {
            let mut attrs = Vec::new();
            if let Some(pattern) = &schema.pattern {
                attrs.push(quote!(#[schemars(regex(pattern = #pattern))]));
            }
            let (min, max) = schema.length_bounds();
            if min.is_some() || max.is_some() {
                let min = min.map(|m| quote!(min = #m));
                let max = max.map(|m| quote!(max = #m));
                let bounds = min.into_iter().chain(max);
                attrs.push(quote!(#[schemars(length(#(#bounds),*))]));
            }
            if schema.minimum.is_some() || schema.maximum.is_some() {
                let min = schema.minimum.as_ref().map(|m| quote!(min = #m));
                let max = schema.maximum.as_ref().map(|m| quote!(max = #m));
                let bounds = min.into_iter().chain(max);
                attrs.push(quote!(#[schemars(range(#(#bounds),*))]));
            }
            if let Some(description) = &schema.description {
                attrs.push(quote!(#[schemars(description = #description)]));
            }
            if schema.email.is_some() {
                attrs.push(quote!(#[schemars(email)]));
            }
            if schema.url.is_some() {
                attrs.push(quote!(#[schemars(url)]));
            }
            Some(quote!(#(#docs)* #(#attrs)* #ident: #ty,))
        }
        Param::Inject { .. } => None,
    });

    let mut injections = Vec::new();
    let call_args = tool.params.iter().enumerate().map(|(i, p)| match p {
        Param::Arg { ident, .. } => quote!(__args.#ident),
        Param::Inject { ty, .. } => {
            let var = format_ident!("__inject_{}", i);
            injections.push(inject::extract(&var, ty));
            var.into_token_stream()
        }
    });
    let call_args: Vec<_> = call_args.collect();

    let ret = match &item.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    // Spanned on the return type, so a type that cannot be returned is reported there (once).
    let convert = quote_spanned!(ret.span()=> _mcp::IntoToolResult::into_tool_result(__output));
    let output_schema = quote_spanned!(ret.span()=> <#ret as _mcp::IntoToolResult>::output_schema);
    let arg_asserts = tool.params.iter().filter_map(|p| match p {
        Param::Arg { ty, .. } => Some(quote_spanned!(ty.span()=> _mcp::assert_tool_argument::<#ty>();)),
        Param::Inject { .. } => None,
    });
    let state_types = tool.params.iter().filter_map(|p| match p {
        Param::Inject { ty, kind: Injected::State } => Some(inject::state_requirement(ty)),
        _ => None,
    });

    let name = &tool.name;
    let title = option_str(tool.title().as_deref());
    let description = codegen::description(tool.attrs.description.as_ref(), &tool.docs);
    let rate = match resolved.rate {
        Some((count, per_ms)) => quote!(::core::option::Option::Some(_mcp::rate(#count, #per_ms))),
        None => quote!(::core::option::Option::None),
    };
    let burst = match resolved.burst {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let timeout = match resolved.timeout_ms {
        Some(ms) => quote!(_mcp::timeout_ms(#ms)),
        None => quote!(::core::option::Option::None),
    };
    let scopes = tool.attrs.scopes.iter().flat_map(|(_, s)| s.iter());
    let hint = |flag: Option<proc_macro2::Span>| match flag {
        Some(_) => quote!(::core::option::Option::Some(true)),
        None => quote!(::core::option::Option::None),
    };
    let (read_only, destructive, idempotent, open_world) = (
        hint(tool.attrs.read_only),
        hint(tool.attrs.destructive),
        hint(tool.attrs.idempotent),
        hint(tool.attrs.open_world),
    );
    let location = codegen::location();
    let spec_doc =
        format!("The MCP tool spec of [`{fn_ident}`](fn@{fn_ident}): pass `{fn_ident}::SPEC` to `Server::tool`.");

    quote! {
        #item

        #[doc = #spec_doc]
        #[allow(non_camel_case_types)]
        #vis struct #fn_ident {}

        const _: () = {
            use #private as _mcp;

            #[derive(_mcp::serde::Deserialize, _mcp::schemars::JsonSchema)]
            #[serde(crate = #serde_path, deny_unknown_fields)]
            #[schemars(crate = #schemars_path)]
            struct __McpArgs {
                #(#fields)*
            }

            #[allow(unused_mut)]
            fn __mcp_call(mut __invocation: _mcp::ToolInvocation) -> _mcp::ToolFuture {
                ::std::boxed::Box::pin(async move {
                    let __args: __McpArgs = __invocation.arguments()?;
                    #(#injections)*
                    let __output = #fn_ident(#(#call_args),*).await;
                    ::core::result::Result::Ok(#convert)
                })
            }

            fn __mcp_input_schema() -> _mcp::schemars::Schema {
                _mcp::schemars::SchemaGenerator::default().into_root_schema_for::<__McpArgs>()
            }

            #[allow(dead_code)]
            fn __mcp_assertions() {
                #(#arg_asserts)*
            }

            impl #fn_ident {
                /// The tool's spec: name, schemas, limits and handler.
                pub const SPEC: &'static _mcp::ToolSpec = &_mcp::ToolSpec {
                    name: #name,
                    title: #title,
                    description: #description,
                    input_schema: __mcp_input_schema,
                    output_schema: #output_schema,
                    annotations: _mcp::ToolAnnotations {
                        read_only_hint: #read_only,
                        destructive_hint: #destructive,
                        idempotent_hint: #idempotent,
                        open_world_hint: #open_world,
                    },
                    rate: #rate,
                    burst: #burst,
                    scopes: &[#(#scopes),*],
                    timeout: #timeout,
                    state: &[#(#state_types),*],
                    handler: __mcp_call,
                    location: #location,
                };
            }

            #[_mcp::linkme::distributed_slice(_mcp::TOOLS)]
            #[linkme(crate = _mcp::linkme)]
            static __MCP_TOOL: &'static _mcp::ToolSpec = #fn_ident::SPEC;
        };
    }
}
