//! Parses `#[mcp_server(...)]`.

use proc_macro2::TokenStream;
use syn::{LitStr, Path};

use crate::ctxt::{Ctxt, set_once, unknown_key};

#[derive(Default)]
pub(crate) struct ServerAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) instructions: Option<LitStr>,
    /// A TOML file (relative to the crate's manifest) compiled in as the configuration's defaults.
    pub(crate) config: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// `"mimalloc"` (the default) or `"none"` (the binary declares its own, or keeps the system's).
    pub(crate) allocator: Option<LitStr>,
}

const SERVER_KEYS: &[&str] =
    &["name", "version", "title", "description", "instructions", "config", "crate", "allocator"];

pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> ServerAttrs {
    let mut attrs = ServerAttrs::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.clone();
        match key.get_ident().map(ToString::to_string).unwrap_or_default().as_str() {
            "name" => set_once(cx, &mut attrs.name, &key, meta.value()?.parse()?),
            "version" => set_once(cx, &mut attrs.version, &key, meta.value()?.parse()?),
            "title" => set_once(cx, &mut attrs.title, &key, meta.value()?.parse()?),
            "description" => set_once(cx, &mut attrs.description, &key, meta.value()?.parse()?),
            "instructions" => set_once(cx, &mut attrs.instructions, &key, meta.value()?.parse()?),
            "config" => set_once(cx, &mut attrs.config, &key, meta.value()?.parse()?),
            "crate" => set_once(cx, &mut attrs.krate, &key, meta.value()?.parse()?),
            "allocator" => {
                let value: LitStr = meta.value()?.parse()?;
                if !matches!(value.value().as_str(), "mimalloc" | "none") {
                    cx.error_spanned_by(&value, "`allocator` is \"mimalloc\" (the default) or \"none\"");
                }
                set_once(cx, &mut attrs.allocator, &key, value);
            }
            _ => {
                unknown_key(cx, &key, "#[mcp_server]", SERVER_KEYS);
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                }
            }
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(e);
    }
    attrs
}
