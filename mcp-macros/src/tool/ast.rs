//! The typed model of one tool: what the attribute and the signature say, resolved.

use proc_macro2::Span;
use syn::{Attribute, Expr, FnArg, Ident, LitStr, Pat, Path, Type};

use super::attr::{SchemaAttrs, ToolAttrs, parse_schema_attr};
use crate::ctxt::Ctxt;
use crate::doc::{self, Docs};
use crate::inject::{Injected, injected};
use crate::item::ItemFn;

pub(crate) struct ToolFn {
    pub(crate) item: ItemFn,
    pub(crate) attrs: ToolAttrs,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) docs: Docs,
    pub(crate) params: Vec<Param>,
    pub(crate) krate: Path,
}

pub(crate) enum Param {
    /// An argument from the client: a property of the input schema.
    Arg { ident: Ident, ty: Type, docs: Vec<Attribute>, schema: Box<SchemaAttrs>, audit: Option<AuditMark> },
    /// `Context` or `State<T>`: injected, not in the schema.
    Inject { ty: Type, kind: Injected },
}

impl ToolFn {
    /// Builds the model. Strips `#[schema]` and doc attributes from parameters (they describe the schema;
    /// rustc does not accept them on parameters).
    pub(crate) fn from_item(cx: &Ctxt, mut item: ItemFn, attrs: ToolAttrs) -> Self {
        let (name, name_span) = match &attrs.name {
            Some(lit) => (lit.value(), lit.span()),
            None => {
                let ident = item.sig.ident.to_string();
                (ident.strip_prefix("r#").unwrap_or(&ident).to_owned(), item.sig.ident.span())
            }
        };
        let docs = doc::read(&item.attrs);
        let mut params = Vec::new();
        for input in &mut item.sig.inputs {
            let FnArg::Typed(pat_type) = input else {
                cx.error_spanned_by(
                    &*input,
                    "a tool cannot take `self`: make it a free function and share data through `State<T>` \
                     (Server::with_state)",
                );
                continue;
            };
            let attrs = std::mem::take(&mut pat_type.attrs);
            let (mut docs, mut schema) = (Vec::new(), Box::<SchemaAttrs>::default());
            let mut audit: Option<AuditMark> = None;
            for attr in attrs {
                if attr.path().is_ident("doc") {
                    docs.push(attr);
                } else if attr.path().is_ident("schema") {
                    parse_schema_attr(cx, &attr, &mut schema);
                } else if attr.path().is_ident("audit") {
                    parse_audit_attr(cx, &attr, &mut audit);
                } else {
                    pat_type.attrs.push(attr);
                }
            }
            let ty = (*pat_type.ty).clone();
            if let Some(kind) = injected(&ty) {
                if let Some(mark) = &audit {
                    cx.error_at(mark.span, "an injected parameter is never recorded: remove its #[audit(...)]");
                }
                if !docs.is_empty() || schema.has_any() {
                    cx.error_spanned_by(
                        &pat_type.pat,
                        "an injected parameter is not part of the schema: remove its #[schema] and doc comment",
                    );
                }
                params.push(Param::Inject { ty, kind });
                continue;
            }
            match &*pat_type.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                    let ident = Ident::new(p.ident.to_string().trim_start_matches("r#"), p.ident.span());
                    params.push(Param::Arg { ident, ty, docs, schema, audit });
                }
                other => cx.error_spanned_by(
                    other,
                    "a tool argument needs a plain name: it becomes the property name in the input schema",
                ),
            }
        }
        let krate = attrs.krate.clone().unwrap_or_else(|| syn::parse_quote!(::mcp_runtime));
        Self { item, attrs, name, name_span, docs, params, krate }
    }

    pub(crate) fn title(&self) -> Option<String> {
        self.attrs.title.as_ref().map(LitStr::value).or_else(|| self.docs.title().map(str::to_owned))
    }
}

impl SchemaAttrs {
    pub(crate) fn has_any(&self) -> bool {
        self.pattern.is_some()
            || self.min_length.is_some()
            || self.max_length.is_some()
            || self.minimum.is_some()
            || self.maximum.is_some()
            || self.min_items.is_some()
            || self.max_items.is_some()
            || self.description.is_some()
            || self.email.is_some()
            || self.url.is_some()
            || self.header.is_some()
    }

    /// `min_length`/`min_items` (and the maxima) map to the same JSON Schema keywords by type.
    pub(crate) fn length_bounds(&self) -> (Option<&Expr>, Option<&Expr>) {
        (self.min_length.as_ref().or(self.min_items.as_ref()), self.max_length.as_ref().or(self.max_items.as_ref()))
    }
}

/// `#[audit(redact)]` or `#[audit(clear)]` on an argument.
#[derive(Clone, Copy)]
pub(crate) struct AuditMark {
    pub(crate) redact: bool,
    pub(crate) span: Span,
}

fn parse_audit_attr(cx: &Ctxt, attr: &Attribute, mark: &mut Option<AuditMark>) {
    let parsed = attr.parse_args_with(|input: syn::parse::ParseStream<'_>| {
        let word: Ident = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("expected only `redact` or `clear`"));
        }
        Ok(word)
    });
    match parsed {
        Ok(word) if word == "redact" || word == "clear" => {
            if mark.is_some() {
                cx.error_spanned_by(attr, "an argument takes one #[audit(...)]");
            }
            *mark = Some(AuditMark { redact: word == "redact", span: word.span() });
        }
        Ok(word) => cx.error_spanned_by(
            &word,
            "#[audit(...)] takes `redact` (always hidden in audit records) or `clear` (always shown)",
        ),
        Err(e) => cx.syn_error(e),
    }
}
