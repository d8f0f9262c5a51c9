//! The typed model of one resource: what the attribute and the signature say, resolved.

use proc_macro2::Span;
use syn::{LitStr, Path};

use super::attr::ResourceAttrs;
use crate::ctxt::Ctxt;
use crate::doc::{self, Docs};
use crate::item::ItemFn;
use crate::param::{self, Param};

pub(crate) struct ResourceFn {
    pub(crate) item: ItemFn,
    pub(crate) attrs: ResourceAttrs,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) docs: Docs,
    /// Template variables (by name) and injected parameters, in the function's order.
    pub(crate) params: Vec<Param>,
    pub(crate) krate: Path,
}

impl ResourceFn {
    pub(crate) fn from_item(cx: &Ctxt, mut item: ItemFn, attrs: ResourceAttrs) -> Self {
        let (name, name_span) = match &attrs.name {
            Some(lit) => (lit.value(), lit.span()),
            None => {
                let ident = item.sig.ident.to_string();
                (ident.strip_prefix("r#").unwrap_or(&ident).to_owned(), item.sig.ident.span())
            }
        };
        let docs = doc::read(&item.attrs);
        let params = param::read(cx, &mut item, "a resource");
        let krate = attrs.krate.clone().unwrap_or_else(|| syn::parse_quote!(::mcp_runtime));
        Self { item, attrs, name, name_span, docs, params, krate }
    }

    pub(crate) fn title(&self) -> Option<String> {
        self.attrs.title.as_ref().map(LitStr::value).or_else(|| self.docs.title().map(str::to_owned))
    }
}
