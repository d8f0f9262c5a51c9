//! Rules for `#[mcp_resource]`: the URI template and the parameters agree, name by name.

use super::ast::ResourceFn;
use crate::ctxt::Ctxt;
use crate::param::{self, Param};

/// Values resolved from the attribute's text.
#[derive(Default)]
pub(crate) struct Resolved {
    pub(crate) uri: String,
    pub(crate) ttl_ms: u64,
}

pub(crate) fn check(cx: &Ctxt, resource: &ResourceFn) -> Resolved {
    let sig = &resource.item.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "#[mcp_resource] needs an `async fn`");
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "a resource cannot be generic");
    }
    if resource.name.is_empty() {
        cx.error_at(resource.name_span, "a resource name cannot be empty");
    }
    crate::inject::check_unique(cx, param::injections(&resource.params));
    crate::ctxt::check_scopes(cx, &resource.attrs.scopes);
    let mut resolved = Resolved::default();
    if let Some(mime) = &resource.attrs.mime_type {
        let value = mime.value();
        if !value.split_once('/').is_some_and(|(t, s)| !t.trim().is_empty() && !s.trim().is_empty()) {
            cx.error_spanned_by(
                mime,
                format_args!("`{value}` is not a MIME type: write `type/subtype`, e.g. \"text/plain\""),
            );
        }
    }
    if let Some(ttl) = &resource.attrs.ttl {
        match crate::ctxt::duration_ms(ttl) {
            Some(ms) => resolved.ttl_ms = ms,
            None => cx.error_spanned_by(ttl, "`ttl` is a duration like \"30s\", \"10min\" or \"0s\""),
        }
    }
    let Some(uri) = &resource.attrs.uri else {
        cx.error_at(
            proc_macro2::Span::call_site(),
            "#[mcp_resource] needs a `uri`: `uri = \"docs://readme\"`, or a template such as `uri = \"items://{id}\"`",
        );
        return resolved;
    };
    resolved.uri = uri.value();
    let variables = match template_variables(&resolved.uri) {
        Ok(variables) => variables,
        Err(reason) => {
            cx.error_spanned_by(uri, reason);
            return resolved;
        }
    };
    for param in &resource.params {
        let Param::Named(named) = param else { continue };
        if variables.contains(&named.name) {
            continue;
        }
        let hint = if variables.is_empty() {
            format!("add `{{{}}}` to the uri to make it a template", named.name)
        } else {
            let listed: Vec<String> = variables.iter().map(|v| format!("`{v}`")).collect();
            format!("the variables are {}", listed.join(", "))
        };
        cx.error_at(
            named.span(),
            format_args!(
                "`{}` is not a variable of the URI template; {hint} (only `Context` and `State<T>` are injected)",
                named.name
            ),
        );
    }
    for variable in &variables {
        let taken = resource.params.iter().any(|p| matches!(p, Param::Named(n) if &n.name == variable));
        if !taken {
            cx.error_spanned_by(
                uri,
                format_args!("the URI template variable `{{{variable}}}` needs a parameter: add `{variable}: String`"),
            );
        }
    }
    resolved
}

/// The variables of a URI template, with the runtime's rules (`mcp_runtime::server::UriTemplate`):
/// `{name}` or `{+name}` of letters, digits and `_`, each once, with a literal between two variables.
pub(crate) fn template_variables(uri: &str) -> Result<Vec<String>, String> {
    if uri.is_empty() {
        return Err("a resource URI cannot be empty".to_owned());
    }
    let mut variables = Vec::new();
    let mut rest = uri;
    let mut after_variable = false;
    while let Some(i) = rest.find(['{', '}']) {
        if rest.as_bytes()[i] == b'}' {
            return Err("`}` without a matching `{`".to_owned());
        }
        if after_variable && i == 0 {
            return Err("two variables need a literal between them: `{a}{b}` cannot be split".to_owned());
        }
        let after = &rest[i + 1..];
        let end = after
            .find(['{', '}'])
            .filter(|&e| after.as_bytes()[e] == b'}')
            .ok_or_else(|| "`{` without a matching `}`".to_owned())?;
        let name = after[..end].strip_prefix('+').unwrap_or(&after[..end]);
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`{{{name}}}` is not a template variable: write `{{name}}` (or `{{+name}}`, whose value may hold \
                 `/`) with letters, digits and `_` (other operators and modifiers such as `{{id*}}` are not supported)"
            ));
        }
        if variables.iter().any(|v| v == name) {
            return Err(format!("the variable `{{{name}}}` appears twice"));
        }
        variables.push(name.to_owned());
        rest = &after[end + 1..];
        after_variable = true;
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_the_runtime_rules() {
        assert_eq!(template_variables("test://static-text"), Ok(vec![]));
        assert_eq!(template_variables("test://template/{id}/data"), Ok(vec!["id".to_owned()]));
        assert_eq!(template_variables("db://{table}/{row_id}"), Ok(vec!["table".to_owned(), "row_id".to_owned()]));
        assert_eq!(template_variables("files:///{+path}"), Ok(vec!["path".to_owned()]), "a reserved expansion");
        for bad in [
            "",
            "x://{+}",
            "x://{#frag}",
            "x://{id*}",
            "x://{a,b}",
            "x://{a}{b}",
            "x://{a}{+b}",
            "x://{a}/{a}",
            "x://{",
            "x://}",
            "x://{}",
        ] {
            assert!(template_variables(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
