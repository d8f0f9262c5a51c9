//! The audit trail: one record per request whatever ended it, redaction, the hash chain and its verifier,
//! each full-queue policy against a stalled sink, and no lost record when SIGTERM arrives under load. The
//! mixed run also checks the metrics against the outcomes, and that no seeded secret reaches a span or a log.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_runtime::Pipeline;
use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuditOnFull, AuthStrategy, Config, SecretRef, ToolThrottle};
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_tests::{NetworkServer, OPS_KEY, inventory_bin, modern_meta};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

const KEY: &str = "audit-test-key-7d1c";
const READER_KEY: &str = "audit-reader-key-4e2a";

/// Saves a contact.
#[mcp_tool(scopes = ["contacts:write"])]
async fn save_contact(email: String, phone: String, #[audit(clear)] city: String) -> String {
    format!("saved {} and {} in {city}", email.len(), phone.len())
}

/// Always fails.
#[mcp_tool]
async fn broken() -> Result<String, ToolError> {
    Err(ToolError::msg("the backend is down"))
}

/// Panics.
#[mcp_tool]
async fn explode() -> String {
    panic!("boom")
}

/// Sleeps past its timeout.
#[mcp_tool(timeout = "100ms")]
async fn dawdle() -> String {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late".to_owned()
}

/// Once a minute.
#[mcp_tool(rate = "1/min")]
async fn rare() -> String {
    "rare".to_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-audit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(audit_file: &Path) -> Config {
    let mut config = Config::default();
    config.security.strategy = AuthStrategy::ApiKey;
    config.security.keys = ApiKeys::Inline(vec![
        ApiKeyEntry {
            id: "writer".into(),
            hash: mcp_runtime::auth::key_digest(KEY),
            scopes: vec!["contacts:write".into()],
        },
        // May scrape the metrics, nothing else.
        ApiKeyEntry {
            id: "reader".into(),
            hash: mcp_runtime::auth::key_digest(READER_KEY),
            scopes: vec!["mcp:metrics".into()],
        },
    ]);
    config.audit.destination = format!("file:{}", audit_file.display());
    config.audit.redact_fields = vec!["email".into(), "PHONE".into()];
    config.audit.hash_chain = true;
    config
}

struct Running {
    url: String,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn serve(server: Server) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pipeline = Pipeline::build(server).expect("the server starts");
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        serve_on(listener, pipeline, Flavor::Streamable, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Running { url: format!("http://{addr}/mcp"), stop, done }
}

impl Running {
    /// Stops the server the way SIGTERM does: drain, then flush the audit trail.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.unwrap();
    }
}

async fn call(c: &reqwest::Client, url: &str, key: Option<&str>, id: i64, tool: &str, arguments: Value) -> u16 {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": modern_meta()}});
    let mut r = c
        .post(url)
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&body);
    if let Some(key) = key {
        r = r.bearer_auth(key);
    }
    r.send().await.unwrap().status().as_u16()
}

/// The request records of an audit file (the hash chain's checkpoint lines are not requests).
fn records(path: &Path) -> Vec<Value> {
    let lines = std::fs::read_to_string(path).unwrap();
    let all = lines.lines().map(|l| serde_json::from_str::<Value>(l).unwrap());
    all.filter(|r| r.get("checkpoint").is_none()).collect()
}

/// Log lines written by the server under test (the runtime is single-threaded: every task logs here).
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_request_leaves_one_record_with_its_reason() {
    // Every span the run produces, through the SDK's in-memory exporter, and every log line down to debug.
    mcp_tests::global_registry();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test"))).with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || sink.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::DEBUG),
        );
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = temp("mixed");
    let file = dir.join("audit.log");
    std::fs::write(dir.join("hmac"), "an-hmac-key-for-the-audit-test").unwrap();
    let mut config = config(&file);
    config.audit.redact_key = Some(SecretRef::File(dir.join("hmac")));
    config.throttling.tools.insert("rare".into(), ToolThrottle::Rate("1/min".into()));
    let server = Server::new("audited", "0")
        .tool(save_contact::SPEC)
        .tool(broken::SPEC)
        .tool(explode::SPEC)
        .tool(dawdle::SPEC)
        .tool(rare::SPEC)
        .config(config);
    let s = serve(server).await;
    let c = reqwest::Client::new();
    let contact = json!({"email": "ada@example.com", "phone": "+1-555-0100", "city": "London"});
    let cases: Vec<(Option<&str>, &str, Value, &str)> = vec![
        (Some(KEY), "save_contact", contact.clone(), "ok"),
        (None, "save_contact", contact.clone(), "unauthenticated"),
        (Some("not-a-key"), "save_contact", contact.clone(), "unauthenticated"),
        (Some(READER_KEY), "save_contact", contact.clone(), "forbidden"),
        (Some(KEY), "save_contact", json!({"email": 7}), "invalid_arguments"),
        (Some(KEY), "no_such_tool", json!({}), "unknown_tool"),
        (Some(KEY), "rare", json!({}), "ok"),
        (Some(KEY), "rare", json!({}), "rate_limited"),
        (Some(KEY), "broken", json!({}), "tool_error"),
        (Some(KEY), "explode", json!({}), "panic"),
        (Some(KEY), "dawdle", json!({}), "timeout"),
    ];
    for (i, (key, tool, arguments, _)) in cases.iter().enumerate() {
        call(&c, &s.url, *key, i as i64 + 1, tool, arguments.clone()).await;
    }
    // The metrics count the same outcomes.
    let scraped = c.get(s.url.replace("/mcp", "/metrics")).bearer_auth(READER_KEY).send().await.unwrap();
    let metrics = scraped.text().await.unwrap();
    let count = |labels: &str| {
        let line = format!("mcp_server_operation_duration_seconds_count{{mcp_method_name=\"tools/call\"{labels}}} ");
        metrics.lines().find_map(|l| l.strip_prefix(line.as_str())).map(|n| n.parse::<u64>().unwrap())
    };
    for (labels, expected) in [
        (r#",gen_ai_tool_name="save_contact""#, 1),
        (r#",gen_ai_tool_name="save_contact",error_type="forbidden""#, 1),
        (r#",gen_ai_tool_name="save_contact",error_type="invalid_arguments""#, 1),
        (r#",error_type="unknown_tool""#, 1),
        (r#",gen_ai_tool_name="rare""#, 1),
        (r#",gen_ai_tool_name="rare",error_type="rate_limited""#, 1),
        (r#",gen_ai_tool_name="broken",error_type="tool_error""#, 1),
        (r#",gen_ai_tool_name="explode",error_type="panic""#, 1),
        (r#",gen_ai_tool_name="dawdle",error_type="timeout""#, 1),
    ] {
        assert_eq!(count(labels), Some(expected), "{labels} in\n{metrics}");
    }
    for line in [
        "mcp_server_auth_failures_total{reason=\"unauthenticated\"} 2",
        "mcp_server_auth_failures_total{reason=\"forbidden\"} 1",
        "mcp_server_rate_limit_rejections_total{limit=\"tool\"} 1",
        "mcp_server_refused_total{reason=\"unauthenticated\"} 2",
        "mcp_server_audit_dropped_total 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    s.stop().await;
    provider.force_flush().unwrap();
    let spans = format!("{:?}", exporter.get_finished_spans().unwrap());
    assert!(spans.contains("tools/call save_contact"), "the run was traced");
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("DEBUG"), "debug logs were captured");
    let secrets = ["ada@example.com", "+1-555-0100", KEY, READER_KEY, "not-a-key", "an-hmac-key"];
    for secret in secrets {
        assert!(!spans.contains(secret), "{secret} is in an exported span");
        assert!(!logs.contains(secret), "{secret} is in the logs");
        assert!(!metrics.contains(secret), "{secret} is in the metrics");
    }

    let records = records(&file);
    assert_eq!(records.len(), cases.len(), "one record per request: {records:#?}");
    let by_id: BTreeMap<i64, &Value> = records.iter().filter_map(|r| Some((r["request_id"].as_i64()?, r))).collect();
    for (i, (_, tool, _, reason)) in cases.iter().enumerate() {
        let id = i as i64 + 1;
        let record = by_id.get(&id).copied().or_else(|| {
            // Refused at the HTTP edge: the body was never read, so there is no id; match by order.
            records.iter().filter(|r| r["request_id"].is_null()).nth(usize::from(id == 3))
        });
        let record = record.unwrap_or_else(|| panic!("no record for case {id} ({tool})"));
        assert_eq!(record["reason"], *reason, "case {id} ({tool}): {record}");
        let decision = if matches!(*reason, "ok" | "tool_error" | "panic" | "timeout") { "allow" } else { "deny" };
        assert_eq!(record["decision"], decision, "{record}");
        for field in ["ts", "principal", "auth_method", "transport", "latency_us"] {
            assert!(!record[field].is_null(), "{field} in {record}");
        }
    }
    let ok = by_id[&1];
    assert_eq!(
        (ok["principal"].as_str(), ok["auth_method"].as_str(), ok["tool"].as_str()),
        (Some("writer"), Some("api-key"), Some("save_contact"))
    );
    assert_eq!(ok["transport"], "http");
    assert_eq!(ok["protocol_version"], "2026-07-28");
    assert_eq!(ok["arguments"]["city"], "London", "#[audit(clear)] keeps it");
    assert!(ok["arguments"]["email"].as_str().unwrap().starts_with("hmac-sha256:"));
    assert_eq!(ok["arguments"]["email"], by_id[&4]["arguments"]["email"], "equal values join");
    assert_eq!(ok["arguments_sha256"].as_str().map(str::len), Some(64));

    let text = std::fs::read_to_string(&file).unwrap();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} is in the audit file");
    }

    // The chain verifies under the server's key, and an edited line is named.
    let key = mcp_runtime::audit::ChainKey::new(b"an-hmac-key-for-the-audit-test");
    assert_eq!(mcp_runtime::audit::verify_with(&file, &key).unwrap().records, cases.len());
    let edited = text.replacen("\"reason\":\"forbidden\"", "\"reason\":\"ok\"", 1);
    let tampered = dir.join("tampered.log");
    std::fs::write(&tampered, edited).unwrap();
    let forbidden_line = text.lines().position(|l| l.contains("\"reason\":\"forbidden\"")).unwrap() + 1;
    let error = mcp_runtime::audit::verify_with(&tampered, &key).unwrap_err().to_string();
    assert!(error.starts_with(&format!("line {forbidden_line}:")), "{error}");
    // `--verify-audit` reads the key from the server's own configuration.
    let verifier_config = dir.join("verify.toml");
    let hmac = dir.join("hmac");
    std::fs::write(&verifier_config, format!("[audit]\nredact_key = \"${{file:{}}}\"\n", hmac.display())).unwrap();
    let out = Command::new(inventory_bin())
        .arg("--config")
        .arg(&verifier_config)
        .arg("--verify-audit")
        .arg(&tampered)
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains(&format!("line {forbidden_line}")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_stalled_sink_follows_each_full_policy() {
    for policy in [AuditOnFull::Drop, AuditOnFull::Reject, AuditOnFull::Block] {
        let dir = temp(&format!("{policy:?}"));
        let fifo = dir.join("audit.fifo");
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        // A reader that does not read until told to: the writer fills the pipe, then stalls.
        let reader_path = fifo.clone();
        let (read_now, told) = std::sync::mpsc::channel::<()>();
        let (opened, was_opened) = std::sync::mpsc::channel();
        let (lines_read, read) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let file = std::fs::File::open(reader_path).unwrap();
            opened.send(()).unwrap();
            if told.recv().is_ok() {
                use std::io::BufRead as _;
                let _ = lines_read.send(std::io::BufReader::new(file).lines().count());
            }
        });
        let mut config = config(&fifo);
        config.audit.hash_chain = false;
        config.audit.queue = 4;
        config.audit.on_full = policy;
        config.audit.block_timeout = Duration::from_millis(200);
        let s = serve(Server::new("stalled", "0").tool(broken::SPEC).config(config)).await;
        was_opened.recv_timeout(Duration::from_secs(10)).unwrap();
        let c = reqwest::Client::new();
        let mut statuses = Vec::new();
        for id in 0..400 {
            statuses.push(call(&c, &s.url, Some(KEY), id, "broken", json!({})).await);
        }
        let refused = statuses.iter().filter(|s| **s == 503).count();
        let answered = statuses.iter().filter(|s| **s == 200).count();
        eprintln!("{policy:?}: {refused} of 400 refused with 503");
        match policy {
            AuditOnFull::Drop => assert_eq!((answered, refused), (400, 0), "drop serves every request"),
            _ => assert!(refused > 0, "{policy:?}: a full queue refuses requests before they run"),
        }
        // Every request is answered, so every drop is counted by now.
        let scraped = c.get(s.url.replace("/mcp", "/metrics")).bearer_auth(READER_KEY).send().await.unwrap();
        let metrics = scraped.text().await.unwrap();
        let dropped: usize = metrics
            .lines()
            .find_map(|l| l.strip_prefix("mcp_server_audit_dropped_total "))
            .unwrap_or_else(|| panic!("no mcp_server_audit_dropped_total in\n{metrics}"))
            .parse()
            .unwrap();
        // The sink reads again; the server stops, writes what is queued and closes the pipe.
        read_now.send(()).unwrap();
        s.stop().await;
        let written = read.recv_timeout(mcp_tests::TIMEOUT).expect("the audit pipe was closed after the stop");
        eprintln!("{policy:?}: {answered} answered, {written} records written, {dropped} dropped");
        match policy {
            AuditOnFull::Drop => {
                assert!(dropped > 0, "the stalled sink made drop drop records");
                assert_eq!(dropped, answered - written, "each answered request without a record is counted");
            }
            _ => {
                assert_eq!(dropped, 0, "{policy:?} refuses rather than drops");
                assert_eq!(written, answered, "{policy:?}: every answered request has its record");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A `lookup_stock` call over a raw socket that is in flight until the test says: its headers ask
/// `Expect: 100-continue` and half its body is sent. The server answers "100 Continue" only once the request
/// passed the edge and its handler reads the body: the event that shows the request is inside the server.
struct HeldRequest {
    stream: std::net::TcpStream,
    rest: String,
}

/// The id of the [`HeldRequest`]; the load's ids stay below it.
const HELD_ID: i64 = 999_999;

impl HeldRequest {
    fn start(addr: &str) -> Self {
        use std::io::{Read as _, Write as _};
        let body = json!({"jsonrpc": "2.0", "id": HELD_ID, "method": "tools/call", "params": {
            "name": "list_warehouses", "arguments": {}, "_meta": modern_meta()}})
        .to_string();
        let (first, rest) = body.split_at(body.len() / 2);
        let head = format!(
            "POST /mcp HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {OPS_KEY}\r\ncontent-type: application/json\r\n\
             accept: application/json\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\n\
             mcp-name: list_warehouses\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n{first}",
            body.len()
        );
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(mcp_tests::TIMEOUT)).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
            let n = stream.read(&mut buf).expect("the server answers 100 Continue once the handler reads the body");
            assert!(n > 0, "the connection closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        let seen = String::from_utf8_lossy(&seen);
        assert!(seen.starts_with("HTTP/1.1 100"), "the request is inside the server: {seen}");
        Self { stream, rest: rest.to_owned() }
    }

    /// Sends the rest of the body; whether the answer was a success.
    fn finish(mut self) -> bool {
        use std::io::{Read as _, Write as _};
        self.stream.write_all(self.rest.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = self.stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        eprintln!("the request held across SIGTERM was answered: {}", answer.lines().next().unwrap_or("nothing"));
        answer.starts_with("HTTP/1.1 200")
    }
}

#[test]
fn sigterm_under_load_loses_no_record_of_an_answered_request() {
    let dir = temp("sigterm");
    let file = dir.join("audit.log");
    let destination = format!("file:{}", file.display());
    let mut server =
        NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_AUDIT__DESTINATION", destination.as_str())]);
    let url = format!("{}/mcp", server.base);
    // In flight when SIGTERM arrives, whatever the load below happens to be doing then.
    let held = HeldRequest::start(server.base.trim_start_matches("http://"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut answered: HashSet<i64> = runtime.block_on(async {
        let c = reqwest::Client::new();
        let so_far = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        // 20 clients, each calling one after another: the load is on when SIGTERM arrives.
        for client in 0..20i64 {
            let (c, url, so_far) = (c.clone(), url.clone(), Arc::clone(&so_far));
            tasks.push(tokio::spawn(async move {
                let mut answered = Vec::new();
                for n in 0..50i64 {
                    let id = client * 1000 + n;
                    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
                        "name": "list_warehouses", "arguments": {}, "_meta": modern_meta()}});
                    let sent = c
                        .post(&url)
                        .bearer_auth(OPS_KEY)
                        .header("accept", "application/json")
                        .header("mcp-protocol-version", "2026-07-28")
                        .header("mcp-method", "tools/call")
                        .header("mcp-name", "list_warehouses")
                        .json(&body)
                        .send()
                        .await;
                    let ok = match sent {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    if !ok {
                        break; // the server is going or gone
                    }
                    answered.push(id);
                    so_far.fetch_add(1, Ordering::SeqCst);
                }
                answered
            }));
        }
        let so_far = &so_far;
        mcp_tests::eventually("100 answers under load", || async move {
            (so_far.load(Ordering::SeqCst) >= 100).then_some(())
        })
        .await;
        let sent = Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
        assert!(sent.success());
        let mut answered = HashSet::new();
        for task in tasks {
            answered.extend(task.await.unwrap());
        }
        answered
    });
    // The held request completes only once the server is draining: it was in flight when SIGTERM arrived.
    assert!(server.logged("draining"), "the server logs that it drains");
    assert!(held.finish(), "a request in flight when SIGTERM arrived is answered within the shutdown grace");
    answered.insert(HELD_ID);
    assert!(server.exited().success(), "a clean exit after the drain");
    let recorded: HashSet<i64> = records(&file).iter().filter_map(|r| r["request_id"].as_i64()).collect();
    eprintln!("{} answered before and during shutdown, {} recorded", answered.len(), recorded.len());
    let missing: Vec<_> = answered.difference(&recorded).collect();
    assert!(missing.is_empty(), "answered but unrecorded: {missing:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A tool added while the server runs is recorded, redacted, traced and counted like one registered at
/// start: the layers read it from the live catalogue, not from a list made at start.
#[tokio::test]
async fn a_tool_added_while_running_is_audited_traced_and_counted() {
    mcp_tests::global_registry();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("t")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = temp("late");
    let file = dir.join("audit.log");
    let server = Server::new("audited", "0").tool(rare::SPEC).config(config(&file));
    let handle = server.handle();
    let s = serve(server).await;
    let late = mcp_runtime::server::Tool::builder("late_contact")
        .input_schema_json(json!({
            "type": "object",
            "properties": {"email": {"type": "string"}, "city": {"type": "string"}, "phone": {"type": "string"}}
        }))
        .scopes(["contacts:write"])
        .audit_redact(["city"])
        .audit_clear(["email"])
        .handler(|arguments, _ctx: Context| async move { format!("saved {}", arguments.len()) })
        .build()
        .unwrap();
    handle.add_tool(late).unwrap();
    let c = reqwest::Client::new();
    let arguments = json!({"email": "ada@example.com", "city": "London", "phone": "+1-555-0100"});
    assert_eq!(call(&c, &s.url, Some(KEY), 1, "late_contact", arguments).await, 200);
    assert_eq!(call(&c, &s.url, Some(READER_KEY), 2, "late_contact", json!({})).await, 403, "its scopes hold");
    let scraped = c.get(s.url.replace("/mcp", "/metrics")).bearer_auth(READER_KEY).send().await.unwrap();
    let metrics = scraped.text().await.unwrap();
    s.stop().await;
    provider.force_flush().unwrap();

    let records = records(&file);
    assert_eq!(records.len(), 2, "{records:#?}");
    let ok = &records[0];
    assert_eq!((ok["tool"].as_str(), ok["reason"].as_str()), (Some("late_contact"), Some("ok")), "{ok}");
    let recorded = &ok["arguments"];
    assert_eq!(recorded["email"], "ada@example.com", "audit_clear holds: {recorded}");
    assert_ne!(recorded["city"], "London", "audit_redact holds: {recorded}");
    assert_ne!(recorded["phone"], "+1-555-0100", "sensitive names stay redacted: {recorded}");
    assert_eq!(records[1]["reason"], "forbidden");
    let spans = format!("{:?}", exporter.get_finished_spans().unwrap());
    assert!(spans.contains("tools/call late_contact"), "traced: {spans}");
    let line = "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\",gen_ai_tool_name=\"late_contact\"} 1";
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
}
