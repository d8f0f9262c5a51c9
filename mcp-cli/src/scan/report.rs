//! The report: text, JSON, SARIF 2.1.0.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::{Finding, Location, RULES, Severity};

/// The SARIF 2.1.0 schema (OASIS, errata 01).
const SARIF_SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// One paragraph per finding, then a count by severity. Characters that would hide or move text on a
/// terminal (control, bidi, zero-width) are shown as `\u{…}`.
pub(crate) fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        out.push_str(&format!(
            "{} {} at {}\n  {}\n  fix: {}\n\n",
            finding.severity.as_str(),
            finding.rule,
            visible(&place(&finding.location)),
            visible(&finding.message),
            finding.fix
        ));
    }
    if findings.is_empty() {
        out.push_str("no findings\n");
    } else {
        let mut counts: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
        for finding in findings {
            *counts.entry(std::cmp::Reverse(finding.severity)).or_default() += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {}", s.0.as_str())).collect();
        let plural = if findings.len() == 1 { "" } else { "s" };
        out.push_str(&format!("{} finding{plural}: {}\n", findings.len(), counts.join(", ")));
    }
    out
}

/// The findings as a JSON array.
pub(crate) fn json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).expect("findings are JSON") + "\n"
}

/// A SARIF 2.1.0 log of one run: every rule of the catalog (and any other rule a finding names, such as
/// the live probes'), each finding a result.
pub(crate) fn sarif(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(&sarif_log(findings)).expect("SARIF is JSON") + "\n"
}

fn sarif_log(findings: &[Finding]) -> Value {
    let mut rules: Vec<Value> =
        RULES.iter().map(|rule| sarif_rule(rule.id, Some(rule.name), rule.summary, rule.fix, rule.severity)).collect();
    let mut index: BTreeMap<&str, usize> = RULES.iter().enumerate().map(|(i, rule)| (rule.id, i)).collect();
    for finding in findings {
        if !index.contains_key(finding.rule) {
            index.insert(finding.rule, rules.len());
            rules.push(sarif_rule(finding.rule, None, &sentence(&finding.message), &finding.fix, finding.severity));
        }
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            json!({
                "ruleId": finding.rule,
                "ruleIndex": index[finding.rule],
                "level": level(finding.severity),
                "message": { "text": sentence(&finding.message) },
                "locations": [sarif_location(&finding.location)],
                "properties": {
                    "severity": finding.severity.as_str(),
                    "security-severity": security_severity(finding.severity),
                    "fix": finding.fix,
                },
            })
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-mcp",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn sarif_rule(id: &str, name: Option<&str>, summary: &str, fix: &str, severity: Severity) -> Value {
    let mut rule = json!({
        "id": id,
        "shortDescription": { "text": summary },
        "fullDescription": { "text": summary },
        "help": { "text": fix },
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "tags": ["security"],
            "security-severity": security_severity(severity),
        },
    });
    if let Some(name) = name {
        rule["name"] = Value::from(name);
    }
    rule
}

fn sarif_location(location: &Location) -> Value {
    match location {
        Location::File { path, line } => {
            let mut physical = json!({ "artifactLocation": { "uri": path_uri(path) } });
            if let Some(line) = line {
                physical["region"] = json!({ "startLine": line });
            }
            json!({ "physicalLocation": physical })
        }
        Location::Manifest { source, pointer } => {
            let mut location = json!({
                "logicalLocations": [{ "fullyQualifiedName": pointer, "kind": "object" }],
            });
            // A file or a URL is an artifact; the output of a command is not.
            let uri = if source.contains("://") {
                Some(source.clone())
            } else {
                Path::new(source).is_file().then(|| path_uri(Path::new(source)))
            };
            if let Some(uri) = uri {
                location["physicalLocation"] = json!({ "artifactLocation": { "uri": uri } });
            }
            location
        }
        Location::Url { url } => json!({ "physicalLocation": { "artifactLocation": { "uri": url } } }),
    }
}

/// A path as a URI reference: relative paths stay relative, absolute ones become `file://` URIs; bytes
/// outside the unreserved set (and `/`) are percent-encoded.
fn path_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::new();
    if path.is_absolute() {
        out.push_str("file://");
    }
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// SARIF's level: critical and high are errors, medium a warning, low a note.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's `security-severity` (a CVSS-like score, as a string).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn place(location: &Location) -> String {
    match location {
        Location::File { path, line: Some(line) } => format!("{}:{line}", path.display()),
        Location::File { path, line: None } => path.display().to_string(),
        Location::Manifest { source, pointer } => format!("{source} {pointer}"),
        Location::Url { url } => url.clone(),
    }
}

/// SARIF messages are sentences.
fn sentence(text: &str) -> String {
    if text.ends_with(['.', '!', '?']) { text.to_owned() } else { format!("{text}.") }
}

/// `text` with invisible and control characters (but not spaces) written as `\u{…}`, so a printed
/// finding shows what the definition hides.
pub(super) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let hidden = c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
                | '\u{180E}' | '\u{00AD}' | '\u{061C}' | '\u{E0000}'..='\u{E007F}');
        if hidden {
            out.push_str(&format!("\\u{{{:X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn findings() -> Vec<Finding> {
        vec![
            Finding::new(
                "MCP101",
                "security.jwt.secret holds the secret itself, not a reference to it.".to_owned(),
                Location::File { path: PathBuf::from("conf/my mcp.toml"), line: Some(7) },
            ),
            Finding::new(
                "MCP208",
                "tool `a\u{202E}b` hides characters".to_owned(),
                Location::Manifest {
                    source: "inventory --print-manifest".to_owned(),
                    pointer: "/tools/0/name".to_owned(),
                },
            ),
            Finding {
                rule: "MCP399",
                severity: Severity::Medium,
                message: "a probe found something".to_owned(),
                location: Location::Url { url: "http://127.0.0.1:8080/mcp".to_owned() },
                fix: "Fix it.".to_owned(),
            },
        ]
    }

    #[test]
    fn text_names_rule_severity_place_and_fix_and_shows_hidden_characters() {
        let text = text(&findings());
        assert!(text.starts_with("critical MCP101 at conf/my mcp.toml:7\n"), "{text}");
        assert!(
            text.contains("high MCP208 at inventory --print-manifest /tools/0/name\n  tool `a\\u{202E}b`"),
            "{text}"
        );
        assert!(text.contains("  fix: Reference the secret instead"), "{text}");
        assert!(text.ends_with("3 findings: 1 critical, 1 high, 1 medium\n"), "{text}");
        assert_eq!(super::text(&[]), "no findings\n");
    }

    #[test]
    fn json_is_an_array_of_findings() {
        let value: Value = serde_json::from_str(&json(&findings())).unwrap();
        assert_eq!(value[0]["rule"], "MCP101");
        assert_eq!(value[0]["severity"], "critical");
        assert_eq!(value[0]["location"], json!({"kind": "file", "path": "conf/my mcp.toml", "line": 7}));
        assert_eq!(value[1]["location"]["pointer"], "/tools/0/name");
        assert_eq!(value[2]["location"]["kind"], "url");
    }

    #[test]
    fn sarif_lists_every_rule_and_points_each_result_at_its_rule() {
        let log: Value = serde_json::from_str(&sarif(&findings())).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), RULES.len() + 1, "the catalog and the unknown probe rule");
        for result in run["results"].as_array().unwrap() {
            let rule = &rules[usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap()];
            assert_eq!(rule["id"], result["ruleId"]);
        }
        let results = &run["results"];
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[0]["properties"]["security-severity"], "9.5");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"],
            json!({"artifactLocation": {"uri": "conf/my%20mcp.toml"}, "region": {"startLine": 7}})
        );
        assert_eq!(results[1]["message"]["text"], "tool `a\u{202E}b` hides characters.");
        assert_eq!(results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "/tools/0/name");
        assert!(results[1]["locations"][0].get("physicalLocation").is_none(), "a command is not an artifact");
        assert_eq!(results[2]["level"], "warning");
        assert_eq!(rules[RULES.len()]["id"], "MCP399");
        assert_eq!(rules[RULES.len()]["properties"]["security-severity"], "5.5");
        assert_eq!(path_uri(Path::new("/tmp/a b.json")), "file:///tmp/a%20b.json");
    }
}
