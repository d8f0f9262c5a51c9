//! Parses `#[mcp_prompt(...)]`, collecting every error.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{LitStr, Path};

use crate::ctxt::{Ctxt, parse_str_list, set_once, skip_value, unknown_key};

/// The keys of `#[mcp_prompt(...)]`, as written.
#[derive(Default)]
pub(crate) struct PromptAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) scopes: Option<(Span, Vec<LitStr>)>,
    pub(crate) krate: Option<Path>,
}

const PROMPT_KEYS: &[&str] = &["name", "title", "description", "scopes", "crate"];

pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> PromptAttrs {
    let mut attrs = PromptAttrs::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.clone();
        match key.get_ident().map(ToString::to_string).unwrap_or_default().as_str() {
            "name" => set_once(cx, &mut attrs.name, &key, meta.value()?.parse()?),
            "title" => set_once(cx, &mut attrs.title, &key, meta.value()?.parse()?),
            "description" => set_once(cx, &mut attrs.description, &key, meta.value()?.parse()?),
            "scopes" => {
                let list = parse_str_list(&meta)?;
                set_once(cx, &mut attrs.scopes, &key, (key.span(), list));
            }
            "crate" => set_once(cx, &mut attrs.krate, &key, meta.value()?.parse()?),
            _ => {
                unknown_key(cx, &key, "#[mcp_prompt]", PROMPT_KEYS);
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(e);
    }
    attrs
}
