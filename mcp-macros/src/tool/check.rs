//! Rules across keys and parameters; produces the values `expand` needs.

use syn::{Expr, ExprLit, ExprUnary, GenericArgument, Ident, Lit, LitStr, PathArguments, Type, UnOp};

use super::ast::{Param, ToolFn};
use super::attr::RateLit;
use crate::ctxt::Ctxt;

/// Values resolved from the attribute's text.
#[derive(Default)]
pub(crate) struct Resolved {
    /// (calls, period in milliseconds)
    pub(crate) rate: Option<(u32, u64)>,
    pub(crate) burst: Option<u32>,
    pub(crate) timeout_ms: Option<u64>,
    /// The `TaskSupport` variant `task = "..."` names (`Forbidden` when absent).
    pub(crate) task: Option<&'static str>,
}

/// `task = "..."`: the wire names the attribute takes, each with its `TaskSupport` variant.
const TASK_VALUES: [(&str, &str); 3] = [("forbidden", "Forbidden"), ("optional", "Optional"), ("required", "Required")];

pub(crate) fn check(cx: &Ctxt, tool: &ToolFn) -> Resolved {
    let sig = &tool.item.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "#[mcp_tool] needs an `async fn`");
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "a tool cannot be generic: its schema is fixed at compile time");
    }
    if !valid_name(&tool.name) {
        cx.error_at(
            tool.name_span,
            format_args!("tool name `{}` must be 1-128 characters of A-Z a-z 0-9 _ - .", tool.name),
        );
    }
    let mut resolved = Resolved::default();
    if let Some(rate) = &tool.attrs.rate {
        resolved.rate = check_rate(cx, rate);
    }
    if let Some(burst) = &tool.attrs.burst {
        match burst.base10_parse::<u32>() {
            Ok(0) | Err(_) => cx.error_spanned_by(burst, "`burst` must be a whole number of calls above 0"),
            Ok(b) if tool.attrs.rate.is_none() => {
                cx.error_spanned_by(burst, "`burst` needs a `rate`");
                resolved.burst = Some(b);
            }
            Ok(b) => resolved.burst = Some(b),
        }
    }
    if let Some(timeout) = &tool.attrs.timeout {
        match crate::ctxt::duration_ms(timeout) {
            Some(0) | None => {
                cx.error_spanned_by(timeout, "`timeout` must be a duration above zero like \"500ms\", \"5s\", \"2min\"")
            }
            Some(ms) => resolved.timeout_ms = Some(ms),
        }
    }
    if let Some(task) = &tool.attrs.task {
        resolved.task = check_task(cx, task);
    }
    crate::ctxt::check_scopes(cx, &tool.attrs.scopes);
    if let (Some(ro), Some(_)) = (tool.attrs.read_only, tool.attrs.destructive) {
        cx.error_at(ro, "a tool cannot be both `read_only` and `destructive`");
    }
    check_params(cx, tool);
    resolved
}

fn check_params(cx: &Ctxt, tool: &ToolFn) {
    crate::inject::check_unique(
        cx,
        tool.params.iter().filter_map(|p| match p {
            Param::Inject { ty, kind } => Some((ty, *kind)),
            Param::Arg { .. } => None,
        }),
    );
    // Header names mirrored so far, lowercase (they compare case-insensitively), with their argument.
    let mut headers: Vec<(String, &Ident)> = Vec::new();
    for param in &tool.params {
        if let Param::Arg { schema, ident, ty, .. } = param {
            if let Some(header) = &schema.header {
                check_header(cx, header, ident, ty, &mut headers);
            }
            let (min, max) = schema.length_bounds();
            for (lo, hi) in [(min, max), (schema.minimum.as_ref(), schema.maximum.as_ref())] {
                if let (Some(lo), Some(hi)) = (lo.and_then(literal), hi.and_then(literal))
                    && lo > hi
                {
                    cx.error_spanned_by(ident, "the lower bound is above the upper bound");
                }
            }
            if let Some(pattern) = &schema.pattern
                && let Err(e) = regex_syntax::Parser::new().parse(&pattern.value())
            {
                // The runtime validates with the same (linear-time) regex syntax: refuse what it would.
                let reason = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                cx.error_spanned_by(pattern, format_args!("invalid regular expression: {reason}"));
            }
            if schema.min_length.is_some() && schema.min_items.is_some()
                || schema.max_length.is_some() && schema.max_items.is_some()
            {
                cx.error_spanned_by(
                    ident,
                    "use either the `_length` or the `_items` bounds: they are the same keyword for a given type",
                );
            }
        }
    }
}

/// `#[schema(header = "...")]`: an HTTP token, on a primitive argument, unique in the tool regardless of
/// case (the rules of `x-mcp-header`, 2026-07-28 `server/tools`).
fn check_header<'a>(cx: &Ctxt, header: &LitStr, ident: &'a Ident, ty: &Type, seen: &mut Vec<(String, &'a Ident)>) {
    let name = header.value();
    if !mcp_grammar::is_header_token(&name) {
        cx.error_spanned_by(
            header,
            format_args!(
                "`header = {name:?}` is not an HTTP field name: use ASCII letters, digits and !#$%&'*+-.^_`|~ \
                 only (no space, colon or control character), at least one"
            ),
        );
    }
    if !header_type(ty) {
        cx.error_spanned_by(
            ty,
            "an argument mirrored into a header must be a `String`, an integer up to 64 bits or a `bool` (or an \
             `Option` of one): x-mcp-header allows no other type, a float neither",
        );
    }
    let lower = name.to_ascii_lowercase();
    match seen.iter().find(|(other, _)| *other == lower) {
        Some((_, first)) => cx.error_spanned_by(
            header,
            format_args!(
                "`header = {name:?}` is already the header of `{first}`: header names must be unique in a tool, \
                 regardless of case"
            ),
        ),
        None => seen.push((lower, ident)),
    }
}

/// Whether a type, as written, has the JSON Schema type `string`, `integer` or `boolean` (or is an
/// `Option` of one).
fn header_type(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else { return false };
    let only_arg = || match &last.arguments {
        PathArguments::AngleBracketed(args) => {
            let mut types = args.args.iter().filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            });
            types.next().filter(|_| types.next().is_none())
        }
        _ => None,
    };
    match last.ident.to_string().as_str() {
        "String" | "char" | "bool" | "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64"
        | "usize" => last.arguments.is_none(),
        "Option" => only_arg().is_some_and(header_type),
        "Cow" => only_arg().is_some_and(|t| matches!(t, Type::Path(p) if p.path.is_ident("str"))),
        _ => false,
    }
}

fn literal(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse().ok(),
        Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => f.base10_parse().ok(),
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr, .. }) => literal(expr).map(|v| -v),
        _ => None,
    }
}

fn check_rate(cx: &Ctxt, rate: &RateLit) -> Option<(u32, u64)> {
    // `rate = 30` is the grammar's bare number of calls per minute, as `rate = "30"` is.
    let parsed = match rate {
        RateLit::PerMinute(n) => n.base10_digits().parse::<mcp_grammar::Rate>(),
        RateLit::Text(text) => text.value().parse(),
    };
    match (parsed, rate) {
        (Ok(rate), _) => Some((rate.count, u64::try_from(rate.per.as_millis()).ok()?)),
        (Err(_), RateLit::PerMinute(n)) => {
            cx.error_spanned_by(n, "`rate` must allow at least one call");
            None
        }
        (Err(e), RateLit::Text(text)) => {
            cx.error_at(text.span(), format_args!("`rate = {:?}` {}: {}", e.text(), e.problem(), e.expected()));
            None
        }
    }
}

/// The `TaskSupport` variant `task = "..."` names; an error on the value when it names none.
fn check_task(cx: &Ctxt, task: &LitStr) -> Option<&'static str> {
    let value = task.value();
    let variant = TASK_VALUES.iter().find(|(wire, _)| *wire == value).map(|(_, variant)| *variant);
    if variant.is_none() {
        cx.error_spanned_by(
            task,
            format_args!("`task` must be \"forbidden\" (the default), \"optional\" or \"required\", not {value:?}"),
        );
    }
    variant
}

pub(crate) fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_every_unit_and_refuse_nonsense() {
        let parse = |text: &str| {
            let cx = Ctxt::new();
            let rate = check_rate(&cx, &RateLit::Text(syn::LitStr::new(text, proc_macro2::Span::call_site())));
            let failed = cx.check().is_err();
            (rate, failed)
        };
        assert_eq!(parse("30/min"), (Some((30, 60_000)), false));
        assert_eq!(parse("5/s"), (Some((5, 1_000)), false));
        assert_eq!(parse("1000/day"), (Some((1000, 86_400_000)), false));
        assert_eq!(parse("0/min"), (None, true));
        assert_eq!(parse("30/fortnight"), (None, true));
        assert_eq!(parse("-1"), (None, true));
        assert_eq!(parse("5"), (Some((5, 60_000)), false), "a bare number is per minute, as `rate = 5` is");
    }

    #[test]
    fn task_takes_the_three_wire_names_only() {
        let check = |text: &str| {
            let cx = Ctxt::new();
            let variant = check_task(&cx, &LitStr::new(text, proc_macro2::Span::call_site()));
            let message = cx.check().err().map(|e| e.to_string());
            (variant, message)
        };
        assert_eq!(check("forbidden"), (Some("Forbidden"), None));
        assert_eq!(check("optional"), (Some("Optional"), None));
        assert_eq!(check("required"), (Some("Required"), None));
        let (variant, message) = check("Required");
        assert_eq!(variant, None, "the wire names are lowercase, as listed");
        assert_eq!(
            message.as_deref(),
            Some(r#"`task` must be "forbidden" (the default), "optional" or "required", not "Required""#)
        );
    }

    #[test]
    fn header_types_are_the_primitives_x_mcp_header_allows() {
        let ok = |ty: &str| header_type(&syn::parse_str(ty).unwrap());
        for good in ["String", "std::string::String", "Option<String>", "bool", "i64", "u8", "Option<u32>", "char"] {
            assert!(ok(good), "{good}");
        }
        assert!(ok("std::borrow::Cow<'static, str>"));
        for bad in ["f64", "f32", "Vec<String>", "Option<f64>", "[u8; 4]", "(String, i64)", "i128", "Json<T>", "Region"]
        {
            assert!(!ok(bad), "{bad}");
        }
        assert!(!ok("Cow<'static, [u8]>") && !ok("Option<Vec<String>>"));
    }

    #[test]
    fn names_follow_the_mcp_charset() {
        assert!(valid_name("lookup_stock") && valid_name("a.b-c"));
        assert!(!valid_name("with space") && !valid_name(""));
    }
}
