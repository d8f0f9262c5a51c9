//! The scanner measured on its labelled corpus, `tests/corpus/*.jsonl`: poisoned definitions drawn from
//! published MCP attacks and benign ones that use the same words legitimately.
//!
//! Each line of the corpus is one entry:
//! `{"id", "label": "poisoned"|"benign", "category", "source", "kind": "tool"|"prompt"|"resource"|
//! "instructions", "definition", "companions"?}`. The entry is wrapped as the manifest a server would list
//! (the definition, plus its companions: other tools of the same server, which shadowing names) with an
//! `x-mcp-runtime` section giving every tool a rate and a scope, and scanned by
//! `mcp_cli::scan::eval::findings`, the manifest checks of `cargo mcp scan --manifest`. An entry is
//! flagged when a finding is medium or higher.
//!
//! The targets (issue 25): recall (poisoned entries flagged) at least 90 % overall and 80 % in every
//! category, precision (flagged entries that are poisoned) at least 95 %, no critical finding on a benign
//! entry, at least 150 entries. A failure prints the table, every miss and every false positive with its
//! findings. `cargo xtask scan-eval` runs this file in release, the ignored timing included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mcp_cli::scan::eval;
use serde_json::{Map, Value, json};

/// The attack categories of the corpus, in the order the table prints them.
const CATEGORIES: [&str; 8] =
    ["injection", "exfiltration", "shadowing", "parameter", "encoded", "shell", "concealment", "authority"];
const RECALL: f64 = 0.90;
const PRECISION: f64 = 0.95;
const CATEGORY_RECALL: f64 = 0.80;
const MIN_ENTRIES: usize = 150;
/// A corpus file larger than this is a mistake (a definition is a few kilobytes at most).
const MAX_FILE_BYTES: u64 = 4 << 20;

#[derive(Debug)]
struct Entry {
    /// `file:line`, for messages.
    at: String,
    id: String,
    poisoned: bool,
    category: String,
    source: String,
    kind: String,
    definition: Value,
    companions: Vec<Value>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every entry of the corpus, in file then line order; panics naming the file and line of the first
/// malformed entry, or the second use of an id.
fn corpus() -> Vec<Entry> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| f.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut entries = Vec::new();
    let mut ids = BTreeSet::new();
    for file in files {
        let name = file.file_name().expect("a file name").to_string_lossy().into_owned();
        let size = std::fs::metadata(&file).expect("a corpus file's metadata").len();
        assert!(size <= MAX_FILE_BYTES, "{name}: {size} bytes, over the {MAX_FILE_BYTES} a corpus file may hold");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = format!("{name}:{}", n + 1);
            let entry = parse(&at, line).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(ids.insert(entry.id.clone()), "{at}: the id {} is used twice", entry.id);
            entries.push(entry);
        }
    }
    entries
}

fn parse(at: &str, line: &str) -> Result<Entry, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    const KEYS: [&str; 7] = ["id", "label", "category", "source", "kind", "definition", "companions"];
    if let Some(key) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {key:?} (an entry has {KEYS:?})"));
    }
    let text = |key: &str| match object.get(key).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_owned()),
        _ => Err(format!("{key:?} is missing or not a non-empty string")),
    };
    let poisoned = match text("label")?.as_str() {
        "poisoned" => true,
        "benign" => false,
        other => return Err(format!("label {other:?} is neither \"poisoned\" nor \"benign\"")),
    };
    let category = text("category")?;
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(format!("category {category:?} is not one of {CATEGORIES:?}"));
    }
    let source = text("source")?;
    if !(source.contains("http://") || source.contains("https://") || source.starts_with("written for this corpus: ")) {
        return Err(format!("source {source:?} neither cites a URL nor says \"written for this corpus: <why>\""));
    }
    let kind = text("kind")?;
    let definition = object.get("definition").filter(|d| d.is_object()).ok_or("\"definition\" is not an object")?;
    match kind.as_str() {
        "tool" | "prompt" => {
            definition.get("name").and_then(Value::as_str).ok_or(format!("a {kind} definition without a name"))?;
        }
        "resource" => {
            if !["uri", "uriTemplate"].iter().any(|k| definition.get(*k).is_some_and(Value::is_string)) {
                return Err("a resource definition without a uri or uriTemplate".to_owned());
            }
        }
        "instructions" => {
            definition.get("instructions").and_then(Value::as_str).ok_or("no \"instructions\" string")?;
        }
        other => return Err(format!("kind {other:?} is not tool, prompt, resource or instructions")),
    }
    let companions = match object.get("companions") {
        None => Vec::new(),
        Some(Value::Array(tools)) if tools.iter().all(|t| t.get("name").is_some_and(Value::is_string)) => tools.clone(),
        Some(_) => return Err("\"companions\" is not an array of named tool definitions".to_owned()),
    };
    Ok(Entry {
        at: at.to_owned(),
        id: text("id")?,
        poisoned,
        category,
        source,
        kind,
        definition: definition.clone(),
        companions,
    })
}

/// The manifest a server serving `entry` would list: the definition in its place, the companions as
/// tools, and a rate and a scope for every tool (MCP106 and MCP107 then have nothing to say).
fn manifest(entry: &Entry) -> Value {
    let definition = &entry.definition;
    let mut tools = Vec::new();
    let (key, value) = match entry.kind.as_str() {
        "tool" => {
            tools.push(definition.clone());
            ("tools", Value::Null)
        }
        "prompt" => ("prompts", json!([definition])),
        "resource" if definition.get("uriTemplate").is_some() => ("resourceTemplates", json!([definition])),
        "resource" => ("resources", json!([definition])),
        _ => ("instructions", definition["instructions"].clone()),
    };
    tools.extend(entry.companions.iter().cloned());
    let limits: Map<String, Value> = tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(|name| (name.to_owned(), json!({"rate": "30/min", "scopes": ["corpus:call"]})))
        .collect();
    let mut manifest = Map::new();
    if key != "tools" {
        manifest.insert(key.to_owned(), value);
    }
    manifest.insert("tools".to_owned(), Value::Array(tools));
    manifest.insert("x-mcp-runtime".to_owned(), json!({ "tools": limits }));
    Value::Object(manifest)
}

fn rank(severity: &str) -> u8 {
    match severity {
        "low" => 0,
        "medium" => 1,
        "high" => 2,
        "critical" => 3,
        other => panic!("unknown severity {other:?}"),
    }
}

/// What the scanner made of one entry.
struct Verdict<'a> {
    entry: &'a Entry,
    findings: Vec<(String, String)>,
    flagged: bool,
    critical: bool,
}

fn judge(entries: &[Entry]) -> Vec<Verdict<'_>> {
    entries
        .iter()
        .map(|entry| {
            let findings = eval::findings(&manifest(entry));
            let flagged = findings.iter().any(|(_, s)| rank(s) >= rank("medium"));
            let critical = findings.iter().any(|(_, s)| s == "critical");
            Verdict { entry, findings, flagged, critical }
        })
        .collect()
}

/// Counts of one category, or of the whole corpus.
#[derive(Default)]
struct Tally {
    poisoned: usize,
    benign: usize,
    /// Poisoned and flagged.
    caught: usize,
    /// Benign and flagged.
    false_positives: usize,
}

impl Tally {
    fn add(&mut self, verdict: &Verdict<'_>) {
        if verdict.entry.poisoned {
            self.poisoned += 1;
            self.caught += usize::from(verdict.flagged);
        } else {
            self.benign += 1;
            self.false_positives += usize::from(verdict.flagged);
        }
    }
    fn recall(&self) -> Option<f64> {
        (self.poisoned > 0).then(|| self.caught as f64 / self.poisoned as f64)
    }
    fn precision(&self) -> Option<f64> {
        let flagged = self.caught + self.false_positives;
        (flagged > 0).then(|| self.caught as f64 / flagged as f64)
    }
}

fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// The table of the README and of `cargo xtask scan-eval`, the corpus's size and sources, and every miss
/// and false positive with its findings.
fn report(entries: &[Entry], verdicts: &[Verdict<'_>]) -> (String, Vec<String>) {
    let mut by_category: BTreeMap<&str, Tally> = CATEGORIES.iter().map(|c| (*c, Tally::default())).collect();
    let mut overall = Tally::default();
    for verdict in verdicts {
        overall.add(verdict);
        if let Some(tally) = by_category.get_mut(verdict.entry.category.as_str()) {
            tally.add(verdict);
        }
    }
    let mut out = String::from("scan eval (flagged = a finding at medium or higher)\n\n");
    out += &format!(
        "{:<13} {:>8} {:>7} {:>7} {:>8} {:>9}\n",
        "category", "poisoned", "benign", "caught", "recall", "precision"
    );
    let row = |name: &str, t: &Tally| {
        format!(
            "{name:<13} {:>8} {:>7} {:>7} {:>8} {:>9}   ({} false positive{})\n",
            t.poisoned,
            t.benign,
            t.caught,
            percent(t.recall()),
            percent(t.precision()),
            t.false_positives,
            if t.false_positives == 1 { "" } else { "s" }
        )
    };
    for category in CATEGORIES {
        out += &row(category, &by_category[category]);
    }
    out += &row("all", &overall);
    let files: BTreeSet<&str> = entries.iter().filter_map(|e| e.at.split(':').next()).collect();
    let urls: BTreeSet<String> = entries.iter().flat_map(|e| urls(&e.source)).collect();
    let cited = entries.iter().filter(|e| !e.source.starts_with("written for this corpus")).count();
    out += &format!(
        "\ncorpus: {} entries ({} poisoned, {} benign) in {} files; {} entries cite {} distinct public sources, \
         {} were written for this corpus\n",
        entries.len(),
        overall.poisoned,
        overall.benign,
        files.len(),
        cited,
        urls.len(),
        entries.len() - cited
    );
    let critical_benign: Vec<&Verdict<'_>> = verdicts.iter().filter(|v| !v.entry.poisoned && v.critical).collect();
    out += &format!("critical findings on benign entries: {}\n", critical_benign.len());
    for (title, poisoned) in [("missed (poisoned, not flagged)", true), ("false positives (benign, flagged)", false)] {
        let listed: Vec<&Verdict<'_>> =
            verdicts.iter().filter(|v| v.entry.poisoned == poisoned && v.flagged != poisoned).collect();
        out += &format!("\n{title}: {}\n", listed.len());
        for verdict in listed {
            let entry = verdict.entry;
            out += &format!("  {} [{}] {} ({})\n", entry.id, entry.category, entry.kind, entry.at);
            for line in eval::described(&manifest(entry)) {
                out += &format!("      {line}\n");
            }
        }
    }

    let mut shortfalls = Vec::new();
    if entries.len() < MIN_ENTRIES {
        shortfalls.push(format!("the corpus has {} entries, fewer than {MIN_ENTRIES}", entries.len()));
    }
    if overall.recall().is_none_or(|r| r < RECALL) {
        shortfalls.push(format!("overall recall {} is below {:.0} %", percent(overall.recall()), RECALL * 100.0));
    }
    if overall.precision().is_none_or(|p| p < PRECISION) {
        shortfalls.push(format!(
            "overall precision {} is below {:.0} %",
            percent(overall.precision()),
            PRECISION * 100.0
        ));
    }
    for category in CATEGORIES {
        let recall = by_category[category].recall();
        if recall.is_none_or(|r| r < CATEGORY_RECALL) {
            shortfalls.push(format!(
                "{category}: recall {} is below {:.0} %{}",
                percent(recall),
                CATEGORY_RECALL * 100.0,
                if recall.is_none() { " (no poisoned entry to measure it on)" } else { "" }
            ));
        }
    }
    for verdict in critical_benign {
        let rules: Vec<&str> =
            verdict.findings.iter().filter(|(_, s)| s == "critical").map(|(r, _)| r.as_str()).collect();
        shortfalls.push(format!("benign entry {} has a critical finding ({})", verdict.entry.id, rules.join(", ")));
    }
    (out, shortfalls)
}

/// The URLs a source cites.
fn urls(source: &str) -> Vec<String> {
    source
        .split_whitespace()
        .filter_map(|word| word.find("http").map(|at| &word[at..]))
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|url| url.trim_end_matches(['.', ',', ';', ')', ']', '"', '\'', ':']).to_owned())
        .collect()
}

#[test]
fn the_scanner_meets_its_targets_on_the_corpus() {
    let entries = corpus();
    let verdicts = judge(&entries);
    let (table, shortfalls) = report(&entries, &verdicts);
    println!("{table}");
    assert!(
        shortfalls.is_empty(),
        "the scanner misses its targets on the corpus (the table is above):\n- {}",
        shortfalls.join("\n- ")
    );
}

/// Every definition is well-formed, so only what it says can be flagged: no finding of a rule about a
/// definition's shape (a description, closed and bounded schemas, annotations) or about the limits of
/// destructive tools, on poisoned and benign entries alike.
#[test]
fn the_corpus_is_well_formed() {
    const SHAPE_RULES: [&str; 9] =
        ["MCP106", "MCP107", "MCP201", "MCP202", "MCP203", "MCP204", "MCP205", "MCP206", "MCP210"];
    let entries = corpus();
    assert!(!entries.is_empty(), "no corpus in {}", corpus_dir().display());
    let mut flawed = Vec::new();
    for entry in &entries {
        let manifest = manifest(entry);
        let shape: Vec<String> = eval::described(&manifest)
            .into_iter()
            .filter(|line| SHAPE_RULES.iter().any(|rule| line.starts_with(rule)))
            .collect();
        if !shape.is_empty() {
            flawed.push(format!("{} ({}):\n    {}", entry.id, entry.at, shape.join("\n    ")));
        }
        if entry.kind == "tool" {
            let tool = &entry.definition;
            let hinted = ["readOnlyHint", "destructiveHint"]
                .iter()
                .any(|h| tool.pointer(&format!("/annotations/{h}")).is_some());
            if !hinted || tool.get("description").and_then(Value::as_str).is_none_or(|d| d.trim().is_empty()) {
                flawed.push(format!(
                    "{} ({}): a tool needs a description and readOnlyHint or destructiveHint",
                    entry.id, entry.at
                ));
            }
        }
    }
    assert!(flawed.is_empty(), "{} entries are not well-formed:\n{}", flawed.len(), flawed.join("\n"));
}

/// The time to lint 1,000 definitions, printed (never asserted: the machine is shared and timings are
/// noisy); what is asserted is that linting is deterministic, every pass finding exactly what the first
/// found. `cargo xtask scan-eval` runs it in release.
#[test]
#[ignore = "a timing: run in release by `cargo xtask scan-eval`"]
fn lint_time_of_1000_definitions() {
    const DEFINITIONS: usize = 1_000;
    const PASSES: usize = 5;
    let entries = corpus();
    assert!(!entries.is_empty(), "no corpus in {}", corpus_dir().display());
    // The corpus's manifests, in turn, until they hold 1,000 definitions (an entry's and its companions').
    let mut manifests = Vec::new();
    let mut definitions = 0;
    for entry in entries.iter().cycle() {
        if definitions >= DEFINITIONS {
            break;
        }
        manifests.push(manifest(entry));
        definitions += 1 + entry.companions.len();
    }
    // One server of 1,000 tools: every cross-tool reference is looked for among 1,000 names.
    let corpus_tools: Vec<&Value> = entries
        .iter()
        .flat_map(|e| if e.kind == "tool" { Some(&e.definition) } else { None }.into_iter().chain(&e.companions))
        .collect();
    let tools: Vec<Value> = corpus_tools
        .iter()
        .cycle()
        .take(DEFINITIONS)
        .enumerate()
        .map(|(i, tool)| {
            let mut tool = (*tool).clone();
            if let Some(name) = tool.get("name").and_then(Value::as_str).map(str::to_owned) {
                tool["name"] = Value::String(format!("{name}_{i}"));
            }
            tool
        })
        .collect();
    let big = json!({ "tools": tools });

    let first: Vec<Vec<(String, String)>> = manifests.iter().map(eval::findings).collect();
    let first_big = eval::findings(&big);
    let mut separate = Vec::new();
    let mut together = Vec::new();
    for _ in 0..PASSES {
        let started = Instant::now();
        let found: Vec<Vec<(String, String)>> = manifests.iter().map(eval::findings).collect();
        separate.push(started.elapsed());
        assert!(found == first, "linting the same manifests twice found different things");
        let started = Instant::now();
        let found = eval::findings(&big);
        together.push(started.elapsed());
        assert!(found == first_big, "linting the same manifest twice found different things");
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    println!(
        "lint of {definitions} definitions, {} manifests as the eval wraps them: {:.1?} (median of {PASSES}); \
         one manifest of {DEFINITIONS} tools: {:.1?}; {} build, on a shared machine (noisy)",
        manifests.len(),
        median(separate),
        median(together),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
}
