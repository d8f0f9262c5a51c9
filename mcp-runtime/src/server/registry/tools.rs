//! The tools a server serves: schemas rendered and compiled once, when a tool is registered; listings
//! rendered once per revision each time the set changes.

use std::sync::Arc;
use std::time::Duration;

use jsonschema::{PatternOptions, Validator};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::param_headers::{self, ParamHeader};
use super::{Catalog, Dialect, RegistryError};
use crate::protocol::{ProtocolVersion, ToolAnnotations};
use crate::server::tool::{Schema, Tool};
use crate::tasks::TaskSupport;

/// One registered tool with its schemas rendered and its input schema compiled. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    /// The tool: what `#[mcp_tool]` generated, or what [`Tool::builder`] built.
    pub tool: Tool,
    /// The input schema as advertised (a JSON Schema 2020-12 object schema).
    pub input_schema: Arc<Value>,
    /// The output schema as advertised (always an object schema; see [`ToolEntry::wrap_output`]).
    pub output_schema: Option<Arc<Value>>,
    /// Whether structured results are wrapped as `{"result": value}` because the function's output
    /// schema is not an object (a list, say) and handshake-era clients accept only objects.
    pub wrap_output: bool,
    /// The input schema, compiled (what the validate step checks arguments with).
    pub(crate) validator: Arc<Validator>,
    /// The arguments mirrored into `Mcp-Param-*` headers (`x-mcp-header`), which Streamable HTTP checks.
    pub(crate) param_headers: Arc<[ParamHeader]>,
}

/// The tools of a server, sorted by name (so listings are deterministic).
#[derive(Debug)]
pub struct Registry {
    tools: Catalog<ToolEntry>,
}

impl Registry {
    /// Renders and checks the tools: `#[mcp_tool]` specs (`&ToolSpec`) or [`Tool`]s.
    ///
    /// # Errors
    /// Duplicate or invalid names, input schemas that are not object schemas or do not compile.
    pub fn new<T: Into<Tool>>(tools: impl IntoIterator<Item = T>) -> Result<Self, RegistryError> {
        let entries = tools.into_iter().map(|tool| ToolEntry::render(tool.into())).collect::<Result<Vec<_>, _>>()?;
        Self::of_entries(entries)
    }

    /// A registry of rendered entries, in any order.
    ///
    /// # Errors
    /// Two entries with one name.
    pub(crate) fn of_entries(mut entries: Vec<ToolEntry>) -> Result<Self, RegistryError> {
        entries.sort_by(|a, b| a.tool.name().cmp(b.tool.name()).then(a.tool.location().cmp(b.tool.location())));
        for pair in entries.windows(2) {
            let (a, b) = (&pair[0].tool, &pair[1].tool);
            if a.name() == b.name() {
                return Err(RegistryError::DuplicateTool {
                    name: Arc::clone(a.shared_name()),
                    first: a.location().into(),
                    second: b.location().into(),
                });
            }
        }
        Ok(Self { tools: Catalog::new(entries, |t| t.tool.name(), ToolEntry::definition) })
    }

    /// The tool with this name.
    pub fn get(&self, name: &str) -> Option<&ToolEntry> {
        self.tools.get(name)
    }

    /// Every tool, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ToolEntry> {
        self.tools.entries.iter()
    }

    /// How many tools there are.
    pub fn len(&self) -> usize {
        self.tools.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tools.entries.is_empty()
    }

    /// Every definition as `version` knows it, serialized, in listing order.
    pub(crate) fn definitions(&self, version: ProtocolVersion) -> &[Box<RawValue>] {
        self.tools.definitions(version)
    }
}

/// Whether `name` follows the MCP rules for tool names.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Compiles a JSON Schema with this runtime's safety settings: JSON Schema 2020-12, no remote `$ref`
/// resolution (no network or file access on behalf of a schema), the linear-time `regex` engine for
/// `pattern` (no catastrophic backtracking on attacker input), formats checked.
///
/// # Errors
/// The compiler's message when the schema is not valid JSON Schema 2020-12.
pub fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft202012::options()
        .with_pattern_options(PatternOptions::regex())
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())
}

impl ToolEntry {
    /// Renders a tool's schemas and compiles its input schema: the work of registering it, done once.
    ///
    /// # Errors
    /// An invalid name, an input schema that is not an object schema or does not compile, `x-mcp-header`
    /// annotations that break the specification's rules.
    pub fn render(tool: Tool) -> Result<Self, RegistryError> {
        if !valid_name(tool.name()) {
            return Err(RegistryError::InvalidName {
                name: Arc::clone(tool.shared_name()),
                location: tool.location().into(),
            });
        }
        let mut input = tool.input_schema().render().unwrap_or(Value::Null);
        // A schema given as JSON (`ToolBuilder::input_schema_json`) is listed exactly as written; only a
        // derived one is tidied.
        let derived = !matches!(tool.input_schema(), Schema::Json(_));
        if derived && let Value::Object(map) = &mut input {
            // schemars titles the root after the generated argument struct: noise for a model.
            map.remove("title");
            // A tool without arguments still lists (no) properties: some clients require the key.
            map.entry("properties").or_insert_with(|| json!({}));
        }
        if input.get("type") != Some(&json!("object")) {
            return Err(RegistryError::InputNotObject { name: Arc::clone(tool.shared_name()) });
        }
        let (output_schema, wrap_output) = match tool.output_schema().and_then(|s| s.render()) {
            None => (None, false),
            Some(schema) => {
                if schema.get("type") == Some(&json!("object")) {
                    (Some(Arc::new(schema)), false)
                } else {
                    (Some(Arc::new(wrap_schema(schema))), true)
                }
            }
        };
        let validator = compile(&input)
            .map_err(|reason| RegistryError::InvalidSchema { name: Arc::clone(tool.shared_name()), reason })?;
        let param_headers = param_headers::read(&input).map_err(|reason| RegistryError::InvalidTool {
            name: Arc::clone(tool.shared_name()),
            location: tool.location().into(),
            reason,
        })?;
        Ok(Self {
            input_schema: Arc::new(input),
            output_schema,
            wrap_output,
            validator: Arc::new(validator),
            param_headers: param_headers.into(),
            tool,
        })
    }

    /// How long one call may run: the tool's own timeout, else `default` (`tools.default_timeout`).
    pub fn timeout(&self, default: Duration) -> Duration {
        self.tool.timeout().unwrap_or(default)
    }

    fn definition(&self, dialect: Dialect) -> Box<RawValue> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Definition<'a> {
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            title: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            description: Option<&'a str>,
            input_schema: &'a Value,
            #[serde(skip_serializing_if = "Option::is_none")]
            output_schema: Option<&'a Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            annotations: Option<&'a ToolAnnotations>,
            #[serde(skip_serializing_if = "Option::is_none")]
            execution: Option<Execution>,
        }
        /// `execution`: how the tool may be called.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Execution {
            task_support: &'static str,
        }
        let tool = &self.tool;
        let annotations = (dialect != Dialect::Base && !tool.annotations().is_empty()).then_some(tool.annotations());
        // A tool never called as a task lists no `execution`: the protocol's default, and the definitions
        // every revision before tasks lists.
        let task = tool.task_support();
        let execution = (dialect >= Dialect::Tasked && task != TaskSupport::Forbidden)
            .then(|| Execution { task_support: task.as_str() });
        let def = Definition {
            name: tool.name(),
            title: super::title(tool.title(), dialect),
            description: tool.description(),
            input_schema: &self.input_schema,
            output_schema: self.output_schema.as_deref().filter(|_| dialect >= Dialect::Structured),
            annotations,
            execution,
        };
        super::raw(&def)
    }
}

/// Wraps a non-object output schema as `{"result": schema}`, keeping `$defs` at the root where the
/// schema's `$ref`s point.
fn wrap_schema(schema: Value) -> Value {
    let Value::Object(mut inner) = schema else {
        // `true`/`false` schemas: any value / no value.
        return json!({"type": "object", "properties": {"result": schema}, "required": ["result"]});
    };
    let mut root = Map::new();
    if let Some(dialect) = inner.remove("$schema") {
        root.insert("$schema".into(), dialect);
    }
    let defs = inner.remove("$defs");
    inner.remove("title");
    root.insert("type".into(), json!("object"));
    root.insert("properties".into(), json!({ "result": inner }));
    root.insert("required".into(), json!(["result"]));
    if let Some(defs) = defs {
        root.insert("$defs".into(), defs);
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_mcp_charset() {
        assert!(valid_name("lookup_stock"));
        assert!(valid_name("a.b-c_D9"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"x".repeat(129)));
    }

    #[test]
    fn wrapped_output_keeps_defs_at_the_root() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Array_of_Warehouse",
            "type": "array",
            "items": {"$ref": "#/$defs/Warehouse"},
            "$defs": {"Warehouse": {"type": "object"}}
        });
        let wrapped = wrap_schema(schema);
        assert_eq!(wrapped["type"], "object");
        assert_eq!(wrapped["properties"]["result"]["items"]["$ref"], "#/$defs/Warehouse");
        assert_eq!(wrapped["$defs"]["Warehouse"]["type"], "object");
        assert_eq!(wrapped["required"], json!(["result"]));
    }

    /// A built tool with this task setting.
    fn tool_with(task: TaskSupport) -> Tool {
        Tool::builder("report")
            .description("Builds the report.")
            .task(task)
            .handler(|_arguments, _ctx| async move { "done".to_owned() })
            .build()
            .expect("a valid tool")
    }

    /// The tool's definition as `version` lists it.
    fn listed(tool: Tool, version: ProtocolVersion) -> Value {
        let registry = Registry::new([tool]).expect("one valid tool");
        let definitions = registry.definitions(version);
        assert_eq!(definitions.len(), 1);
        serde_json::from_str(definitions[0].get()).expect("a definition is JSON")
    }

    #[test]
    fn the_builder_sets_task_support_and_defaults_to_forbidden() {
        assert_eq!(tool_with(TaskSupport::Required).task_support(), TaskSupport::Required);
        assert_eq!(tool_with(TaskSupport::Optional).task_support(), TaskSupport::Optional);
        let plain = Tool::builder("plain").handler(|_arguments, _ctx| async move {}).build().expect("a valid tool");
        assert_eq!(plain.task_support(), TaskSupport::Forbidden);
    }

    #[test]
    fn task_support_is_listed_from_2025_11_25_on() {
        for (task, wire) in [(TaskSupport::Optional, "optional"), (TaskSupport::Required, "required")] {
            for version in [ProtocolVersion::V2025_11_25, ProtocolVersion::V2026_07_28] {
                let definition = listed(tool_with(task), version);
                assert_eq!(definition["execution"], json!({"taskSupport": wire}), "{task:?} under {version:?}");
            }
            for version in [ProtocolVersion::V2024_11_05, ProtocolVersion::V2025_03_26, ProtocolVersion::V2025_06_18] {
                let definition = listed(tool_with(task), version);
                assert!(definition.get("execution").is_none(), "{task:?} under {version:?}: {definition}");
            }
        }
    }

    #[test]
    fn a_forbidden_tool_lists_no_execution_and_the_same_definition_as_2025_06_18() {
        let tasked = listed(tool_with(TaskSupport::Forbidden), ProtocolVersion::V2025_11_25);
        assert!(tasked.get("execution").is_none(), "{tasked}");
        assert_eq!(listed(tool_with(TaskSupport::Forbidden), ProtocolVersion::V2026_07_28), tasked);
        assert_eq!(listed(tool_with(TaskSupport::Forbidden), ProtocolVersion::V2025_06_18), tasked);
    }
}
