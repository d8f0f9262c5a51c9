//! Rules for `#[mcp_prompt]`.

use super::ast::PromptFn;
use crate::ctxt::Ctxt;
use crate::param;

pub(crate) fn check(cx: &Ctxt, prompt: &PromptFn) {
    let sig = &prompt.item.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "#[mcp_prompt] needs an `async fn`");
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "a prompt cannot be generic: its arguments are fixed at compile time");
    }
    if prompt.name.is_empty() {
        cx.error_at(prompt.name_span, "a prompt name cannot be empty");
    }
    // Argument types (`String` / `Option<String>`) are checked by the compiler through
    // `FromPromptArgument`, so aliases and paths work and the message comes from one place.
    crate::inject::check_unique(cx, param::injections(&prompt.params));
    crate::ctxt::check_scopes(cx, &prompt.attrs.scopes);
}
