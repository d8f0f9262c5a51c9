//! The typed model of a server entry point.

use syn::{FnArg, Path};

use super::attr::ServerAttrs;
use crate::item::ItemFn;

pub(crate) struct ServerFn {
    pub(crate) item: ItemFn,
    pub(crate) attrs: ServerAttrs,
    /// Whether the function takes the `Server` to customise.
    pub(crate) takes_server: bool,
    pub(crate) krate: Path,
}

impl ServerFn {
    pub(crate) fn new(item: ItemFn, attrs: ServerAttrs) -> Self {
        let takes_server = item.sig.inputs.iter().any(|i| matches!(i, FnArg::Typed(_)));
        let krate = attrs.krate.clone().unwrap_or_else(|| syn::parse_quote!(::mcp_runtime));
        Self { item, attrs, takes_server, krate }
    }
}
