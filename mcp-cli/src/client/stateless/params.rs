//! `x-mcp-header` (SEP-2243): a tool's input schema may ask for some arguments to be mirrored into
//! `Mcp-Param-{Name}` headers of its calls over Streamable HTTP, so that intermediaries can route on
//! them. The CLI checks the annotations as the specification says a client must (a definition that
//! breaks a rule is not used) and sends the headers, values encoded as `Mcp-Name`'s are.

use reqwest::header::{HeaderMap, HeaderName};
use serde_json::{Map, Value};

use super::wire::header_value;

/// The largest integer a header may carry (JavaScript's safe range, 2⁵³ − 1).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// One annotated argument: the header's name part and the chain of `properties` keys leading to it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Annotation {
    header: String,
    path: Vec<String>,
}

/// The `x-mcp-header` annotations of an input schema.
///
/// # Errors
/// Why the definition is unusable: a name that is empty or not an HTTP token, a name used twice (in any
/// case), an annotation on a property that is not a string, integer or boolean, or one that is not
/// reached from the root through `properties` alone.
pub(super) fn annotations(schema: &Value) -> Result<Vec<Annotation>, String> {
    let mut found = Vec::new();
    walk(schema, &mut Vec::new(), true, &mut found)?;
    let mut seen: Vec<String> = Vec::new();
    for annotation in &found {
        let lower = annotation.header.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(format!("x-mcp-header {:?} is used twice", annotation.header));
        }
        seen.push(lower);
    }
    Ok(found)
}

/// Collects the annotations under `schema`, reached through `path`; `reachable` while every step so far
/// was a `properties` key.
fn walk(schema: &Value, path: &mut Vec<String>, reachable: bool, found: &mut Vec<Annotation>) -> Result<(), String> {
    match schema {
        Value::Object(fields) => {
            if let Some(header) = fields.get("x-mcp-header") {
                let at = if path.is_empty() { "the schema's root".to_owned() } else { path.join(".") };
                let header = header.as_str().ok_or_else(|| format!("x-mcp-header at {at} is not a string"))?;
                if !reachable || path.is_empty() {
                    return Err(format!(
                        "x-mcp-header {header:?} at {at} is not on a property reached through `properties`"
                    ));
                }
                if header.is_empty() || !header.bytes().all(is_tchar) {
                    return Err(format!("x-mcp-header {header:?} is not an HTTP header name token"));
                }
                if !matches!(fields.get("type").and_then(Value::as_str), Some("string" | "integer" | "boolean")) {
                    return Err(format!(
                        "x-mcp-header {header:?} is on {at}, which is not a string, integer or boolean"
                    ));
                }
                found.push(Annotation { header: header.to_owned(), path: path.clone() });
            }
            for (key, value) in fields {
                if key == "properties"
                    && let Value::Object(properties) = value
                {
                    for (name, property) in properties {
                        path.push(name.clone());
                        walk(property, path, reachable, found)?;
                        path.pop();
                    }
                } else if !matches!(key.as_str(), "x-mcp-header" | "default" | "examples" | "enum" | "const") {
                    // Data keywords hold values, not schemas.
                    path.push(key.clone());
                    walk(value, path, false, found)?;
                    path.pop();
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                walk(item, path, false, found)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// RFC 9110's `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Mcp-Param-*` headers for `arguments`: one per annotated argument that has a value (absent and
/// `null` send none).
///
/// # Errors
/// An argument whose value is not of a kind a header can carry (an integer beyond 2⁵³ − 1, a fraction,
/// an object or a list).
pub(super) fn headers(annotations: &[Annotation], arguments: &Map<String, Value>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for annotation in annotations {
        let Some((first, rest)) = annotation.path.split_first() else { continue };
        let value = rest.iter().try_fold(arguments.get(first), |value, key| Some(value?.get(key)));
        let text = match value.flatten() {
            None | Some(Value::Null) => continue,
            Some(Value::String(text)) => text.clone(),
            Some(Value::Bool(flag)) => flag.to_string(),
            Some(Value::Number(n)) if n.as_i64().is_some_and(|i| i.abs() <= MAX_SAFE_INTEGER) => n.to_string(),
            Some(other) => {
                return Err(format!(
                    "argument `{}` ({other}) cannot go in the header Mcp-Param-{} its tool asks for",
                    annotation.path.join("."),
                    annotation.header
                ));
            }
        };
        let name = HeaderName::from_bytes(format!("mcp-param-{}", annotation.header).as_bytes())
            .map_err(|_| format!("x-mcp-header {:?} is not a header name", annotation.header))?;
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

    fn headers_of(found: &[Annotation], arguments: &Map<String, Value>) -> HeaderMap {
        headers(found, arguments).unwrap()
    }

    #[test]
    fn broken_annotations_make_the_definition_unusable() {
        let bad = [
            schema(&json!({"a": {"type": "string", "x-mcp-header": ""}})),
            schema(&json!({"a": {"type": "string", "x-mcp-header": "has space"}})),
            schema(&json!({"a": {"type": "number", "x-mcp-header": "A"}})),
            schema(
                &json!({"a": {"type": "string", "x-mcp-header": "A"}, "b": {"type": "string", "x-mcp-header": "a"}}),
            ),
            schema(&json!({"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}})),
            schema(&json!({"a": {"anyOf": [{"type": "string", "x-mcp-header": "A"}]}})),
            json!({"type": "object", "x-mcp-header": "Root"}),
        ];
        for schema in bad {
            assert!(annotations(&schema).is_err(), "{schema}");
        }
        assert_eq!(annotations(&schema(&json!({"a": {"type": "string"}}))).unwrap(), []);
        assert_eq!(annotations(&Value::Null).unwrap(), []);
    }
}
