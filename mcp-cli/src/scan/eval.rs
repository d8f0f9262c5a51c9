//! The scanner's manifest checks as a function of a JSON value, for measuring them.
//!
//! `mcp-cli/tests/scan_eval.rs` runs [`findings`] over a labelled corpus of poisoned and benign tool,
//! prompt, resource and instructions definitions (`mcp-cli/tests/corpus/*.jsonl`) and computes the
//! scanner's precision and recall per attack category; `cargo xtask scan-eval` prints them, with the time
//! to lint 1,000 definitions in a release build.
//!
//! The findings here are exactly those of `cargo mcp scan --manifest FILE` when FILE holds the same JSON
//! and no `--config` or `--baseline` is given: the value goes through the same parser and the same checks
//! (the rate limits and scopes of destructive tools, MCP106–MCP107, when the manifest has an
//! `x-mcp-runtime.tools` section; then every MCP2xx rule). Nothing here is a copy of a rule, so what the
//! eval measures is what CI runs.

use serde_json::Value;

use super::manifest::{self, Manifest};
use super::report::visible;
use super::{Finding, Location, config};

/// Every finding of the manifest checks for `manifest`, as `(rule id, severity)` with the severity in
/// lower case (`"low"`, `"medium"`, `"high"`, `"critical"`), in the order the checks find them.
///
/// `manifest` is what `--print-manifest` prints: `{"tools": [...]}`, optionally with `resources`,
/// `resourceTemplates`, `prompts`, `instructions` and `x-mcp-runtime`. A value without a `tools` array is
/// not a manifest (`cargo mcp scan` refuses it with exit code 2) and has no findings.
///
/// ```
/// use serde_json::json;
///
/// let manifest = json!({"tools": [{
///     "name": "lookup",
///     "description": "Looks up a SKU.",
///     "annotations": {"readOnlyHint": true},
///     "inputSchema": {"type": "object", "properties": {}, "additionalProperties": false},
/// }]});
/// assert_eq!(mcp_cli::scan::eval::findings(&manifest), Vec::<(String, String)>::new());
/// ```
pub fn findings(manifest: &Value) -> Vec<(String, String)> {
    scan(manifest).iter().map(|finding| (finding.rule.to_owned(), finding.severity.as_str().to_owned())).collect()
}

/// The same findings as [`findings`], one line each for a person reading an eval's misses and false
/// positives: `MCP207 critical /tools/0/description: <the finding's message>`, with invisible and control
/// characters written as `\u{…}`.
pub fn described(manifest: &Value) -> Vec<String> {
    scan(manifest)
        .iter()
        .map(|finding| {
            let pointer = match &finding.location {
                Location::Manifest { pointer, .. } => pointer.as_str(),
                Location::File { .. } | Location::Url { .. } => "",
            };
            visible(&format!("{} {} {pointer}: {}", finding.rule, finding.severity.as_str(), finding.message))
        })
        .collect()
}

/// What `cargo mcp scan --manifest` checks, in its order: MCP106–MCP107 when the manifest has limits, then
/// the MCP2xx rules. The value is parsed from its JSON text, as a manifest file is.
fn scan(manifest: &Value) -> Vec<Finding> {
    let Ok(manifest) = Manifest::parse("eval".to_owned(), &manifest.to_string()) else { return Vec::new() };
    let mut out = match manifest.limits() {
        Some(limits) => config::check_tools(None, &manifest, limits),
        None => Vec::new(),
    };
    out.extend(manifest::check(&manifest));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tool(name: &str, description: &str, annotations: &Value) -> Value {
        json!({
            "name": name,
            "description": description,
            "annotations": annotations,
            "inputSchema": {"type": "object", "properties": {}, "additionalProperties": false},
        })
    }

    #[test]
    fn the_limits_section_is_read_as_a_manifest_file_is() {
        let tools = json!([tool("wipe", "Deletes every draft.", &json!({"destructiveHint": true}))]);
        let without = json!({ "tools": tools, "x-mcp-runtime": {"tools": {}} });
        assert_eq!(
            findings(&without),
            [("MCP106".to_owned(), "medium".to_owned()), ("MCP107".to_owned(), "high".to_owned())]
        );
        let with =
            json!({ "tools": tools, "x-mcp-runtime": {"tools": {"wipe": {"rate": "5/min", "scopes": ["d:w"]}}} });
        assert_eq!(findings(&with), Vec::<(String, String)>::new());
        // A live tool list has no limits section: the two rules are not checked, as with `--url`.
        assert_eq!(findings(&json!({ "tools": tools })), Vec::<(String, String)>::new());
    }

    #[test]
    fn findings_and_their_descriptions_agree() {
        let manifest = json!({"tools": [tool("t", "Reads.\u{200B}", &json!({}))]});
        let found = findings(&manifest);
        let lines = described(&manifest);
        assert!(found.contains(&("MCP210".to_owned(), "low".to_owned())), "{found:?}");
        assert_eq!(found.len(), lines.len());
        for ((rule, severity), line) in found.iter().zip(&lines) {
            assert!(line.starts_with(&format!("{rule} {severity} /tools/0")), "{line}");
            assert!(!line.contains('\u{200B}'), "{line}");
        }
        assert_eq!(visible("a\u{200B}b\u{1B}[2J\u{E0041}"), "a\\u{200B}b\\u{1B}[2J\\u{E0041}");
    }

    #[test]
    fn a_value_that_is_not_a_manifest_has_no_findings() {
        assert_eq!(findings(&json!({"tool": []})), Vec::<(String, String)>::new());
        assert_eq!(findings(&json!("tools")), Vec::<(String, String)>::new());
    }
}
