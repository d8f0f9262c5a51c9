//! Parameters the runtime injects instead of taking them from the client — `Context` and `State<T>` —
//! recognised, checked and extracted the same way by every macro.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::ctxt::Ctxt;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Context,
    State,
}

/// `Context`, `State<T>` (by the last path segment, as written).
pub(crate) fn injected(ty: &Type) -> Option<Injected> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    match last.ident.to_string().as_str() {
        "Context" => Some(Injected::Context),
        "State" => Some(Injected::State),
        _ => None,
    }
}

/// `Context` at most once, each `State<T>` at most once.
pub(crate) fn check_unique<'a>(cx: &Ctxt, injections: impl IntoIterator<Item = (&'a Type, Injected)>) {
    let mut context_seen = false;
    let mut states = Vec::new();
    for (ty, kind) in injections {
        match kind {
            Injected::Context => {
                if context_seen {
                    cx.error_spanned_by(ty, "`Context` is taken twice");
                }
                context_seen = true;
            }
            Injected::State => {
                let key = ty.to_token_stream().to_string();
                if states.contains(&key) {
                    cx.error_spanned_by(ty, "this `State<T>` is taken twice");
                }
                states.push(key);
            }
        }
    }
}

/// `let #var: #ty = ...from_invocation(__invocation.parts())?;`, errors pointing at the parameter's type.
pub(crate) fn extract(var: &Ident, ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> let #var: #ty = _mcp::FromInvocation::from_invocation(__invocation.parts())?;)
}

/// `_mcp::state::<T>()` for a `State<T>` parameter, so the server checks it at start-up.
pub(crate) fn state_requirement(ty: &Type) -> TokenStream {
    let inner = state_inner(ty);
    quote!(_mcp::state::<#inner>())
}

/// `T` of `State<T>`, or the whole type when written otherwise.
fn state_inner(ty: &Type) -> TokenStream {
    if let Type::Path(p) = ty
        && let Some(last) = p.path.segments.last()
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return inner.to_token_stream();
    }
    ty.to_token_stream()
}
