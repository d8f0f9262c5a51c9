//! `--baseline`: digests of each tool definition, to catch silent changes.
//!
//! The file is `{"tools": {NAME: "sha256:<hex>"}}`; a digest is the SHA-256 of the definition's canonical
//! JSON (object keys sorted by their UTF-8 bytes, no whitespace, strings escaped as serde_json does), so
//! key order and formatting of the server's output do not count as changes but any changed value does.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::manifest::Manifest;
use super::{Finding, Location};

/// What comparing with the baseline did.
#[derive(Debug)]
pub(crate) enum Baseline {
    /// There was no baseline file: it was written with this many tools.
    Written(usize),
    /// The changes since the baseline (none when nothing changed).
    Compared(Vec<Finding>),
}

/// Compares the tools of `manifest` with the baseline at `path`, or writes it when there is none.
pub(crate) fn compare(path: &Path, manifest: &Manifest) -> Result<Baseline, String> {
    let now = digests(manifest);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let file = serde_json::json!({ "tools": now });
            let rendered = serde_json::to_string_pretty(&file).expect("digests are JSON") + "\n";
            std::fs::write(path, rendered)
                .map_err(|e| format!("{}: cannot write the baseline: {e}", path.display()))?;
            return Ok(Baseline::Written(now.len()));
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let then = parse(&text)
        .map_err(|e| format!("{}: not a baseline ({{\"tools\": {{NAME: \"sha256:<hex>\"}}}}): {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, tool) in manifest.tools().iter().enumerate() {
        let name = name(tool, i);
        let digest = &now[&name];
        match then.get(&name) {
            Some(old) if old == digest => {}
            Some(old) => out.push(Finding::new(
                "MCP211",
                format!("tool `{name}` changed since the baseline {}: {old} is now {digest}.", path.display()),
                manifest.at(format!("/tools/{i}")),
            )),
            None => out.push(Finding::new(
                "MCP212",
                format!("tool `{name}` is not in the baseline {}.", path.display()),
                manifest.at(format!("/tools/{i}")),
            )),
        }
    }
    for name in then.keys().filter(|name| !now.contains_key(*name)) {
        let line = text.lines().position(|line| line.contains(&format!("{:?}", name.as_str()))).map(|i| i + 1);
        out.push(Finding::new(
            "MCP213",
            format!("tool `{name}` of the baseline is gone from {}.", manifest.source),
            Location::File { path: path.to_owned(), line },
        ));
    }
    Ok(Baseline::Compared(out))
}

fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let tools = value.get("tools").and_then(Value::as_object).ok_or("no \"tools\" object")?;
    tools
        .iter()
        .map(|(name, digest)| match digest.as_str() {
            Some(d) => Ok((name.clone(), d.to_owned())),
            None => Err(format!("the digest of `{name}` is not a string")),
        })
        .collect()
}

/// A tool's name; `#INDEX` for a definition without one.
fn name(tool: &Value, index: usize) -> String {
    tool.get("name").and_then(Value::as_str).map_or_else(|| format!("#{index}"), str::to_owned)
}

/// The digest of every tool, by name.
pub(crate) fn digests(manifest: &Manifest) -> BTreeMap<String, String> {
    manifest.tools().iter().enumerate().map(|(i, tool)| (name(tool, i), digest(tool))).collect()
}

/// `sha256:<hex>` of `value`'s canonical JSON.
pub(crate) fn digest(value: &Value) -> String {
    let mut text = String::new();
    canonical(value, &mut text);
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Writes `value` as canonical JSON: keys sorted, no whitespace. (serde_json's own order would follow
/// the map's, which a `preserve_order` build keeps as parsed.)
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn manifest(tools: &Value) -> Manifest {
        Manifest::parse("m.json".to_owned(), &json!({ "tools": tools }).to_string()).unwrap()
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_drops_whitespace() {
        let a: Value = serde_json::from_str(r#"{"b": [1, {"y": "\u00e9\"", "x": null}], "a": true}"#).unwrap();
        let mut text = String::new();
        canonical(&a, &mut text);
        assert_eq!(text, r#"{"a":true,"b":[1,{"x":null,"y":"é\""}]}"#);
        let b: Value = serde_json::from_str(r#"{"a":true,"b":[1,{"x":null,"y":"é\""}]}"#).unwrap();
        assert_eq!(digest(&a), digest(&b));
        // The SHA-256 of the canonical text, checked against a value computed independently (sha256sum).
        assert_eq!(
            digest(&json!({"name": "t"})),
            "sha256:3647a67649228b62fe3d139c47f7a3c673c31ce57da824082b6654fc0b15751f"
        );
    }

    #[test]
    fn the_first_run_writes_and_later_runs_compare() {
        let dir = std::env::temp_dir().join(format!("mcp-scan-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("baseline.json");
        let _ = std::fs::remove_file(&path);
        let tools = json!([{"name": "a", "description": "A."}, {"name": "b", "description": "B."}]);

        assert!(matches!(compare(&path, &manifest(&tools)).unwrap(), Baseline::Written(2)));
        let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["tools"]["a"], digest(&tools[0]));

        let Baseline::Compared(same) = compare(&path, &manifest(&tools)).unwrap() else { panic!("compared") };
        assert_eq!(same, []);

        let edited = json!([{"name": "a", "description": "A, and more."}, {"name": "c", "description": "C."}]);
        let Baseline::Compared(changes) = compare(&path, &manifest(&edited)).unwrap() else { panic!("compared") };
        let rules: Vec<&str> = changes.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["MCP211", "MCP212", "MCP213"]);
        assert_eq!(changes[2].location, Location::File { path: path.clone(), line: Some(4) });

        std::fs::write(&path, "[]").unwrap();
        assert!(compare(&path, &manifest(&tools)).unwrap_err().contains("not a baseline"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
