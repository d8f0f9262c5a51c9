//! Static checks of a tool manifest: the JSON `--print-manifest` prints (`{"tools": [...], "x-mcp-runtime":
//! {...}}`), a file of it, or a live server's tool list.
//!
//! This file loads a manifest and checks each definition's shape: a description, annotations that agree
//! (MCP201, MCP205, MCP206, MCP210), an input schema that closes and bounds what passes (MCP202–MCP204).
//! What the texts say is read by the mcp-lint crate, through text.rs (MCP207–MCP209, MCP214–MCP218).

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

use self::text::escape;
#[cfg(test)]
pub(crate) use self::text::severity as severity_of;
use super::{Finding, Location};

mod text;

/// A tool manifest and where it came from.
#[derive(Debug)]
pub(crate) struct Manifest {
    /// The file, command or URL, as findings name it.
    pub(crate) source: String,
    value: Value,
}

impl Manifest {
    /// Reads a manifest file.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(path.display().to_string(), &text)
    }

    /// Runs `command --print-manifest` (stdin closed, stderr kept for the error) and reads what it prints.
    pub(crate) fn of_command(command: &[String]) -> Result<Self, String> {
        let (program, args) = command.split_first().ok_or("no command to run")?;
        let shown = format!("{} --print-manifest", command.join(" "));
        let out = Command::new(program)
            .args(args)
            .arg("--print-manifest")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!("`{shown}` failed ({}): {}", out.status, stderr.trim()));
        }
        Self::parse(shown, &String::from_utf8_lossy(&out.stdout))
    }

    /// A live server's tool definitions.
    pub(crate) fn from_tools(source: String, tools: Vec<Value>) -> Self {
        let mut value = Map::new();
        value.insert("tools".to_owned(), Value::Array(tools));
        Self { source, value: Value::Object(value) }
    }

    /// Parses manifest JSON read from `source`.
    pub(crate) fn parse(source: String, text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("{source}: not a JSON manifest: {e}"))?;
        Self::from_value(source, value)
    }

    /// A manifest already parsed: it needs a `tools` array.
    pub(crate) fn from_value(source: String, value: Value) -> Result<Self, String> {
        if !value.get("tools").is_some_and(Value::is_array) {
            return Err(format!("{source}: not a manifest: it has no \"tools\" array"));
        }
        Ok(Self { source, value })
    }

    /// The tool definitions.
    pub(crate) fn tools(&self) -> &[Value] {
        self.value["tools"].as_array().map_or(&[], Vec::as_slice)
    }

    /// `x-mcp-runtime.tools`: each tool's rate, burst and scopes, when the manifest has them.
    pub(crate) fn limits(&self) -> Option<&Map<String, Value>> {
        self.value.get("x-mcp-runtime")?.get("tools")?.as_object()
    }

    /// A location in this manifest.
    pub(crate) fn at(&self, pointer: String) -> Location {
        Location::Manifest { source: self.source.clone(), pointer }
    }
}

/// Every manifest finding (MCP201–MCP210, MCP214–MCP218): each tool's shape, then what every text says.
pub(crate) fn check(manifest: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, tool) in manifest.tools().iter().enumerate() {
        let at = format!("/tools/{i}");
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
        if tool.get("description").and_then(Value::as_str).is_none_or(|d| d.trim().is_empty()) {
            out.push(Finding::new("MCP201", format!("tool `{name}` has no description."), manifest.at(at.clone())));
        }
        annotations(manifest, tool, name, &at, &mut out);
        match tool.get("inputSchema") {
            Some(schema) => input_schema(manifest, schema, &format!("{at}/inputSchema"), name, &mut out),
            None => out.push(Finding::new(
                "MCP202",
                format!("tool `{name}` has no input schema: any arguments pass."),
                manifest.at(at.clone()),
            )),
        }
    }
    out.extend(text::texts(manifest));
    out
}

/// MCP205, MCP206 and MCP210.
fn annotations(manifest: &Manifest, tool: &Value, name: &str, at: &str, out: &mut Vec<Finding>) {
    let hint = |key: &str| tool.get("annotations").and_then(|a| a.get(key)).and_then(Value::as_bool);
    let read_only = hint("readOnlyHint");
    if read_only == Some(true) && hint("destructiveHint") == Some(true) {
        out.push(Finding::new(
            "MCP205",
            format!("tool `{name}` is annotated readOnlyHint and destructiveHint: clients may skip the confirmation a destructive call needs."),
            manifest.at(format!("{at}/annotations")),
        ));
    }
    if read_only == Some(true) && hint("idempotentHint") == Some(false) {
        out.push(Finding::new(
            "MCP206",
            format!("tool `{name}` is annotated readOnlyHint with idempotentHint false."),
            manifest.at(format!("{at}/annotations")),
        ));
    }
    if read_only != Some(true) && hint("destructiveHint").is_none() {
        out.push(Finding::new(
            "MCP210",
            format!(
                "tool `{name}` has neither readOnlyHint nor destructiveHint: clients must assume it is destructive."
            ),
            manifest.at(at.to_owned()),
        ));
    }
}

/// MCP202, MCP203 and MCP204 over a schema and every subschema.
fn input_schema(manifest: &Manifest, schema: &Value, at: &str, tool: &str, out: &mut Vec<Finding>) {
    let Some(object) = schema.as_object() else { return };
    let types: Vec<&str> = match object.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let properties = object.get("properties").and_then(Value::as_object);
    let is_object = types.contains(&"object") || (types.is_empty() && properties.is_some());
    if is_object {
        let closed = [object.get("additionalProperties"), object.get("unevaluatedProperties")]
            .contains(&Some(&Value::Bool(false)));
        if !closed {
            out.push(Finding::new(
                "MCP202",
                format!("an object in tool `{tool}`'s input schema accepts unknown properties."),
                manifest.at(at.to_owned()),
            ));
        }
        if properties.is_some_and(|p| !p.is_empty()) && !object.contains_key("required") {
            out.push(Finding::new(
                "MCP204",
                format!("an object in tool `{tool}`'s input schema has properties but no `required` list."),
                manifest.at(at.to_owned()),
            ));
        }
    }
    if types.contains(&"string") && !bounded_string(object) {
        out.push(Finding::new(
            "MCP203",
            format!("a string in tool `{tool}`'s input schema has no maximum length."),
            manifest.at(at.to_owned()),
        ));
    }
    let closed_tuple = object.contains_key("prefixItems") && object.get("items") == Some(&Value::Bool(false));
    if types.contains(&"array") && !object.contains_key("maxItems") && !closed_tuple {
        out.push(Finding::new(
            "MCP203",
            format!("an array in tool `{tool}`'s input schema has no maximum number of items."),
            manifest.at(at.to_owned()),
        ));
    }
    for key in ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"] {
        for (name, sub) in object.get(key).and_then(Value::as_object).into_iter().flatten() {
            input_schema(manifest, sub, &format!("{at}/{key}/{}", escape(name)), tool, out);
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems", "items"] {
        for (i, sub) in object.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            input_schema(manifest, sub, &format!("{at}/{key}/{i}"), tool, out);
        }
    }
    for key in [
        "items",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    ] {
        if let Some(sub) = object.get(key).filter(|s| s.is_object()) {
            input_schema(manifest, sub, &format!("{at}/{key}"), tool, out);
        }
    }
}

/// A string schema that caps the length: `maxLength`, `enum`, `const`, a bounded format, or a pattern
/// anchored at both ends without an unbounded repetition.
fn bounded_string(schema: &Map<String, Value>) -> bool {
    const BOUNDED_FORMATS: [&str; 7] = ["date", "time", "date-time", "uuid", "ipv4", "ipv6", "hostname"];
    ["maxLength", "enum", "const"].iter().any(|key| schema.contains_key(*key))
        || schema.get("format").and_then(Value::as_str).is_some_and(|f| BOUNDED_FORMATS.contains(&f))
        || schema.get("pattern").and_then(Value::as_str).is_some_and(bounded_pattern)
}

/// `^…$` with no `*`, `+` or `{n,}` outside character classes and escapes.
fn bounded_pattern(pattern: &str) -> bool {
    let Some(body) = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$')) else { return false };
    let trailing_escapes = body.chars().rev().take_while(|c| *c == '\\').count();
    if trailing_escapes % 2 == 1 {
        return false; // the `$` is escaped: a literal dollar, not an anchor
    }
    let mut chars = body.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '*' | '+' if !in_class => return false,
            '{' if !in_class => {
                let range: String = chars.by_ref().take_while(|c| *c != '}').collect();
                if range.trim_end().ends_with(',') {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    pub(super) fn scan(tools: &Value) -> Vec<Finding> {
        check(&Manifest::parse("m.json".to_owned(), &json!({ "tools": tools }).to_string()).unwrap())
    }

    pub(super) fn found(findings: &[Finding]) -> Vec<(&str, &str)> {
        findings
            .iter()
            .map(|f| match &f.location {
                Location::Manifest { pointer, .. } => (f.rule, pointer.as_str()),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    pub(super) fn tool(description: &str, schema: &Value) -> Value {
        json!({"name": "t", "description": description, "annotations": {"readOnlyHint": true}, "inputSchema": schema})
    }

    pub(super) fn closed() -> Value {
        json!({"type": "object", "properties": {}, "additionalProperties": false})
    }

    #[test]
    fn a_careful_tool_is_clean() {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z0-9]{5,12}$", "description": "The SKU."},
                "day": {"type": ["string", "null"], "format": "date"},
                "tags": {"type": "array", "maxItems": 5, "items": {"type": "string", "enum": ["a", "b"]}},
            },
            "required": ["sku"],
        });
        assert_eq!(scan(&json!([tool("Looks up the stock of a SKU, in one warehouse or all.", &schema)])), []);
    }

    #[test]
    fn schema_flaws_are_found_at_any_depth() {
        let schema = json!({
            "type": "object",
            "properties": {
                "note": {"type": "string", "minLength": 1},
                "code": {"type": "string", "pattern": "^[A-Z]+$"},
                "ids": {"type": "array", "items": {"type": "string", "maxLength": 9}},
                "address": {"$ref": "#/$defs/address"},
            },
            "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 80}}, "additionalProperties": false, "required": []}},
        });
        let findings = scan(&json!([tool("Stores a note.", &schema)]));
        assert_eq!(
            found(&findings),
            [
                ("MCP202", "/tools/0/inputSchema"),
                ("MCP204", "/tools/0/inputSchema"),
                ("MCP203", "/tools/0/inputSchema/properties/code"),
                ("MCP203", "/tools/0/inputSchema/properties/ids"),
                ("MCP203", "/tools/0/inputSchema/properties/note"),
            ]
        );
    }

    #[test]
    fn patterns_are_bounded_only_when_anchored_and_finite() {
        assert!(bounded_pattern("^[A-Z0-9]{5,12}$"));
        assert!(bounded_pattern("^CUST-[0-9]{8}$"));
        assert!(bounded_pattern("^[*+]{1,3}\\+$"));
        assert!(!bounded_pattern("^[a-z]+$"));
        assert!(!bounded_pattern("^a.*$"));
        assert!(!bounded_pattern("^a{2,}$"));
        assert!(!bounded_pattern("[a-z]{1,5}"));
        assert!(!bounded_pattern("^a\\$"));
    }

    #[test]
    fn missing_descriptions_and_contradicting_annotations_are_found() {
        let tools = json!([
            {"name": "a", "inputSchema": closed(), "annotations": {"readOnlyHint": true}},
            {"name": "b", "description": "Deletes.", "inputSchema": closed(), "annotations": {"readOnlyHint": true, "destructiveHint": true}},
            {"name": "c", "description": "Reads.", "inputSchema": closed(), "annotations": {"readOnlyHint": true, "idempotentHint": false}},
            {"name": "d", "description": "  ", "inputSchema": closed()},
            {"name": "e", "description": "Adds.", "inputSchema": closed(), "annotations": {"readOnlyHint": false, "destructiveHint": false}},
        ]);
        assert_eq!(
            found(&scan(&tools)),
            [
                ("MCP201", "/tools/0"),
                ("MCP205", "/tools/1/annotations"),
                ("MCP206", "/tools/2/annotations"),
                ("MCP201", "/tools/3"),
                ("MCP210", "/tools/3"),
            ]
        );
    }

    #[test]
    fn a_manifest_needs_a_tools_array() {
        assert!(Manifest::parse("x.json".to_owned(), "{\"tool\": []}").unwrap_err().contains("no \"tools\" array"));
        assert!(Manifest::parse("x.json".to_owned(), "nope").unwrap_err().starts_with("x.json: not a JSON manifest"));
    }
}
