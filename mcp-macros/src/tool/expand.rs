//! Generates the code beside a tool function. Only generation happens here.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ReturnType;
use syn::spanned::Spanned;

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

    // One `field` per argument: its schema, whether it is required, its description, the keywords of
    // `#[schema(...)]`. Spanned on the argument's type, so a type without `JsonSchema` is reported there.
    let fields = tool.params.iter().filter_map(|p| match p {
        Param::Arg { ident, ty, docs, schema, .. } => {
            let name = ident.to_string();
            let required = !is_option(ty);
            let description = match &schema.description {
                Some(d) => quote!(::core::option::Option::Some(#d)),
                None => crate::doc::read(docs).description(),
            };
            let mut keywords = Vec::new();
            if let Some(pattern) = &schema.pattern {
                keywords.push(quote!(("pattern", _mcp::serde_json::Value::from(#pattern))));
            }
            let (min, max) = schema.length_bounds();
            let (min_kw, max_kw) = if is_sequence(ty) { ("minItems", "maxItems") } else { ("minLength", "maxLength") };
            if let Some(m) = min {
                keywords.push(quote!((#min_kw, _mcp::serde_json::Value::from(#m))));
            }
            if let Some(m) = max {
                keywords.push(quote!((#max_kw, _mcp::serde_json::Value::from(#m))));
            }
            if let Some(m) = &schema.minimum {
                keywords.push(quote!(("minimum", _mcp::serde_json::Value::from(#m))));
            }
            if let Some(m) = &schema.maximum {
                keywords.push(quote!(("maximum", _mcp::serde_json::Value::from(#m))));
            }
            if schema.email.is_some() {
                keywords.push(quote!(("format", _mcp::serde_json::Value::from("email"))));
            }
            if schema.url.is_some() {
                keywords.push(quote!(("format", _mcp::serde_json::Value::from("uri"))));
            }
            if let Some(header) = &schema.header {
                keywords.push(quote!(("x-mcp-header", _mcp::serde_json::Value::from(#header))));
            }
            Some(quote_spanned!(ty.span()=> .field::<#ty>(#name, #required, #description, &[#(#keywords),*])))
        }
        Param::Inject { .. } => None,
    });
    // Each argument taken by name, spanned on its type: a type that cannot be an argument is reported
    // there, once, with a note saying what it needs.
    let arguments = tool.params.iter().enumerate().filter_map(|(i, p)| match p {
        Param::Arg { ident, ty, .. } => {
            let var = format_ident!("__arg_{}", i);
            let name = ident.to_string();
            Some(quote_spanned!(ty.span()=> let #var: #ty = __invocation.argument(#name)?;))
        }
        Param::Inject { .. } => None,
    });
    let arguments: Vec<_> = arguments.collect();

    let mut injections = Vec::new();
    let call_args = tool.params.iter().enumerate().map(|(i, p)| match p {
        Param::Arg { .. } => format_ident!("__arg_{}", i).into_token_stream(),
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
    let task = format_ident!("{}", resolved.task.unwrap_or("Forbidden"));
    let scopes = tool.attrs.scopes.iter().flat_map(|(_, s)| s.iter());
    let marked = |redact: bool| {
        tool.params
            .iter()
            .filter_map(move |p| match p {
                Param::Arg { ident, audit: Some(mark), .. } if mark.redact == redact => Some(ident.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let (audit_redact, audit_clear) = (marked(true), marked(false));
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

    // A macro exported at the crate root, named after the tool: two tools with one name anywhere in a
    // crate define it twice, which rustc reports at both names. (Across crates, start-up refuses them.)
    let claim = format_ident!("__mcp_tool_named_{}", mangle(name), span = tool.name_span);

    quote! {
        #item

        #[doc = #spec_doc]
        #[allow(non_camel_case_types)]
        #vis struct #fn_ident {}

        #[doc(hidden)]
        #[macro_export]
        #[allow(non_local_definitions)] // a tool defined in a function body still claims its name crate-wide
        macro_rules! #claim {
            () => {};
        }

        const _: () = {
            use #private as _mcp;

            #[allow(unused_mut)]
            fn __mcp_call(mut __invocation: _mcp::ToolInvocation) -> _mcp::ToolFuture {
                ::std::boxed::Box::pin(async move {
                    #(#arguments)*
                    #(#injections)*
                    let __output = #fn_ident(#(#call_args),*).await;
                    ::core::result::Result::Ok(#convert)
                })
            }

            fn __mcp_input_schema() -> _mcp::schemars::Schema {
                _mcp::InputSchema::new() #(#fields)* .finish()
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
                    audit_redact: &[#(#audit_redact),*],
                    audit_clear: &[#(#audit_clear),*],
                    timeout: #timeout,
                    task: #krate::tasks::TaskSupport::#task,
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

/// `Option<...>` as written: an argument that may be absent.
fn is_option(ty: &syn::Type) -> bool {
    last_segment(ty).is_some_and(|s| s == "Option")
}

/// `Vec<...>`, sets, arrays and slices: their length bounds are `minItems`/`maxItems`.
fn is_sequence(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Array(_) | syn::Type::Slice(_) => true,
        _ => last_segment(ty).is_some_and(|s| matches!(s.as_str(), "Vec" | "VecDeque" | "HashSet" | "BTreeSet")),
    }
}

fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// A tool name as an identifier fragment: `[A-Za-z0-9_]` kept, `.` and `-` spelled out.
fn mangle(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '.' => "_dot_".to_owned(),
            '-' => "_dash_".to_owned(),
            c if c.is_ascii_alphanumeric() || c == '_' => c.to_string(),
            _ => "_".to_owned(),
        })
        .collect()
}
