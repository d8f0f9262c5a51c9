//! `cargo mcp scan`: security checks of a configuration (`--config`), a tool manifest (`--manifest FILE`,
//! `-- CMD…` running `CMD --print-manifest`, or `--url`) and a live endpoint (`--url`), reported as text,
//! JSON or SARIF 2.1.0.
//!
//! Every finding names a rule by a stable id, its severity, where it is (a file and line of the
//! configuration, a JSON pointer into the manifest, or the URL probed) and how to fix it. The exit code is
//! 0 when no finding is at least as severe as `--fail-on` (default `high`), 1 when one is, 2 when the scan
//! could not run (no input, an unreadable file, TOML or JSON that does not parse, a server command that
//! fails).
//!
//! # Rules
//!
//! Configuration (`--config`; an absent key reads as the runtime's default):
//!
//! | Id     | Severity | What |
//! |--------|----------|------|
//! | MCP101 | critical | An inline secret: a literal where a reference (`${env:NAME}`, `${file:PATH}`) belongs (`security.jwt.secret`, `security.oauth.client_secret`, `audit.redact_key`, a `security.keys` file), a password in a URL (`throttling.store.url`, any other), a literal at a key named like a secret, or a `security.keys[].hash` that is not a `sha256:` digest (a raw key pasted in). |
//! | MCP102 | high     | A network transport (`http`, `sse`) without authentication (`security.strategy = "none"`); critical when it also binds a non-loopback address. |
//! | MCP103 | medium   | A non-loopback bind: `transport.bind` of a network transport, or `metrics.bind` (an unauthenticated listener). |
//! | MCP104 | high     | CORS open to every origin: `*` in `http.cors_origins`. |
//! | MCP105 | high     | The Origin/Host (DNS rebinding) check switched off: a wildcard in `http.allowed_hosts` or `http.allowed_origins`, or `null` among the origins. |
//! | MCP106 | medium   | A destructive or open-world tool without a rate limit. |
//! | MCP107 | high     | A destructive or open-world tool without scopes: every authenticated caller may call it. |
//! | MCP108 | medium   | Audit off: `audit.destination = "none"`. |
//!
//! MCP106 and MCP107 read the manifest's `x-mcp-runtime.tools` (each tool's attribute: rate, burst,
//! scopes; `--print-manifest` writes it) and `[throttling]` of the configuration. A tool has a rate limit
//! when its attribute sets `rate`, `throttling.tools.<name>` sets a rate, or `throttling.default_tool` is
//! set (it is the rate of every tool whose attribute sets none). `throttling.per_principal` and
//! `throttling.global` do not count: they cap a caller's calls to all tools together, not what one
//! destructive tool may do within them. A tool is destructive or open-world when its annotations say so
//! explicitly (`destructiveHint: true`, `openWorldHint: true`). A live server's tool list (`--url`) has no
//! `x-mcp-runtime`: the two rules are then skipped, with a note on stderr.
//!
//! Tool manifest (`--manifest FILE`, `-- CMD…`, `--url`):
//!
//! | Id     | Severity | What |
//! |--------|----------|------|
//! | MCP201 | medium   | A tool without a description. |
//! | MCP202 | low      | An object in an input schema without `additionalProperties: false`: unknown arguments pass. |
//! | MCP203 | low      | An unbounded string (no `maxLength`, `enum`, `const`, bounded `pattern` or `format`) or array (no `maxItems`) in an input schema. |
//! | MCP204 | low      | An object in an input schema with properties but no `required`. |
//! | MCP205 | high     | Contradicting annotations: `readOnlyHint: true` with `destructiveHint: true`. |
//! | MCP206 | low      | Contradicting annotations: `readOnlyHint: true` with `idempotentHint: false` (a read can be repeated). |
//! | MCP207 | high     | Instructions aimed at the model: overrides ("disregard prior guidelines"), injected tags (`<IMPORTANT>`), role changes, commands to read outside the tool. |
//! | MCP208 | high     | Hidden Unicode anywhere in a definition: zero-width characters, bidi controls, tag characters, ANSI escapes or other control characters (not emoji joiners or flag tags). |
//! | MCP209 | medium   | Authority spoofing: headings and claims of an administrator, vendor, system or developers ("[Admin policy, mandatory]", "verified by Anthropic"). |
//! | MCP210 | low      | A tool without `readOnlyHint` or `destructiveHint`: clients must assume it is destructive. |
//! | MCP211 | high     | A tool definition changed since `--baseline` (its digest differs). |
//! | MCP212 | medium   | A tool added since `--baseline`. |
//! | MCP213 | low      | A tool removed since `--baseline`. |
//! | MCP214 | high     | Shadowing: a definition telling the model how to use another tool of the manifest (critical with a literal address). |
//! | MCP215 | high     | Encoded instructions: base64, hex or percent-encoded text (or Unicode tags) that decodes to something suspicious, or "decode and follow". |
//! | MCP216 | high     | Shell bait: `curl … \| sh`, `sh -c`, `chmod -R`, "prefix every command with". |
//! | MCP217 | critical | Exfiltration: a secret read and sent (critical), the conversation sent, a markdown image carrying data; a secret path merely named is low. |
//! | MCP218 | high     | Concealment and forged consent: "no need to mention", "the user has already consented", "skip confirmation". |
//!
//! MCP207–MCP209 and MCP214–MCP218 read every string a client model reads — tool and parameter names (split
//! on `_` and camelCase), descriptions and titles at any depth, annotations, prompts, resources, resource
//! templates and the server's `instructions` — through the `mcp-lint` crate; a finding's severity follows
//! what the text asks, and its message quotes the matched text. `--explain RULE` prints what a rule matches
//! and why. `--baseline FILE` holds
//! `{"tools": {NAME: "sha256:<hex>"}}`, the SHA-256 of each definition's canonical JSON (keys sorted, no
//! whitespace); when FILE does not exist it is written and nothing is compared.
//!
//! Live probes of `--url` (each probe's method is in [`probe`]):
//!
//! | Id     | Severity | What |
//! |--------|----------|------|
//! | MCP301 | critical | The endpoint answers `initialize` and `tools/list` without any credential. |
//! | MCP302 | high     | A credential is read from the query string (`?access_token=`, `?api_key=`), found with a dummy value. |
//! | MCP303 | high     | A request with a foreign `Host` or `Origin` is served (DNS rebinding). |
//! | MCP304 | medium   | A burst of 50 concurrent calls of one tool is served without a 429. |
//! | MCP305 | medium   | Guessable session ids: short, repeated, low in entropy, counting up or sharing affixes. |
//! | MCP306 | medium   | An error answer leaks internals: a panic message, a backtrace or a source path. |

mod baseline;
mod catalog;
mod config;
pub mod eval;
mod manifest;
pub mod probe;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) use catalog::{RULES, rule};
use clap::{Args, ValueEnum};
use serde::Serialize;

/// `cargo mcp scan` arguments.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The server's configuration file (`mcp.toml`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A tool manifest (the JSON `--print-manifest` prints).
    #[arg(long, conflicts_with_all = ["url", "command"])]
    pub manifest: Option<PathBuf>,
    /// A running server's MCP endpoint: its manifest is listed and it is probed. No redirect is followed
    /// (a 3xx is reported with its Location), no answer is read beyond 16 MiB, and the `--header`
    /// credentials are never put in a URL.
    #[arg(long)]
    pub url: Option<String>,
    /// A header sent to `--url` with every request (`Name: value`), e.g. credentials; repeatable.
    #[arg(long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    pub fail_on: Severity,
    /// Tool definition digests to compare with (written when the file does not exist).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// The tool the burst probe calls (default: the first read-only tool without required arguments).
    #[arg(long)]
    pub probe_tool: Option<String>,
    /// Print what RULE (e.g. MCP217) matches and why, and exit.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
    /// A server binary and its arguments: run with `--print-manifest` to get its manifest.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One finding per paragraph, for people.
    Text,
    /// The findings as a JSON array.
    Json,
    /// SARIF 2.1.0, for code scanning in CI.
    Sarif,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Worth fixing.
    Medium,
    /// Fix before production.
    High,
    /// Exploitable as it is.
    Critical,
}

impl Severity {
    /// `low`, `medium`, `high` or `critical`, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    /// A line of a file (the configuration).
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line, when the key was found.
        line: Option<usize>,
    },
    /// A place in a tool manifest: where it came from and a JSON pointer into it.
    Manifest {
        /// The manifest's file, command or URL.
        source: String,
        /// A JSON pointer, e.g. `/tools/2/inputSchema/properties/sku`.
        pointer: String,
    },
    /// A live endpoint.
    Url {
        /// The URL probed.
        url: String,
    },
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable id.
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What was found, specifically.
    pub message: String,
    /// Where.
    pub location: Location,
    /// How to fix it.
    pub fix: String,
}

impl Finding {
    /// A finding of `rule` (one of [`RULES`]) with the rule's severity and fix.
    ///
    /// # Panics
    /// When `rule` is not in the catalog: a bug of this module.
    pub(crate) fn new(rule: &'static str, message: String, location: Location) -> Self {
        let known = self::rule(rule).unwrap_or_else(|| panic!("rule {rule} is not in the catalog"));
        Self { rule: known.id, severity: known.severity, message, location, fix: known.fix.to_owned() }
    }

    /// The same finding, more or less severe than its rule says.
    pub(crate) fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// What a scan found, and what it could not check.
#[derive(Debug, Default)]
struct Outcome {
    findings: Vec<Finding>,
    notes: Vec<String>,
}

/// Runs a scan: prints the report on stdout and notes on stderr, and returns 0, 1 (a finding at or above
/// `--fail-on`) or 2 (the scan could not run).
pub fn run(args: &ScanArgs) -> ExitCode {
    if let Some(id) = &args.explain {
        return match explain(id) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                let ids: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
                eprintln!("error: no rule {id}: the rules are {}", ids.join(", "));
                ExitCode::from(2)
            }
        };
    }
    let outcome = match scan(args) {
        Ok(outcome) => outcome,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    for note in &outcome.notes {
        eprintln!("note: {note}");
    }
    let report = match args.format {
        Format::Text => report::text(&outcome.findings),
        Format::Json => report::json(&outcome.findings),
        Format::Sarif => report::sarif(&outcome.findings),
    };
    print!("{report}");
    if outcome.findings.iter().any(|finding| finding.severity >= args.fail_on) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What `--explain RULE` prints: the rule's name, severity, summary and fix, then, for the rules on what
/// texts say, mcp-lint's account of what it matches and why.
fn explain(id: &str) -> Option<String> {
    let rule = rule(&id.to_ascii_uppercase())?;
    let severity = format!("{:?}", rule.severity).to_lowercase();
    let mut out = format!("{} {} ({severity})\n{}\nfix: {}\n", rule.id, rule.name, rule.summary, rule.fix);
    if let Some(detail) = mcp_lint::explain(rule.id) {
        out.push('\n');
        out.push_str(detail);
        out.push('\n');
    }
    Some(out)
}

fn scan(args: &ScanArgs) -> Result<Outcome, String> {
    let has_manifest = args.manifest.is_some() || !args.command.is_empty() || args.url.is_some();
    if args.config.is_none() && !has_manifest {
        return Err("nothing to scan: give --config FILE, --manifest FILE, --url URL or -- CMD…".to_owned());
    }
    if args.baseline.is_some() && !has_manifest {
        return Err("--baseline compares tool definitions: give --manifest FILE, --url URL or -- CMD…".to_owned());
    }
    // The client and the probes are async; everything else here is plain file and process I/O.
    let runtime = match &args.url {
        Some(_) => Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?,
        ),
        None => None,
    };
    let config = args.config.as_deref().map(config::Config::load).transpose()?;
    let manifest = if let Some(path) = &args.manifest {
        Some(manifest::Manifest::load(path)?)
    } else if !args.command.is_empty() {
        Some(manifest::Manifest::of_command(&args.command)?)
    } else if let (Some(url), Some(runtime)) = (&args.url, &runtime) {
        let tools = runtime
            .block_on(crate::client::list_tools_at(url, &args.headers))
            .map_err(|e| format!("{url}: cannot list the tools: {e}"))?;
        Some(manifest::Manifest::from_tools(url.clone(), tools))
    } else {
        None
    };

    let mut outcome = Outcome::default();
    if let Some(config) = &config {
        outcome.findings.extend(config::check(config));
    }
    match &manifest {
        Some(manifest) => {
            match manifest.limits() {
                Some(limits) => outcome.findings.extend(config::check_tools(config.as_ref(), manifest, limits)),
                None => outcome.notes.push(format!(
                    "{}: no x-mcp-runtime section (a live tool list has none), so rate limits and scopes of \
                     destructive tools (MCP106, MCP107) were not checked: scan `-- CMD` or --manifest FILE \
                     from `--print-manifest` for them",
                    manifest.source
                )),
            }
            outcome.findings.extend(manifest::check(manifest));
        }
        None => outcome.notes.push(
            "no manifest, so tools were not checked (MCP106, MCP107, MCP2xx): add --manifest FILE or -- CMD".to_owned(),
        ),
    }
    if let (Some(path), Some(manifest)) = (&args.baseline, &manifest) {
        match baseline::compare(path, manifest)? {
            baseline::Baseline::Written(count) => outcome.notes.push(format!(
                "{}: no baseline yet; wrote the digests of {count} tools, nothing compared",
                path.display()
            )),
            baseline::Baseline::Compared(findings) => outcome.findings.extend(findings),
        }
    }
    if let (Some(url), Some(runtime)) = (&args.url, &runtime) {
        let found = runtime.block_on(probe::probe(url, &args.headers, args.probe_tool.as_deref()));
        outcome.findings.extend(found);
    }
    // Most severe first; within a severity, in the order found.
    outcome.findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table_in_the_docs_matches_the_catalog() {
        let source = include_str!("mod.rs");
        for rule in RULES {
            let row = format!("//! | {} | {:<8} |", rule.id, format!("{:?}", rule.severity).to_lowercase());
            assert!(source.contains(&row), "the rustdoc table lacks `{row}`");
        }
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "rule ids are unique and in order");
    }

    #[test]
    fn the_lint_rules_are_in_the_catalog_with_their_severity_and_explained() {
        for (id, severity, _) in mcp_lint::RULES {
            let rule = rule(id).unwrap_or_else(|| panic!("{id} is not in the catalog"));
            assert_eq!(rule.severity, manifest::severity_of(*severity), "{id}");
            let text = explain(&id.to_ascii_lowercase()).unwrap();
            assert!(text.starts_with(&format!("{id} {} (", rule.name)) && text.contains("Why:"), "{text}");
        }
        assert!(explain("MCP101").unwrap().contains("fix: Reference the secret"));
        assert_eq!(explain("MCP999"), None);
    }

    #[test]
    fn every_rule_reads_as_sentences() {
        for rule in RULES {
            assert!(rule.summary.ends_with('.') && rule.fix.ends_with('.'), "{}", rule.id);
            assert!(rule.name.chars().next().is_some_and(|c| c.is_ascii_uppercase()), "{}", rule.id);
        }
    }
}
