//! The parameters of a `#[mcp_resource]` or `#[mcp_prompt]` function: injected (`Context`, `State<T>`) or
//! named (a template variable, a prompt argument), with their doc comments and `#[complete(path)]`.

use proc_macro2::Span;
use syn::{FnArg, Ident, Pat, Path, Type};

use crate::ctxt::Ctxt;
use crate::doc::{self, Docs};
use crate::inject::{Injected, injected};
use crate::item::ItemFn;

pub(crate) enum Param {
    /// A value from the client, by name.
    Named(Named),
    /// `Context` or `State<T>`.
    Inject { ty: Type, kind: Injected },
}

pub(crate) struct Named {
    /// The parameter (`r#` stripped).
    pub(crate) ident: Ident,
    /// Its name as the client sees it.
    pub(crate) name: String,
    pub(crate) ty: Type,
    pub(crate) docs: Docs,
    /// `#[complete(path)]`: the completion function.
    pub(crate) complete: Option<Path>,
}

impl Named {
    pub(crate) fn span(&self) -> Span {
        self.ident.span()
    }
}

/// Reads the parameters, stripping the doc comments and `#[complete]` attributes the macro consumes
/// (rustc accepts neither on parameters). `what` names the item in messages ("a resource").
pub(crate) fn read(cx: &Ctxt, item: &mut ItemFn, what: &str) -> Vec<Param> {
    let mut params = Vec::new();
    for input in &mut item.sig.inputs {
        let FnArg::Typed(pat_type) = input else {
            cx.error_spanned_by(
                &*input,
                format_args!(
                    "{what} cannot take `self`: make it a free function and share data through `State<T>` \
                     (Server::with_state)"
                ),
            );
            continue;
        };
        let (mut docs, mut complete) = (Vec::new(), None);
        for attr in std::mem::take(&mut pat_type.attrs) {
            if attr.path().is_ident("doc") {
                docs.push(attr);
            } else if attr.path().is_ident("complete") {
                match attr.parse_args::<Path>() {
                    Ok(_) if complete.is_some() => cx.error_spanned_by(&attr, "`#[complete]` specified more than once"),
                    Ok(path) => complete = Some(path),
                    Err(_) => cx.error_spanned_by(
                        &attr,
                        "write `#[complete(path::to::function)]`, naming an \
                         `async fn(value: String, ctx: CompletionContext) -> Vec<String>`",
                    ),
                }
            } else {
                pat_type.attrs.push(attr);
            }
        }
        let ty = (*pat_type.ty).clone();
        if let Some(kind) = injected(&ty) {
            if complete.is_some() {
                cx.error_spanned_by(&pat_type.pat, "an injected parameter has nothing to complete: remove #[complete]");
            }
            params.push(Param::Inject { ty, kind });
            continue;
        }
        match &*pat_type.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                let name = p.ident.to_string().trim_start_matches("r#").to_owned();
                let ident = Ident::new(&name, p.ident.span());
                params.push(Param::Named(Named { ident, name, ty, docs: doc::read(&docs), complete }));
            }
            other => cx.error_spanned_by(
                other,
                format_args!("a parameter of {what} needs a plain name: the client refers to it by that name"),
            ),
        }
    }
    params
}

/// The injected parameters, for `inject::check_unique`.
pub(crate) fn injections(params: &[Param]) -> impl Iterator<Item = (&Type, Injected)> {
    params.iter().filter_map(|p| match p {
        Param::Inject { ty, kind } => Some((ty, *kind)),
        Param::Named(_) => None,
    })
}
