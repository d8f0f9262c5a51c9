//! HTTP field names (RFC 9110 §5.1), and the `x-mcp-header` annotations of a tool's input schema that
//! name them (SEP-2243, the 2026-07-28 Streamable HTTP transport, "Custom Headers from Tool Parameters").
//!
//! One reader for both sides: the runtime reads a tool's annotations when the tool registers (and
//! refuses the tool if they break a rule), `cargo mcp call` when it mirrors arguments into
//! `Mcp-Param-{Name}` headers (and leaves such a tool out).

use std::fmt;

use serde_json::{Map, Value};

/// Whether `text` is an HTTP field-name token (`1*tchar`, RFC 9110 §5.1): not empty, and only ASCII
/// letters, digits and ``!#$%&'*+-.^_`|~``; so no space, colon, control or non-ASCII character.
/// `#[schema(header = "...")]` is checked with it at compile time, a tool's `x-mcp-header` annotations
/// by [`param_headers`].
pub fn is_header_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The keyword.
const KEYWORD: &str = "x-mcp-header";

/// Keywords whose value maps names to schemas (`"$defs": {"Region": {...}}`): the names are not keywords.
const SCHEMA_MAPS: [&str; 5] = ["$defs", "definitions", "patternProperties", "dependentSchemas", "dependencies"];

/// Keywords whose value is an instance, not a schema: an `x-mcp-header` key in there is data.
const INSTANCES: [&str; 4] = ["enum", "const", "default", "examples"];

/// One `x-mcp-header` annotation: an argument of a tool that a 2026-07-28 client mirrors into the HTTP
/// header `Mcp-Param-{name}` of the tool's calls over Streamable HTTP, and where the argument sits.
///
/// Made by [`param_headers`] alone, so its name is always an HTTP token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    name: Box<str>,
    field: Box<str>,
    path: Box<[Box<str>]>,
}

impl ParamHeader {
    /// The name as annotated (`Region`): the header is `Mcp-Param-Region`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The header's field name in lowercase (`mcp-param-region`), to look it up or send it: header names
    /// compare case-insensitively.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The chain of property names from the schema's root to the argument (`["target", "region"]`); the
    /// header carries the value found at that path in the call's `arguments`, and is omitted when there is
    /// none or it is `null`.
    pub fn path(&self) -> &[Box<str>] {
        &self.path
    }

    /// The argument's place, dotted, for messages (`region`, `target.region`).
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// Why an input schema's `x-mcp-header` annotations break the specification's rules: the message names
/// the annotation, the property it is on and the rule (`x-mcp-header "My Region" on `region` is not an
/// HTTP field name: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeaderError {
    message: String,
}

impl ParamHeaderError {
    fn new(message: String) -> Self {
        Self { message }
    }
}

impl fmt::Display for ParamHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParamHeaderError {}

/// The `x-mcp-header` annotations of a tool's input schema, in the order its maps iterate (by key, unless
/// serde_json's `preserve_order` feature is on); none for a schema without any, or one that is not an
/// object.
///
/// ```
/// let schema = serde_json::json!({"type": "object", "properties": {
///     "region": {"type": "string", "x-mcp-header": "Region"},
///     "query": {"type": "string"}
/// }});
/// let headers = mcp_grammar::param_headers(&schema).unwrap();
/// assert_eq!(headers[0].field(), "mcp-param-region");
/// assert_eq!(headers[0].dotted(), "region");
/// ```
///
/// # Errors
/// The first annotation that breaks a rule of the 2026-07-28 specification (Streamable HTTP, "Schema
/// Extension"), whose tool a client must not use:
/// - a value that is not a string, or not an HTTP token ([`is_header_token`]: empty, a space, a colon,
///   a control or non-ASCII character);
/// - two annotations whose names differ only in case (header names are case-insensitive);
/// - an annotation on a property whose `"type"` is not `"string"`, `"integer"` or `"boolean"`, alone or
///   in a list with `"null"` (an optional argument: a `null` value sends no header); `"number"` is not
///   allowed;
/// - an annotation on the schema's root, or on a schema not reachable from the root through a chain of
///   `properties` alone (under `items`, `anyOf`, `if`, `$ref`, `$defs`...).
pub fn param_headers(schema: &Value) -> Result<Vec<ParamHeader>, ParamHeaderError> {
    let mut found = Vec::new();
    visit(schema, Some(&[]), &mut found)?;
    for (i, a) in found.iter().enumerate() {
        if let Some(b) = found[..i].iter().find(|b| b.field == a.field) {
            return Err(ParamHeaderError::new(format!(
                "{KEYWORD} names must be unique regardless of case: `{}` says {:?} and `{}` says {:?}",
                b.dotted(),
                b.name,
                a.dotted(),
                a.name
            )));
        }
    }
    Ok(found)
}

/// Walks one schema; `path` is `Some` while the schema is statically reachable (a chain of `properties`).
fn visit(schema: &Value, path: Option<&[Box<str>]>, found: &mut Vec<ParamHeader>) -> Result<(), ParamHeaderError> {
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
) -> Result<(), ParamHeaderError> {
    for (key, value) in map {
        match key.as_str() {
            KEYWORD => match path {
                Some([]) => {
                    return Err(ParamHeaderError::new(format!(
                        "{KEYWORD} belongs on a property, not on the schema's root"
                    )));
                }
                Some(path) => found.push(annotation(map, value, path)?),
                None => {
                    return Err(ParamHeaderError::new(format!(
                        "{KEYWORD} {value} is on a schema reachable only through a keyword other than \
                         `properties` (items, anyOf, $ref, $defs...): clients cannot find its value"
                    )));
                }
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
            map_keyword if SCHEMA_MAPS.contains(&map_keyword) => match value {
                Value::Object(schemas) => schemas.values().try_for_each(|schema| visit(schema, None, found))?,
                other => visit(other, None, found)?,
            },
            instance if INSTANCES.contains(&instance) => {}
            _ => visit(value, None, found)?,
        }
    }
    Ok(())
}

/// The annotation `value` on the property at `path`, whose schema is `property`.
fn annotation(
    property: &Map<String, Value>,
    value: &Value,
    path: &[Box<str>],
) -> Result<ParamHeader, ParamHeaderError> {
    let dotted = path.join(".");
    let Value::String(name) = value else {
        return Err(ParamHeaderError::new(format!("{KEYWORD} on `{dotted}` must be a string, not {value}")));
    };
    if !is_header_token(name) {
        return Err(ParamHeaderError::new(format!(
            "{KEYWORD} {name:?} on `{dotted}` is not an HTTP field name: use ASCII letters, digits and \
             !#$%&'*+-.^_`|~ only (no space, colon or control character), at least one"
        )));
    }
    if !primitive(property.get("type")) {
        return Err(ParamHeaderError::new(format!(
            "{KEYWORD} {name:?} on `{dotted}`: the property's \"type\" must be \"string\", \"integer\" or \
             \"boolean\" (with \"null\" at most), not {}; a number, object or array cannot be mirrored in a header",
            property.get("type").map_or_else(|| "absent".to_owned(), Value::to_string)
        )));
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

    #[test]
    fn tokens_are_tchar_only() {
        for good in ["Region", "Tenant-Id", "x.y_z", "A1!#$%&'*+-.^_`|~"] {
            assert!(is_header_token(good), "{good}");
        }
        for bad in ["", "My Region", "Region:Primary", "Région", "Region\t1", "a\r\nb", "(x)", "a/b", "\"q\""] {
            assert!(!is_header_token(bad), "{bad:?}");
        }
    }

    fn object(properties: Value) -> Value {
        let mut schema = json!({"type": "object"});
        schema["properties"] = properties;
        schema
    }

    fn refused(schema: &Value) -> String {
        match param_headers(schema) {
            Ok(found) => panic!("{schema} was accepted: {found:?}"),
            Err(e) => e.to_string(),
        }
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
            "count": {"type": "integer", "x-mcp-header": "Count", "default": {"x-mcp-header": "ignored"}},
            "dry": {"type": ["null", "boolean"], "x-mcp-header": "Dry-Run", "examples": [{"x-mcp-header": 1}]}
        }));
        let mut found = param_headers(&schema).unwrap();
        found.sort_by_key(ParamHeader::dotted);
        let seen: Vec<_> = found.iter().map(|h| (h.name(), h.field(), h.dotted())).collect();
        assert_eq!(
            seen,
            [
                ("Count", "mcp-param-count", "count".to_owned()),
                ("Dry-Run", "mcp-param-dry-run", "dry".to_owned()),
                ("Region", "mcp-param-region", "region".to_owned()),
                ("Tenant-Id", "mcp-param-tenant-id", "target.tenant".to_owned()),
                ("Flag", "mcp-param-flag", "target.x-mcp-header".to_owned()),
            ]
        );
        let tenant: Vec<&str> = found[3].path().iter().map(|k| &**k).collect();
        assert_eq!(tenant, ["target", "tenant"]);
    }

    #[test]
    fn a_schema_without_annotations_has_none() {
        assert_eq!(param_headers(&object(json!({"q": {"type": "string"}}))).unwrap(), []);
        assert_eq!(param_headers(&Value::Null).unwrap(), []);
        assert_eq!(param_headers(&json!({"type": "object"})).unwrap(), []);
        // A definition that happens to be named like the keyword is not an annotation.
        let named = json!({"type": "object", "$defs": {"x-mcp-header": {"type": "string"}}});
        assert_eq!(param_headers(&named).unwrap(), []);
    }

    #[test]
    fn a_name_that_is_not_an_http_token_is_refused() {
        for name in ["", "My Region", "has space", "Region:Primary", "Région", "Region\t1", "a\r\nb"] {
            let e = refused(&object(json!({"v": {"type": "string", "x-mcp-header": name}})));
            assert!(e.contains("not an HTTP field name") && e.contains("`v`"), "{name:?}: {e}");
        }
        for value in [json!(7), json!(null), json!(["A"]), json!({"name": "A"})] {
            let e = refused(&object(json!({"v": {"type": "string", "x-mcp-header": value}})));
            assert!(e.contains("must be a string"), "{value}: {e}");
        }
    }

    #[test]
    fn only_string_integer_or_boolean_properties_may_be_mirrored() {
        for ty in ["string", "integer", "boolean"] {
            for written in [json!(ty), json!([ty, "null"]), json!(["null", ty])] {
                let schema = object(json!({"v": {"type": written, "x-mcp-header": "V"}}));
                assert_eq!(param_headers(&schema).unwrap().len(), 1, "{written}");
            }
        }
        let types = [
            json!("number"),
            json!("object"),
            json!("array"),
            json!("null"),
            json!(["string", "integer"]),
            json!(["number", "null"]),
            json!([]),
            json!(7),
        ];
        for ty in types {
            let e = refused(&object(json!({"v": {"type": ty, "x-mcp-header": "V"}})));
            assert!(e.contains("\"type\" must be") && e.contains(&ty.to_string()), "{ty}: {e}");
        }
        let e = refused(&object(json!({"v": {"$ref": "#/$defs/R", "x-mcp-header": "V"}})));
        assert!(e.contains("not absent"), "{e}");
    }

    #[test]
    fn names_are_unique_regardless_of_case() {
        let e = refused(&object(json!({"a": {"type": "string", "x-mcp-header": "Region"},
                                        "b": {"type": "string", "x-mcp-header": "REGION"}})));
        assert!(e.contains("unique regardless of case") && e.contains("`a`") && e.contains("`b`"), "{e}");
        let e = refused(&object(json!({"a": {"type": "string", "x-mcp-header": "A"},
                                        "n": {"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "a"}}}})));
        assert!(e.contains("`n.a`"), "{e}");
    }

    #[test]
    fn annotations_off_the_properties_chain_are_refused() {
        let unreachable = [
            object(json!({"list": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}})),
            object(json!({"a": {"anyOf": [{"type": "string", "x-mcp-header": "A"}]}})),
            object(json!({"a": {"if": {"type": "string", "x-mcp-header": "A"}}})),
            json!({"type": "object", "$defs": {"R": {"type": "string", "x-mcp-header": "R"}}}),
            // A definition named like an instance keyword is still a schema.
            json!({"type": "object", "$defs": {"default": {"type": "string", "x-mcp-header": "D"}}}),
            json!({"type": "object", "patternProperties": {"^r": {"type": "string", "x-mcp-header": "R"}}}),
            json!({"type": "object", "additionalProperties": {"type": "string", "x-mcp-header": "R"}}),
            // Whatever its value: an annotation where it cannot be one breaks the tool.
            object(json!({"list": {"type": "array", "items": {"type": "string", "x-mcp-header": 5}}})),
            // `properties` under another keyword does not make the chain again.
            object(json!({"a": {"items": {"properties": {"b": {"type": "string", "x-mcp-header": "B"}}}}})),
        ];
        for schema in unreachable {
            let e = refused(&schema);
            assert!(e.contains("only through a keyword other than `properties`"), "{schema}: {e}");
        }
    }

    #[test]
    fn the_root_carries_no_annotation() {
        for value in [json!("Root"), json!(1)] {
            let e = refused(&json!({"type": "object", "x-mcp-header": value}));
            assert!(e.contains("not on the schema's root"), "{e}");
        }
    }
}
