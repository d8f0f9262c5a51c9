//! A tool's `x-mcp-header` annotations (SEP-2243): which arguments a 2026-07-28 client mirrors into
//! `Mcp-Param-{Name}` HTTP headers, read from the input schema once, when the tool registers. A tool
//! whose annotations break the specification's rules is refused then, because clients drop such a tool
//! from their listing without a word to the user.
//!
//! The rules and the walk are `mcp_grammar::param_headers`, the reader `cargo mcp call` uses too, so the
//! server refuses exactly the tools a client would leave out. The Streamable HTTP transport checks the
//! headers against the arguments (its `headers.rs`); stdio and the handshake era carry no such headers,
//! so nothing else reads these.

use serde_json::Value;

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

impl From<&mcp_grammar::ParamHeader> for ParamHeader {
    fn from(header: &mcp_grammar::ParamHeader) -> Self {
        Self { name: header.name().into(), field: header.field().into(), path: header.path().into() }
    }
}

/// The `x-mcp-header` annotations of an input schema, in the order `mcp_grammar::param_headers` finds them.
///
/// # Errors
/// What breaks the rules of the 2026-07-28 specification, as `mcp_grammar::param_headers` says it: a
/// value that is not an HTTP token, two names that differ only in case, an annotation on a property whose
/// `type` is not `string`, `integer` or `boolean` (alone or with `null`), on the root, or on a schema not
/// reachable from the root through `properties` alone.
pub(crate) fn read(schema: &Value) -> Result<Vec<ParamHeader>, String> {
    let found = mcp_grammar::param_headers(schema).map_err(|e| e.to_string())?;
    Ok(found.iter().map(ParamHeader::from).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_grammar_s_annotations_are_kept_for_the_transport() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "target": {"type": "object", "properties": {"tenant": {"type": ["string", "null"], "x-mcp-header": "Tenant-Id"}}}
        }});
        let found = read(&schema).unwrap();
        let expected = [
            ParamHeader { name: "Region".into(), field: "mcp-param-region".into(), path: ["region".into()].into() },
            ParamHeader {
                name: "Tenant-Id".into(),
                field: "mcp-param-tenant-id".into(),
                path: ["target".into(), "tenant".into()].into(),
            },
        ];
        assert_eq!(found, expected);
        assert_eq!(found[1].dotted(), "target.tenant");
    }

    #[test]
    fn a_broken_rule_is_the_registration_s_reason() {
        let e =
            read(&json!({"type": "object", "properties": {"v": {"type": "number", "x-mcp-header": "V"}}})).unwrap_err();
        assert!(e.contains("x-mcp-header \"V\" on `v`") && e.contains("\"type\" must be"), "{e}");
    }
}
