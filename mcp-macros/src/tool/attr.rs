//! Parses `#[mcp_tool(...)]` and `#[schema(...)]`, collecting every error.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitInt, LitStr, Path};

use crate::ctxt::{Ctxt, flag, parse_str_list, set_once, skip_value, unknown_key};

/// The keys of `#[mcp_tool(...)]`, as written.
#[derive(Default)]
pub(crate) struct ToolAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) rate: Option<RateLit>,
    pub(crate) burst: Option<LitInt>,
    pub(crate) scopes: Option<(Span, Vec<LitStr>)>,
    pub(crate) timeout: Option<LitStr>,
    pub(crate) task: Option<LitStr>,
    pub(crate) read_only: Option<Span>,
    pub(crate) destructive: Option<Span>,
    pub(crate) idempotent: Option<Span>,
    pub(crate) open_world: Option<Span>,
    pub(crate) krate: Option<Path>,
}

/// `rate = "30/min"` or `rate = 30` (per minute).
pub(crate) enum RateLit {
    Text(LitStr),
    PerMinute(LitInt),
}

const TOOL_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "rate",
    "burst",
    "scopes",
    "timeout",
    "task",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "crate",
];

pub(crate) fn parse_tool_attrs(cx: &Ctxt, args: TokenStream) -> ToolAttrs {
    let mut attrs = ToolAttrs::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.clone();
        let name = key.get_ident().map(ToString::to_string).unwrap_or_default();
        match name.as_str() {
            "name" => set_once(cx, &mut attrs.name, &key, meta.value()?.parse()?),
            "title" => set_once(cx, &mut attrs.title, &key, meta.value()?.parse()?),
            "description" => set_once(cx, &mut attrs.description, &key, meta.value()?.parse()?),
            "timeout" => set_once(cx, &mut attrs.timeout, &key, meta.value()?.parse()?),
            "task" => set_once(cx, &mut attrs.task, &key, meta.value()?.parse()?),
            "burst" => set_once(cx, &mut attrs.burst, &key, meta.value()?.parse()?),
            "rate" => {
                let rate = match meta.value()?.parse::<Lit>()? {
                    Lit::Str(s) => RateLit::Text(s),
                    Lit::Int(i) => RateLit::PerMinute(i),
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`rate` takes \"N/s\", \"N/min\", \"N/h\", \"N/day\" or an integer per minute",
                        ));
                    }
                };
                set_once(cx, &mut attrs.rate, &key, rate);
            }
            "scopes" => {
                let span = key.span();
                let list = parse_str_list(&meta)?;
                set_once(cx, &mut attrs.scopes, &key, (span, list));
            }
            "crate" => set_once(cx, &mut attrs.krate, &key, meta.value()?.parse()?),
            "read_only" => flag(cx, &meta, &mut attrs.read_only),
            "destructive" => flag(cx, &meta, &mut attrs.destructive),
            "idempotent" => flag(cx, &meta, &mut attrs.idempotent),
            "open_world" => flag(cx, &meta, &mut attrs.open_world),
            _ => {
                unknown_key(cx, &key, "#[mcp_tool]", TOOL_KEYS);
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

/// The keys of `#[schema(...)]` on a parameter.
#[derive(Default)]
pub(crate) struct SchemaAttrs {
    pub(crate) pattern: Option<LitStr>,
    pub(crate) min_length: Option<Expr>,
    pub(crate) max_length: Option<Expr>,
    pub(crate) minimum: Option<Expr>,
    pub(crate) maximum: Option<Expr>,
    pub(crate) min_items: Option<Expr>,
    pub(crate) max_items: Option<Expr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) email: Option<Span>,
    pub(crate) url: Option<Span>,
    /// `header = "Region"`: the argument is mirrored into the `Mcp-Param-Region` HTTP header
    /// (`x-mcp-header`, SEP-2243).
    pub(crate) header: Option<LitStr>,
}

const SCHEMA_KEYS: &[&str] = &[
    "pattern",
    "min_length",
    "max_length",
    "minimum",
    "maximum",
    "min_items",
    "max_items",
    "description",
    "email",
    "url",
    "header",
];

pub(crate) fn parse_schema_attr(cx: &Ctxt, attr: &syn::Attribute, into: &mut SchemaAttrs) {
    let result = attr.parse_nested_meta(|meta| {
        let key = meta.path.clone();
        let name = key.get_ident().map(ToString::to_string).unwrap_or_default();
        match name.as_str() {
            "pattern" => set_once(cx, &mut into.pattern, &key, meta.value()?.parse()?),
            "description" => set_once(cx, &mut into.description, &key, meta.value()?.parse()?),
            "header" => set_once(cx, &mut into.header, &key, meta.value()?.parse()?),
            "min_length" => set_once(cx, &mut into.min_length, &key, number(&meta)?),
            "max_length" => set_once(cx, &mut into.max_length, &key, number(&meta)?),
            "minimum" => set_once(cx, &mut into.minimum, &key, number(&meta)?),
            "maximum" => set_once(cx, &mut into.maximum, &key, number(&meta)?),
            "min_items" => set_once(cx, &mut into.min_items, &key, number(&meta)?),
            "max_items" => set_once(cx, &mut into.max_items, &key, number(&meta)?),
            "email" => flag(cx, &meta, &mut into.email),
            "url" => flag(cx, &meta, &mut into.url),
            _ => {
                unknown_key(cx, &key, "#[schema]", SCHEMA_KEYS);
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
}

/// A numeric bound: a literal, possibly negative, or a constant path.
fn number(meta: &ParseNestedMeta<'_>) -> syn::Result<Expr> {
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(ExprLit { lit: Lit::Int(_) | Lit::Float(_), .. }) | Expr::Unary(_) | Expr::Path(_) => Ok(expr),
        other => Err(syn::Error::new_spanned(other, "expected a number")),
    }
}
