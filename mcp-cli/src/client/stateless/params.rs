//! `x-mcp-header` (SEP-2243): a tool's input schema may ask for some arguments to be mirrored into
//! `Mcp-Param-{Name}` headers of its calls over Streamable HTTP, so that intermediaries can route on
//! them. The CLI checks the annotations as the specification says a client must (a definition that
//! breaks a rule is not used) and sends the headers, values encoded as `Mcp-Name`'s are.

use mcp_grammar::ParamHeader;
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::{Map, Value};

use super::wire::header_value;

/// The largest integer a header may carry (JavaScript's safe range, 2⁵³ − 1).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The `x-mcp-header` annotations of an input schema, read by `mcp_grammar::param_headers`: the reader
/// the runtime refuses a tool with, so the CLI leaves out exactly the tools a server built on
/// mcp-runtime would not register.
///
/// # Errors
/// Why the definition is unusable: a name that is not an HTTP token, a name used twice (in any case), an
/// annotation on a property that is not a string, integer or boolean (alone or with `null`), on the
/// root, or one that is not reached from the root through `properties` alone.
pub(super) fn annotations(schema: &Value) -> Result<Vec<ParamHeader>, String> {
    mcp_grammar::param_headers(schema).map_err(|e| e.to_string())
}

/// The `Mcp-Param-*` headers for `arguments`: one per annotated argument that has a value (absent and
/// `null` send none).
///
/// # Errors
/// An argument whose value is not of a kind a header can carry (an integer beyond 2⁵³ − 1, a fraction,
/// an object or a list).
pub(super) fn headers(annotations: &[ParamHeader], arguments: &Map<String, Value>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for annotation in annotations {
        let Some((first, rest)) = annotation.path().split_first() else { continue };
        let value = rest.iter().try_fold(arguments.get(&**first), |value, key| Some(value?.get(&**key)));
        let text = match value.flatten() {
            None | Some(Value::Null) => continue,
            Some(Value::String(text)) => text.clone(),
            Some(Value::Bool(flag)) => flag.to_string(),
            Some(Value::Number(n)) if n.as_i64().is_some_and(|i| i.abs() <= MAX_SAFE_INTEGER) => n.to_string(),
            Some(other) => {
                return Err(format!(
                    "argument `{}` ({other}) cannot go in the header Mcp-Param-{} its tool asks for",
                    annotation.dotted(),
                    annotation.name()
                ));
            }
        };
        let name = HeaderName::from_bytes(annotation.field().as_bytes())
            .map_err(|_| format!("x-mcp-header {:?} is not a header name", annotation.name()))?;
        headers.insert(name, header_value(&text));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(properties: &Value) -> Value {
        json!({"type": "object", "properties": properties})
    }

    #[test]
    fn annotated_arguments_become_headers() {
        let schema = schema(&json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "limit": {"type": "integer", "x-mcp-header": "Limit"},
            "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"},
            "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
            "query": {"type": "string"},
        }));
        let found = annotations(&schema).unwrap();
        assert_eq!(found.len(), 4);
        let Value::Object(arguments) = json!({"region": "Hello, 世界", "limit": 42, "dry": false,
                                              "target": {"zone": "a"}, "query": "x"})
        else {
            panic!()
        };
        let headers = headers(&found, &arguments).unwrap();
        assert_eq!(headers["mcp-param-region"], "=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(headers["mcp-param-limit"], "42");
        assert_eq!(headers["mcp-param-dry-run"], "false");
        assert_eq!(headers["mcp-param-zone"], "a");
        assert_eq!(headers.len(), 4);
        let Value::Object(sparse) = json!({"region": null}) else { panic!() };
        assert!(headers_of(&found, &sparse).is_empty(), "absent and null send nothing");
        let Value::Object(huge) = json!({"limit": 9_007_199_254_740_993_i64}) else { panic!() };
        assert!(self::headers(&found, &huge).is_err());
    }

    fn headers_of(found: &[ParamHeader], arguments: &Map<String, Value>) -> HeaderMap {
        headers(found, arguments).unwrap()
    }

    #[test]
    fn an_optional_argument_is_mirrored_when_it_has_a_value() {
        // `Option<String>` in a server's Rust: the type is a list with "null", which the runtime accepts,
        // so the CLI must not leave the tool out.
        let found =
            annotations(&schema(&json!({"tenant": {"type": ["string", "null"], "x-mcp-header": "Tenant"}}))).unwrap();
        let Value::Object(set) = json!({"tenant": "acme"}) else { panic!() };
        assert_eq!(headers_of(&found, &set)["mcp-param-tenant"], "acme");
        let Value::Object(unset) = json!({"tenant": null}) else { panic!() };
        assert!(headers_of(&found, &unset).is_empty());
    }

    #[test]
    fn broken_annotations_make_the_definition_unusable() {
        // The rules themselves are mcp-grammar's (`header.rs`, tested there); the reason reaches the warning.
        let e = annotations(&schema(&json!({"a": {"type": "number", "x-mcp-header": "A"}}))).unwrap_err();
        assert!(e.contains("x-mcp-header \"A\" on `a`") && e.contains("\"type\" must be"), "{e}");
        assert_eq!(annotations(&schema(&json!({"a": {"type": "string"}}))).unwrap(), []);
    }
}
