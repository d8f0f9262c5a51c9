//! Target 5: argument validation of arbitrary JSON against each example tool's input schema.
//!
//! Input: one byte choosing the tool (modulo their number), then the arguments as JSON. Invariants: no
//! panic; each check ends in bounded time (far under a second, checked against a generous bound); and
//! whatever validates satisfies the top of its schema, read independently here: an object when the schema
//! says so, every `required` property present, no property the schema closes off, each property of the
//! JSON type the schema names.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mcp_runtime::server::ToolSpec;
use mcp_runtime::validate::{compile, violations};
use serde_json::Value;

/// Far beyond what one check takes (microseconds); only a pathological blow-up reaches it.
const BOUND: Duration = Duration::from_secs(2);

type Check = Box<dyn Fn(&Value) -> Option<String> + Send + Sync>;

struct Tool {
    name: &'static str,
    schema: Value,
    check: Check,
}

fn tools() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let specs: [&ToolSpec; 4] = [
            inventory::lookup_stock::SPEC,
            inventory::adjust_stock::SPEC,
            inventory::list_warehouses::SPEC,
            support_routing::fetch_customer_profile::SPEC,
        ];
        specs
            .into_iter()
            .map(|spec| {
                let schema = (spec.input_schema)().to_value();
                let validator = compile(&schema).expect("an example's schema compiles");
                let check: Check = Box::new(move |arguments| violations(&validator, arguments));
                Tool { name: spec.name, schema, check }
            })
            .collect()
    })
}

/// Validates the arguments of `data` against the tool it names.
pub fn run(data: &[u8]) {
    let Some((&choice, json)) = data.split_first() else { return };
    let Ok(arguments) = serde_json::from_slice::<Value>(json) else { return };
    let tools = tools();
    let tool = &tools[usize::from(choice) % tools.len()];
    let started = Instant::now();
    let verdict = (tool.check)(&arguments);
    let took = started.elapsed();
    assert!(took < BOUND, "validating {} took {took:?}", tool.name);
    if verdict.is_none() {
        conforms(&tool.schema, &arguments, tool.name);
    }
}

/// Valid arguments satisfy the top level of the schema.
fn conforms(schema: &Value, arguments: &Value, tool: &str) {
    if let Some(kind) = schema.get("type") {
        assert!(is_of(kind, arguments), "{tool}: {arguments} is not {kind}");
    }
    let Some(object) = arguments.as_object() else { return };
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let name = required.as_str().expect("required names are strings");
        assert!(object.contains_key(name), "{tool}: {arguments} lacks required {name}");
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, value) in object {
        match properties.and_then(|p| p.get(name)) {
            Some(property) => {
                if let Some(kind) = property.get("type") {
                    assert!(is_of(kind, value), "{tool}: {name} = {value} is not {kind}");
                }
            }
            None => {
                let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
                assert!(!closed, "{tool}: {arguments} has {name}, which the schema does not allow");
            }
        }
    }
}

/// JSON Schema's `type`: one name or a list of them.
fn is_of(kind: &Value, value: &Value) -> bool {
    match kind {
        Value::String(name) => is_named(name, value),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(|n| is_named(n, value)),
        _ => true,
    }
}

fn is_named(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => true,
    }
}
