//! A function item parsed only as far as the macros need: attributes, visibility, signature; the body
//! stays raw tokens (parsing statements would cost compile time and add nothing).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility, braced};

pub(crate) struct ItemFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: TokenStream,
}

impl Parse for ItemFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner: TokenStream = content.parse()?;
        let mut body = TokenStream::new();
        brace.surround(&mut body, |t| t.extend(inner));
        Ok(Self { attrs, vis, sig, body })
    }
}

impl ToTokens for ItemFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let Self { attrs, vis, sig, body } = self;
        tokens.extend(quote!(#(#attrs)* #vis #sig #body));
    }
}

/// The pipeline every function macro follows. The item is parsed (or, when it is not a function we can
/// read, given back untouched with the error, so the IDE keeps working); `model` parses the attribute,
/// builds the typed model and checks it, collecting every error in the `Ctxt`; then either `expand`
/// generates the code, or the function is re-emitted as `item_of` holds it (parameter attributes
/// stripped) together with every error, so the rest of the crate still resolves it.
pub(crate) fn expand_fn<M>(
    input: TokenStream,
    model: impl FnOnce(&crate::ctxt::Ctxt, ItemFn) -> M,
    item_of: impl FnOnce(&M) -> &ItemFn,
    expand: impl FnOnce(&M) -> TokenStream,
) -> TokenStream {
    let untouched = input.clone();
    let item: ItemFn = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => {
            let error = e.to_compile_error();
            return quote!(#untouched #error);
        }
    };
    let cx = crate::ctxt::Ctxt::new();
    let model = model(&cx, item);
    match cx.check() {
        Ok(()) => expand(&model),
        Err(e) => {
            let item = item_of(&model);
            let error = e.to_compile_error();
            quote!(#item #error)
        }
    }
}
