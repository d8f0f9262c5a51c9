//! Static checks of a configuration file.
//!
//! The file is read as raw TOML, not as the runtime's `Config`, so a file the runtime would refuse still
//! scans; an absent key reads as the runtime's default (`transport.kind = "stdio"`, `security.strategy =
//! "none"`, `audit.destination = "auto"`, …). Findings point at the line that sets the key, from the
//! spans `toml_edit` keeps of each key, table header and value.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mcp_runtime::config::SecretRef;
use serde_json::{Map, Value as Json};
use toml::{Table, Value};

use super::manifest::Manifest;
use super::{Finding, Location, Severity};

/// Keys whose value is a secret by reference (`${env:NAME}`, `${file:PATH}`); a literal there is the secret.
const SECRET_KEYS: [&str; 4] =
    ["security.jwt.secret", "security.oauth.client_secret", "audit.redact_key", "audit.chain_key"];

/// Words that make a key name a secret's (checked on the last segment, lower-cased).
const SECRET_NAMES: [&str; 8] =
    ["secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credential"];

/// A configuration file as written: its values, and where each is written.
#[derive(Debug)]
pub(crate) struct Config {
    path: PathBuf,
    table: Table,
    spans: toml_edit::Document<String>,
}

impl Config {
    /// Reads and parses `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(path, text)
    }

    /// Parses `text`, the contents of `path`.
    pub(crate) fn parse(path: &Path, text: String) -> Result<Self, String> {
        let invalid =
            |e: &dyn std::fmt::Display| format!("{}: not valid TOML: {}", path.display(), e.to_string().trim_end());
        let table = text.parse::<Table>().map_err(|e| invalid(&e))?;
        let spans = toml_edit::Document::parse(text).map_err(|e| invalid(&e))?;
        Ok(Self { path: path.to_owned(), table, spans })
    }

    fn get(&self, key: &str) -> Option<&Value> {
        let mut parts = key.split('.');
        let mut value = self.table.get(parts.next()?)?;
        for part in parts {
            value = value.as_table()?.get(part)?;
        }
        Some(value)
    }

    fn str_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).and_then(Value::as_str).unwrap_or(default)
    }

    fn strings(&self, key: &str) -> Vec<&str> {
        self.get(key).and_then(Value::as_array).map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_str).collect())
    }

    /// Where `key` (`a.b`, `a.list[2].c`) is set (its nearest set parent when it is not).
    fn at(&self, key: &str) -> Location {
        Location::File { path: self.path.clone(), line: line_of(&self.spans, key, None) }
    }

    /// Where the array `key` holds the string `element` (where `key` is set, when it holds none).
    fn at_element(&self, key: &str, element: &str) -> Location {
        Location::File { path: self.path.clone(), line: line_of(&self.spans, key, Some(element)) }
    }
}

/// Every configuration finding but MCP106/MCP107 (see [`check_tools`]).
pub(crate) fn check(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    secrets(config, &mut out);
    transport(config, &mut out);
    browser_checks(config, &mut out);
    if config.str_or("audit.destination", "auto").trim() == "none" {
        out.push(Finding::new(
            "MCP108",
            "audit.destination = \"none\": no record of who called which tool is kept.".to_owned(),
            config.at("audit.destination"),
        ));
    }
    out
}

/// MCP101: literals where secrets belong, passwords in URLs, raw keys where digests belong.
fn secrets(config: &Config, out: &mut Vec<Finding>) {
    let mut strings = Vec::new();
    collect_strings(&config.table, "", &mut strings);
    for (key, value) in strings {
        if value.is_empty() {
            continue;
        }
        let literal = matches!(SecretRef::parse(value), Ok(SecretRef::Inline(_)));
        let name = key.rsplit('.').next().unwrap_or(&key).to_ascii_lowercase();
        let last = name.split('[').next().unwrap_or_default();
        let why = if SECRET_KEYS.contains(&key.as_str()) && literal {
            Some(format!("{key} holds the secret itself, not a reference to it."))
        } else if key == "security.keys" && literal {
            Some("security.keys holds a literal where a reference to the key file belongs.".to_owned())
        } else if key.starts_with("security.keys[") && key.ends_with(".hash") && !is_digest(value) {
            Some(format!("{key} is not a sha256:<64 hex digits> digest: is it the key itself?"))
        } else if literal && url_password(value) {
            Some(format!("{key} is a URL with a password in it."))
        } else if literal && SECRET_NAMES.iter().any(|name| last.contains(name)) {
            Some(format!("{key} is named like a secret and holds a literal."))
        } else {
            None
        };
        if let Some(message) = why {
            out.push(Finding::new("MCP101", message, config.at(&key)));
        }
    }
}

/// Every string value under `table` with its key (`a.b`, `a.list[2].c`), in file order of the table.
fn collect_strings<'a>(table: &'a Table, prefix: &str, out: &mut Vec<(String, &'a str)>) {
    for (key, value) in table {
        let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        collect_value(value, key, out);
    }
}

fn collect_value<'a>(value: &'a Value, key: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((key, s)),
        Value::Table(table) => collect_strings(table, &key, out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_value(item, format!("{key}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `scheme://user:password@host…` with a password.
fn url_password(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()))
}

/// MCP102 and MCP103.
fn transport(config: &Config, out: &mut Vec<Finding>) {
    let kind = config.str_or("transport.kind", "stdio");
    let network = matches!(kind, "http" | "sse");
    let bind = config.str_or("transport.bind", "127.0.0.1:8080");
    let exposed = bind.parse::<SocketAddr>().is_ok_and(|addr| !addr.ip().is_loopback());
    let strategy = config.str_or("security.strategy", "none");
    if network && strategy == "none" {
        let reach = if exposed {
            format!("anyone who reaches {bind}")
        } else {
            format!("any local process or page that reaches {bind}")
        };
        let finding = Finding::new(
            "MCP102",
            format!("transport.kind = \"{kind}\" with security.strategy = \"none\": {reach} can call every tool."),
            if config.get("security.strategy").is_some() {
                config.at("security.strategy")
            } else {
                config.at("transport.kind")
            },
        );
        out.push(if exposed { finding.with_severity(Severity::Critical) } else { finding });
    }
    if network && exposed {
        out.push(Finding::new(
            "MCP103",
            format!("transport.bind = \"{bind}\" serves the MCP endpoint beyond this host."),
            config.at("transport.bind"),
        ));
    }
    let prometheus = config.get("metrics.prometheus").and_then(Value::as_bool).unwrap_or(true);
    if let Some(metrics) = config.get("metrics.bind").and_then(Value::as_str)
        && prometheus
        && metrics.parse::<SocketAddr>().is_ok_and(|addr| !addr.ip().is_loopback())
    {
        out.push(Finding::new(
            "MCP103",
            format!("metrics.bind = \"{metrics}\" serves the unauthenticated metrics listener beyond this host."),
            config.at("metrics.bind"),
        ));
    }
}

/// MCP104 and MCP105. Checked whatever `transport.kind` says: `--transport http` turns them on.
fn browser_checks(config: &Config, out: &mut Vec<Finding>) {
    for origin in config.strings("http.cors_origins") {
        if origin.trim() == "*" {
            out.push(Finding::new(
                "MCP104",
                "http.cors_origins has \"*\": every web page may call the server from its visitors' browsers."
                    .to_owned(),
                config.at_element("http.cors_origins", origin),
            ));
        }
    }
    for host in config.strings("http.allowed_hosts") {
        if host.contains('*') {
            out.push(Finding::new(
                "MCP105",
                format!("http.allowed_hosts has \"{host}\": a wildcard means the Host check (DNS rebinding) is meant to be off."),
                config.at_element("http.allowed_hosts", host),
            ));
        }
    }
    for written in config.strings("http.allowed_origins") {
        let origin = written.trim();
        if origin.contains('*') || origin.eq_ignore_ascii_case("null") {
            out.push(Finding::new(
                "MCP105",
                format!("http.allowed_origins has \"{origin}\": pages of any site (or sandboxed and file: pages) pass the Origin check."),
                config.at_element("http.allowed_origins", written),
            ));
        }
    }
}

/// MCP106 and MCP107: destructive and open-world tools of `manifest`, with the rate limits and scopes of
/// its `x-mcp-runtime.tools` (`limits`) and `[throttling]` of `config`.
pub(crate) fn check_tools(config: Option<&Config>, manifest: &Manifest, limits: &Map<String, Json>) -> Vec<Finding> {
    let mut out = Vec::new();
    let default_rate = config.and_then(|c| c.get("throttling.default_tool")).and_then(Value::as_str).is_some();
    for (i, tool) in manifest.tools().iter().enumerate() {
        let Some(name) = tool.get("name").and_then(Json::as_str) else { continue };
        let hint = |key: &str| tool.pointer(&format!("/annotations/{key}")).and_then(Json::as_bool) == Some(true);
        let kinds: Vec<&str> = [("destructive", hint("destructiveHint")), ("open-world", hint("openWorldHint"))]
            .into_iter()
            .filter_map(|(kind, set)| set.then_some(kind))
            .collect();
        if kinds.is_empty() {
            continue;
        }
        let kinds = kinds.join(" and ");
        let limit = limits.get(name);
        let attribute_rate = limit.and_then(|l| l.get("rate")).is_some_and(Json::is_string);
        let config_rate = config
            .and_then(|c| c.table.get("throttling")?.get("tools")?.get(name))
            .is_some_and(|v| v.is_str() || v.as_table().and_then(|t| t.get("rate")).is_some_and(Value::is_str));
        if !(attribute_rate || config_rate || default_rate) {
            out.push(Finding::new(
                "MCP106",
                format!(
                    "tool `{name}` is {kinds} and has no rate limit (per_principal and global limits do not count)."
                ),
                manifest.at(format!("/tools/{i}")),
            ));
        }
        let scoped = limit.and_then(|l| l.get("scopes")).and_then(Json::as_array).is_some_and(|s| !s.is_empty());
        if !scoped {
            out.push(Finding::new(
                "MCP107",
                format!("tool `{name}` is {kinds} and requires no scope: every authenticated caller may call it."),
                manifest.at(format!("/tools/{i}")),
            ));
        }
    }
    out
}

/// The 1-based line where `key` (`security.jwt.secret`, `security.keys[2].hash`) is set: its `key =`, or
/// its table's header (`[security.jwt]`, `[[security.keys]]`), or its element of an array. When the key
/// is not set, the line of its nearest set parent (a table only implied by a dotted key or a deeper
/// header sets nothing). With `element`, the array's element holding that string, if any.
fn line_of(doc: &toml_edit::Document<String>, key: &str, element: Option<&str>) -> Option<usize> {
    let mut item = doc.as_item();
    let mut at = None;
    for segment in key.split('.') {
        let (name, indexes) = segment.split_once('[').map_or((segment, ""), |(name, rest)| (name, rest));
        let Some((key, child)) = item.as_table_like().and_then(|t| t.get_key_value(name)) else { break };
        item = child;
        at = match child {
            toml_edit::Item::Table(table) if table.is_implicit() || table.is_dotted() => at,
            toml_edit::Item::Table(table) => table.span(),
            toml_edit::Item::ArrayOfTables(tables) => tables.get(0).and_then(toml_edit::Table::span),
            _ => key.span(),
        };
        for index in indexes.split('[').filter_map(|i| i.trim_end_matches(']').parse::<usize>().ok()) {
            match item.get(index) {
                Some(child) => (item, at) = (child, child.span().or(at)),
                None => return at.map(|span| line_at(doc.raw(), span.start)),
            }
        }
    }
    if let Some(element) = element
        && let Some(array) = item.as_array()
        && let Some(value) = array.iter().find(|v| v.as_str() == Some(element))
    {
        at = value.span().or(at);
    }
    at.map(|span| line_at(doc.raw(), span.start))
}

/// The 1-based line of byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Vec<Finding> {
        check(&Config::parse(Path::new("mcp.toml"), text.to_owned()).unwrap())
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule).collect()
    }

    fn line(finding: &Finding) -> Option<usize> {
        match &finding.location {
            Location::File { line, .. } => *line,
            other => panic!("not a file location: {other:?}"),
        }
    }

    #[test]
    fn the_defaults_are_clean() {
        assert_eq!(scan(""), []);
        assert_eq!(scan("[transport]\nkind = \"stdio\"\n"), []);
    }

    #[test]
    fn inline_secrets_are_found_and_references_are_not() {
        let text = r#"
[security]
strategy = "jwt"
keys = [
    { id = "ops", hash = "sha256:26e8c5180e66e2bed1eb8bd0f9891b695a49c7a1157a11d9e26cff50583beae3" },
    { id = "raw", hash = "inv-demo-ops-7f3a9c" },
]

[security.jwt]
secret = "hunter2"
issuer = "https://idp.example.com"

[security.oauth]
client_secret = "${env:CLIENT_SECRET}"

[audit]
redact_key = "${file:/run/secrets/hmac}"

[throttling.store]
kind = "redis"
url = "redis://:s3cret@redis:6379/0"

[tracing]
endpoint = "https://collector.example.com"
"#;
        let found = scan(text);
        assert_eq!(rules(&found), ["MCP101", "MCP101", "MCP101"], "{found:#?}");
        let by_message = |part: &str| found.iter().find(|f| f.message.contains(part)).unwrap();
        assert_eq!(line(by_message("security.keys[1].hash")), Some(6));
        assert_eq!(line(by_message("security.jwt.secret")), Some(10));
        assert_eq!(line(by_message("throttling.store.url")), Some(21));
        assert!(found.iter().all(|f| !f.message.contains("hunter2") && !f.message.contains("s3cret")));
        assert!(found.iter().all(|f| f.severity == Severity::Critical));
    }

    #[test]
    fn a_literal_audit_chain_key_is_found() {
        let found = scan("[audit]\nchain_key = \"an-inline-chain-key\"\n");
        assert_eq!(rules(&found), ["MCP101"], "{found:#?}");
        assert_eq!(line(&found[0]), Some(2));
    }

    #[test]
    fn a_secret_named_key_with_a_literal_is_found() {
        let found = scan("[tracing]\napi_token = \"abc\"\n");
        assert_eq!(rules(&found), ["MCP101"]);
        assert_eq!(line(&found[0]), Some(2));
        assert_eq!(scan("[tracing]\napi_token = \"${env:TOKEN}\"\n"), []);
    }

    #[test]
    fn a_network_transport_without_auth_is_high_and_critical_when_exposed() {
        let found = scan("[transport]\nkind = \"http\"\n");
        assert_eq!(rules(&found), ["MCP102"]);
        assert_eq!((found[0].severity, line(&found[0])), (Severity::High, Some(2)));

        let found = scan("[transport]\nkind = \"sse\"\nbind = \"0.0.0.0:8080\"\n\n[security]\nstrategy = \"none\"\n");
        assert_eq!(rules(&found), ["MCP102", "MCP103"]);
        assert_eq!((found[0].severity, line(&found[0])), (Severity::Critical, Some(6)));
        assert_eq!(line(&found[1]), Some(3));

        let authenticated =
            "[transport]\nkind = \"http\"\nbind = \"10.0.0.5:80\"\n[security]\nstrategy = \"api-key\"\n";
        assert_eq!(rules(&scan(authenticated)), ["MCP103"]);
        // stdio ignores the bind.
        assert_eq!(scan("[transport]\nbind = \"0.0.0.0:8080\"\n"), []);
    }

    #[test]
    fn an_exposed_metrics_listener_is_found() {
        assert_eq!(rules(&scan("[metrics]\nbind = \"0.0.0.0:9464\"\n")), ["MCP103"]);
        assert_eq!(scan("[metrics]\nbind = \"127.0.0.1:9464\"\n"), []);
        assert_eq!(scan("[metrics]\nprometheus = false\nbind = \"0.0.0.0:9464\"\n"), []);
    }

    #[test]
    fn browser_checks_off_are_found() {
        let text = "[http]\ncors_origins = [\"https://app.example.com\", \"*\"]\nallowed_hosts = [\"*\"]\n\
                    allowed_origins = [\n  \"https://app.example.com\",\n  \"null\",\n]\n";
        let found = scan(text);
        assert_eq!(rules(&found), ["MCP104", "MCP105", "MCP105"]);
        assert_eq!(found.iter().map(line).collect::<Vec<_>>(), [Some(2), Some(3), Some(6)]);
        assert_eq!(scan("[http]\nallowed_hosts = [\"mcp.example.com\"]\ncors_origins = []\n"), []);
    }

    #[test]
    fn audit_off_is_found() {
        let found = scan("[audit]\nresults = true\ndestination = \"none\"\n");
        assert_eq!(rules(&found), ["MCP108"]);
        assert_eq!(line(&found[0]), Some(3));
        assert_eq!(scan("[audit]\ndestination = \"file:/var/log/mcp/audit.log\"\n"), []);
    }

    #[test]
    fn lines_are_found_under_headers_dotted_keys_and_inline_tables() {
        let text = "a = 1\n[security]\njwt.secret = \"x\"\n[throttling]\nstore = { kind = \"redis\" }\n\
                    [http]\nallowed_hosts = [\n  \"a\",\n  \"*\",\n]\n[[security.keys]]\nhash = \"h0\"\n\
                    [[security.keys]]\nid = \"k1\"\nhash = \"h1\"\n";
        let doc = toml_edit::Document::parse(text.to_owned()).unwrap();
        assert_eq!(line_of(&doc, "a", None), Some(1));
        assert_eq!(line_of(&doc, "security.jwt.secret", None), Some(3));
        assert_eq!(line_of(&doc, "security.jwt.other", None), Some(2), "a dotted key sets only itself");
        assert_eq!(line_of(&doc, "throttling.store.url", None), Some(5));
        assert_eq!(line_of(&doc, "security.strategy", None), Some(2), "the table's header");
        assert_eq!(line_of(&doc, "audit.destination", None), None);
        assert_eq!(line_of(&doc, "http.allowed_hosts", Some("*")), Some(9));
        assert_eq!(line_of(&doc, "http.allowed_hosts", Some("b")), Some(7));
        assert_eq!(line_of(&doc, "security.keys", None), Some(11), "the first entry's header");
        assert_eq!(line_of(&doc, "security.keys[1].hash", None), Some(15));
        assert_eq!(line_of(&doc, "security.keys[1].scopes", None), Some(13));
    }

    fn manifest(tools: &Json) -> Manifest {
        Manifest::parse("m.json".to_owned(), &tools.to_string()).unwrap()
    }

    #[test]
    fn destructive_tools_need_a_rate_and_scopes() {
        let m = manifest(&serde_json::json!({
            "tools": [
                {"name": "drop", "annotations": {"destructiveHint": true}},
                {"name": "fetch", "annotations": {"readOnlyHint": true, "openWorldHint": true}},
                {"name": "safe", "annotations": {"destructiveHint": true}},
                {"name": "read", "annotations": {"readOnlyHint": true}},
            ],
            "x-mcp-runtime": {"tools": {
                "drop": {"rate": null, "burst": null, "scopes": []},
                "fetch": {"rate": null, "burst": null, "scopes": ["web:read"]},
                "safe": {"rate": "5/min", "burst": null, "scopes": ["db:admin"]},
                "read": {"rate": null, "burst": null, "scopes": []},
            }}
        }));
        let limits = m.limits().unwrap();
        let found = check_tools(None, &m, limits);
        let at: Vec<(&str, String)> = found
            .iter()
            .map(|f| match &f.location {
                Location::Manifest { pointer, .. } => (f.rule, pointer.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            at,
            [("MCP106", "/tools/0".to_owned()), ("MCP107", "/tools/0".to_owned()), ("MCP106", "/tools/1".to_owned())]
        );

        let per_tool = Config::parse(Path::new("c.toml"), "[throttling.tools]\ndrop = \"1/min\"\n".to_owned()).unwrap();
        assert_eq!(rules(&check_tools(Some(&per_tool), &m, limits)), ["MCP107", "MCP106"]);
        let detailed =
            Config::parse(Path::new("c.toml"), "[throttling]\ntools.fetch = { rate = \"1/s\" }\n".to_owned()).unwrap();
        assert_eq!(rules(&check_tools(Some(&detailed), &m, limits)), ["MCP106", "MCP107"]);
        let default =
            Config::parse(Path::new("c.toml"), "[throttling]\ndefault_tool = \"60/min\"\n".to_owned()).unwrap();
        assert_eq!(rules(&check_tools(Some(&default), &m, limits)), ["MCP107"]);
        let caller_only = Config::parse(
            Path::new("c.toml"),
            "[throttling]\nper_principal = \"60/min\"\nglobal = \"1000/min\"\n".to_owned(),
        )
        .unwrap();
        assert_eq!(rules(&check_tools(Some(&caller_only), &m, limits)), ["MCP106", "MCP107", "MCP106"]);
    }

    #[test]
    fn bad_toml_names_the_file() {
        let error = Config::parse(Path::new("broken.toml"), "[transport\nkind = 1".to_owned()).unwrap_err();
        assert!(error.starts_with("broken.toml: not valid TOML"), "{error}");
    }
}
