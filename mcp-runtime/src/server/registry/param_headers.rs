//! A tool's `x-mcp-header` annotations (SEP-2243): which arguments a 2026-07-28 client mirrors into
//! `Mcp-Param-{Name}` HTTP headers, read from the input schema once, when the tool registers. A tool
//! whose annotations break the specification's rules is refused then, because clients drop such a tool
//! from their listing without a word to the user.
//!
//! The Streamable HTTP transport checks the headers against the arguments (its `headers.rs`); stdio and
//! the handshake era carry no such headers, so nothing else reads these.

use serde_json::{Map, Value};

/// One annotated argument: the header that mirrors it and where it sits in the arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamHeader {
    /// The name as annotated (`Region`): the header is `Mcp-Param-Region`.
    pub(crate) name: Box<str>,
    /// The header's field name in lowercase (`mcp-param-region`): header names compare case-insensitively.
    pub(crate) field: Box<str>,
    /// The chain of property names from the root to the argument (`["region"]`).
    pub(crate) path: Box<[Box<str>]>,
}

impl ParamHeader {
    /// The argument's place, dotted, for messages (`region`, `target.region`).
    pub(crate) fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// The keyword.
const KEYWORD: &str = "x-mcp-header";

/// The `x-mcp-header` annotations of an input schema, in schema order.
///
/// # Errors
/// What breaks the rules of the 2026-07-28 specification (`server/tools`, `x-mcp-header`): a value that is
/// not an HTTP token (empty, a space, a colon, a control or non-ASCII character), two annotations whose
/// names differ only in case, an annotation on a property whose `type` is not `string`, `integer` or
/// `boolean` (alone or with `null`), or one not reachable from the root through `properties` alone
/// (under `items`, `anyOf`, `$ref`, `$defs`...).
pub(crate) fn read(schema: &Value) -> Result<Vec<ParamHeader>, String> {
    let mut found = Vec::new();
    visit(schema, Some(&[]), &mut found)?;
    for (i, a) in found.iter().enumerate() {
        if let Some(b) = found[..i].iter().find(|b| b.field == a.field) {
            return Err(format!(
                "{KEYWORD} names must be unique regardless of case: `{}` and `{}` both say {:?}",
                b.dotted(),
                a.dotted(),
                a.name
            ));
        }
    }
    Ok(found)
}

/// Walks one schema; `path` is `Some` while the schema is statically reachable (a chain of `properties`).
fn visit(schema: &Value, path: Option<&[Box<str>]>, found: &mut Vec<ParamHeader>) -> Result<(), String> {
    match schema {
        Value::Object(map) => visit_object(map, path, found),
        Value::Array(items) => items.iter().try_for_each(|item| visit(item, None, found)),
        _ => Ok(()),
    }
}

fn visit_object(
    map: &Map<String, Value>,
    path: Option<&[Box<str>]>,
    found: &mut Vec<ParamHeader>,
) -> Result<(), String> {
    for (key, value) in map {
        match key.as_str() {
            KEYWORD => match (path, value) {
                (Some([]), _) => return Err(format!("{KEYWORD} belongs on a property, not on the schema's root")),
                (Some(path), _) => found.push(annotation(map, value, path)?),
                (None, Value::String(name)) => {
                    return Err(format!(
                        "{KEYWORD} {name:?} is on a schema reachable only through a keyword other than \
                         `properties` (items, anyOf, $ref, $defs...): clients cannot find its value"
                    ));
                }
                // Not an annotation (a definition so named, say): a schema like any other.
                (None, other) => visit(other, None, found)?,
            },
            "properties" => match value {
                Value::Object(properties) => {
                    for (name, property) in properties {
                        let chain = path.map(|p| p.iter().cloned().chain([name.as_str().into()]).collect::<Vec<_>>());
                        visit(property, chain.as_deref(), found)?;
                    }
                }
                other => visit(other, None, found)?,
            },
            // Instances, not schemas.
            "enum" | "const" | "default" | "examples" => {}
            _ => visit(value, None, found)?,
        }
    }
    Ok(())
}

/// The annotation `value` on the property at `path`, whose schema is `property`.
fn annotation(property: &Map<String, Value>, value: &Value, path: &[Box<str>]) -> Result<ParamHeader, String> {
    let dotted = path.join(".");
    let Value::String(name) = value else {
        return Err(format!("{KEYWORD} on `{dotted}` must be a string, not {value}"));
    };
    if !mcp_grammar::is_header_token(name) {
        return Err(format!(
            "{KEYWORD} {name:?} on `{dotted}` is not an HTTP field name: use ASCII letters, digits and \
             !#$%&'*+-.^_`|~ only (no space, colon or control character), at least one"
        ));
    }
    if !primitive(property.get("type")) {
        return Err(format!(
            "{KEYWORD} {name:?} on `{dotted}`: the property's \"type\" must be \"string\", \"integer\" or \
             \"boolean\" (with \"null\" at most), not {}; a number, object or array cannot be mirrored in a header",
            property.get("type").map_or_else(|| "absent".to_owned(), Value::to_string)
        ));
    }
    Ok(ParamHeader {
        field: format!("mcp-param-{}", name.to_ascii_lowercase()).into(),
        name: name.as_str().into(),
        path: path.into(),
    })
}

/// `"string"`, `"integer"` or `"boolean"`, alone or in a list with `"null"` (an optional argument).
fn primitive(ty: Option<&Value>) -> bool {
    let allowed = |t: &Value| matches!(t.as_str(), Some("string" | "integer" | "boolean"));
    match ty {
        Some(Value::Array(types)) => {
            types.iter().filter(|t| allowed(t)).count() == 1
                && types.iter().all(|t| allowed(t) || t.as_str() == Some("null"))
        }
        Some(t) => allowed(t),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(properties: Value) -> Value {
        let mut schema = json!({"type": "object"});
        schema["properties"] = properties;
        schema
    }

    #[test]
    fn annotations_are_read_at_any_static_depth() {
        let schema = object(json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "query": {"type": "string"},
            "target": {"type": "object", "properties": {
                "tenant": {"type": ["string", "null"], "x-mcp-header": "Tenant-Id"},
                "x-mcp-header": {"type": "boolean", "x-mcp-header": "Flag"}
            }},
            "count": {"type": "integer", "x-mcp-header": "Count", "default": {"x-mcp-header": "ignored"}}
        }));
        let found = read(&schema).unwrap();
        let seen: Vec<_> = found.iter().map(|h| (&*h.name, &*h.field, h.dotted())).collect();
        assert_eq!(
            seen,
            [
                ("Count", "mcp-param-count", "count".to_owned()),
                ("Region", "mcp-param-region", "region".to_owned()),
                ("Tenant-Id", "mcp-param-tenant-id", "target.tenant".to_owned()),
                ("Flag", "mcp-param-flag", "target.x-mcp-header".to_owned()),
            ]
        );
        assert!(read(&object(json!({"q": {"type": "string"}}))).unwrap().is_empty());
    }

    #[test]
    fn every_broken_rule_is_refused_with_its_reason() {
        let refused = |properties: Value| read(&object(properties)).unwrap_err();
        for name in ["", "My Region", "Region:Primary", "Région", "Region\t1"] {
            let e = refused(json!({"v": {"type": "string", "x-mcp-header": name}}));
            assert!(e.contains("not an HTTP field name"), "{name:?}: {e}");
        }
        for ty in [json!("number"), json!("object"), json!("array"), json!("null"), json!(["string", "integer"])] {
            let e = refused(json!({"v": {"type": ty, "x-mcp-header": "V"}}));
            assert!(e.contains("\"type\" must be"), "{ty}: {e}");
        }
        let e = refused(json!({"v": {"$ref": "#/$defs/R", "x-mcp-header": "V"}}));
        assert!(e.contains("not absent"), "{e}");
        let e = refused(json!({"a": {"type": "string", "x-mcp-header": "Region"},
                                "b": {"type": "string", "x-mcp-header": "REGION"}}));
        assert!(e.contains("unique regardless of case"), "{e}");
        let e = refused(json!({"list": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}}));
        assert!(e.contains("only through a keyword other than `properties`"), "{e}");
        let e = read(&json!({"type": "object", "$defs": {"R": {"type": "string", "x-mcp-header": "R"}}})).unwrap_err();
        assert!(e.contains("only through"), "{e}");
        let e = refused(json!({"v": {"type": "string", "x-mcp-header": 7}}));
        assert!(e.contains("must be a string"), "{e}");
        let e = read(&json!({"type": "object", "x-mcp-header": "Root"})).unwrap_err();
        assert!(e.contains("root"), "{e}");
    }
}
