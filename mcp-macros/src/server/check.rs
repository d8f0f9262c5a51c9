//! Rules for `#[mcp_server]`.

use syn::FnArg;

use super::ast::ServerFn;
use crate::ctxt::Ctxt;

pub(crate) fn check(cx: &Ctxt, server: &ServerFn) {
    let sig = &server.item.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "#[mcp_server] needs an `async fn main`");
    }
    if sig.ident != "main" {
        cx.error_spanned_by(&sig.ident, "#[mcp_server] goes on `main`: it builds the runtime and serves");
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "`main` cannot be generic");
    }
    if sig.inputs.len() > 1 {
        cx.error_spanned_by(&sig.inputs, "`main` takes at most one parameter: the `Server` to customise");
    }
    for input in &sig.inputs {
        if let FnArg::Receiver(r) = input {
            cx.error_spanned_by(r, "`main` cannot take `self`");
        }
    }
}
