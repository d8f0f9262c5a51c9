//! Collects every error a macro finds, so a user sees all of them at once (serde_derive's `Ctxt`), and the
//! attribute-parsing helpers that report through it.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::Expr;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

/// An error accumulator that must be checked: dropping it unchecked is a bug in the macro.
pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Self { errors: RefCell::new(Some(Vec::new())) }
    }

    /// Records an error pointing at `tokens`.
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at a span.
    pub(crate) fn error_at<M: Display>(&self, span: proc_macro2::Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Records a parse error.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().as_mut().expect("Ctxt used after check").push(error);
    }

    /// All errors combined into one, or `Ok` when there were none.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.borrow_mut().take().expect("Ctxt checked twice").into_iter();
        let Some(mut combined) = errors.next() else { return Ok(()) };
        for rest in errors {
            combined.combine(rest);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("mcp-macros: a Ctxt was dropped without being checked");
        }
    }
}

/// Sets an attribute value once; a second occurrence is an error on the second key.
pub(crate) fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, key: &syn::Path, value: T) {
    if slot.is_some() {
        cx.error_spanned_by(key, format_args!("`{}` specified more than once", path_name(key)));
    } else {
        *slot = Some(value);
    }
}

pub(crate) fn path_name(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

/// The known key closest to `unknown`, for "did you mean" hints.
pub(crate) fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(unknown, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// An "unknown key" error with a suggestion when one is close.
pub(crate) fn unknown_key(cx: &Ctxt, path: &syn::Path, what: &str, known: &[&str]) {
    let name = path_name(path);
    match closest(&name, known) {
        Some(hint) => cx.error_spanned_by(path, format_args!("unknown {what} key `{name}`; did you mean `{hint}`?")),
        None => cx
            .error_spanned_by(path, format_args!("unknown {what} key `{name}`; expected one of: {}", known.join(", "))),
    }
}

/// A flag key (`read_only`): present or not, never with a value.
pub(crate) fn flag(cx: &Ctxt, meta: &ParseNestedMeta<'_>, slot: &mut Option<Span>) {
    if meta.input.peek(syn::Token![=]) {
        cx.error_spanned_by(&meta.path, format_args!("`{}` is a flag and takes no value", path_name(&meta.path)));
        let _ = skip_value(meta);
        return;
    }
    set_once(cx, slot, &meta.path, meta.path.span());
}

/// Consumes `= value` or `(...)` after an unknown key so parsing can go on.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
        let _: TokenStream = _content.parse()?;
    }
    Ok(())
}

/// `key = ["a", "b"]`.
pub(crate) fn parse_str_list(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<syn::LitStr>> {
    let value = meta.value()?;
    let content;
    syn::bracketed!(content in value);
    let items = content.parse_terminated(|p| p.parse::<syn::LitStr>(), syn::Token![,])?;
    Ok(items.into_iter().collect())
}

/// A duration attribute (`timeout = "5s"`, `ttl = "10min"`) in milliseconds, read by the grammar the runtime's
/// configuration reads (`mcp_grammar::parse_duration`); `None` when it is not one.
pub(crate) fn duration_ms(text: &syn::LitStr) -> Option<u64> {
    mcp_grammar::parse_duration(&text.value()).ok().and_then(|d| u64::try_from(d.as_millis()).ok())
}

/// `scopes = [..]` of a tool, resource or prompt: each an OAuth scope token (RFC 6749 §3.3).
pub(crate) fn check_scopes(cx: &Ctxt, scopes: &Option<(Span, Vec<syn::LitStr>)>) {
    for scope in scopes.iter().flat_map(|(_, s)| s) {
        let s = scope.value();
        if s.is_empty() || !s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)) {
            cx.error_spanned_by(
                scope,
                "an OAuth scope is one or more visible ASCII characters, without spaces, `\"` or `\\`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_near_misses_only() {
        let keys = ["rate", "burst", "timeout", "read_only"];
        assert_eq!(closest("rat", &keys), Some("rate"));
        assert_eq!(closest("readonly", &keys), Some("read_only"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn every_error_is_kept() {
        let cx = Ctxt::new();
        cx.error_at(proc_macro2::Span::call_site(), "first");
        cx.error_at(proc_macro2::Span::call_site(), "second");
        let messages: Vec<String> = cx.check().unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
