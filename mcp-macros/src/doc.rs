//! Doc comments as descriptions (schemars' approach): `///` lines joined, one leading space trimmed, and
//! a `# Heading` first line taken as the title.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// What the doc comments of an item say.
pub(crate) enum Docs {
    /// No doc comments.
    None,
    /// Literal doc comments: resolved now.
    Literal { title: Option<String>, body: Option<String> },
    /// Some doc attribute is an expression (`#[doc = concat!(..)]`): joined at compile time, no title.
    Exprs(Vec<Expr>),
}

pub(crate) fn read(attrs: &[Attribute]) -> Docs {
    let mut lines = Vec::new();
    let mut exprs = Vec::new();
    let mut all_literal = true;
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let Meta::NameValue(nv) = &attr.meta else { continue };
        if let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = &nv.value {
            lines.push(s.value());
        } else {
            all_literal = false;
        }
        exprs.push(nv.value.clone());
    }
    if exprs.is_empty() {
        return Docs::None;
    }
    if !all_literal {
        return Docs::Exprs(exprs);
    }
    let text: Vec<&str> = lines.iter().flat_map(|l| l.split('\n')).map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
    let text = text.join("\n");
    let text = text.trim();
    let (title, body) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => (Some(first[2..].trim().to_owned()), rest.trim().to_owned()),
        None if text.starts_with("# ") => (Some(text[2..].trim().to_owned()), String::new()),
        _ => (None, text.to_owned()),
    };
    Docs::Literal { title, body: (!body.is_empty()).then_some(body) }
}

impl Docs {
    /// The description as an `Option<&'static str>` expression.
    pub(crate) fn description(&self) -> TokenStream {
        match self {
            Self::None | Self::Literal { body: None, .. } => quote!(::core::option::Option::None),
            Self::Literal { body: Some(b), .. } => quote!(::core::option::Option::Some(#b)),
            Self::Exprs(exprs) => {
                let joined = exprs.iter().enumerate().map(|(i, e)| if i == 0 { quote!(#e) } else { quote!("\n", #e) });
                quote!(::core::option::Option::Some(::core::concat!(#(#joined),*).trim_ascii()))
            }
        }
    }

    pub(crate) fn title(&self) -> Option<&str> {
        match self {
            Self::Literal { title, .. } => title.as_deref(),
            _ => None,
        }
    }
}
