//! The corridor's *validate* step: `tools/call` arguments are checked against the tool's input schema
//! before any quota is spent or any handler runs.
//!
//! Schemas are compiled once, when a tool is registered ([`compile`]), as JSON Schema 2020-12 with:
//! - no remote `$ref` resolution (no network or file access on behalf of a schema),
//! - the linear-time `regex` engine for `pattern` (no catastrophic backtracking on attacker input).
//!
//! A violation is answered as a tool error (`isError: true`, SEP-1303) naming every violated constraint,
//! so the model can correct its call; the handler never runs.

mod layer;
mod service;

use std::fmt::Write as _;

use jsonschema::Validator;
use serde_json::Value;

pub use layer::ValidateLayer;
pub use service::Validate;

/// Compiles one schema with this runtime's safety settings (what registering a tool does).
pub use crate::server::compile_schema as compile;

/// At most this many violations are reported per call (the rest are counted).
const MAX_REPORTED: usize = 10;
/// A reported violation is cut to this many characters (it may quote attacker input).
const MAX_MESSAGE_CHARS: usize = 300;

/// Checks `arguments`; `None` when they are valid, else one line per violation.
pub fn violations(validator: &Validator, arguments: &Value) -> Option<String> {
    if validator.is_valid(arguments) {
        return None; // the common case, without building the error iterator
    }
    let mut errors = validator.iter_errors(arguments).peekable();
    errors.peek()?;
    let mut report = String::new();
    let mut count = 0usize;
    for error in errors {
        count += 1;
        if count > MAX_REPORTED {
            continue;
        }
        let path = error.instance_path().to_string();
        let path = if path.is_empty() { "arguments".to_owned() } else { format!("`{}`", path.trim_start_matches('/')) };
        let mut message = error.to_string();
        if message.chars().count() > MAX_MESSAGE_CHARS {
            message = message.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
        }
        let _ = write!(report, "\n- {path}: {message}");
    }
    if count > MAX_REPORTED {
        let _ = write!(report, "\n- … and {} more", count - MAX_REPORTED);
    }
    Some(report)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reports_every_violation_by_path() {
        let v = compile(&json!({
            "type": "object",
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z0-9]{5,12}$"},
                "warehouse_id": {"type": ["string", "null"], "minLength": 3}
            },
            "required": ["sku"],
            "additionalProperties": false
        }))
        .unwrap();
        assert_eq!(violations(&v, &json!({"sku": "ABC123"})), None);
        let report = violations(&v, &json!({"sku": "abc", "warehouse_id": "x", "extra": 1})).unwrap();
        assert!(report.contains("`sku`") && report.contains("^[A-Z0-9]{5,12}$"), "{report}");
        assert!(report.contains("`warehouse_id`"), "{report}");
        assert!(report.contains("extra"), "{report}");
        assert!(violations(&v, &json!({})).unwrap().contains("sku"));
    }

    #[test]
    fn remote_refs_are_not_fetched() {
        let schema = json!({"$ref": "https://example.com/schema.json"});
        assert!(compile(&schema).is_err());
    }

    #[test]
    fn long_inputs_are_cut_in_reports() {
        let v = compile(&json!({"type": "object", "properties": {"s": {"type": "string", "maxLength": 1}}})).unwrap();
        let report = violations(&v, &json!({"s": "x".repeat(10_000)})).unwrap();
        assert!(report.len() < 1_000, "{} bytes", report.len());
    }
}
