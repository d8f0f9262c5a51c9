//! `cargo mcp list | call` against the inventory example over stdio and Streamable HTTP, and the live probes
//! of `cargo mcp scan --url` against the inventory example served securely, served insecurely, and against
//! a deliberately flawed server written here.

use std::collections::HashMap;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, cli_bin, inventory_bin};
use serde_json::{Value, json};

/// Runs `cargo-mcp ARGS` with extra environment variables; `MCP_CLIENT_KEY` is never inherited.
fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(cli_bin())
        .args(args)
        .env_remove("MCP_CLIENT_KEY")
        .envs(env.iter().copied())
        .output()
        .expect("cargo-mcp runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn bearer(key: &str) -> String {
    format!("Authorization: Bearer {key}")
}

fn assert_three_tools(out: &Output) {
    assert_eq!(code(out), 0, "stderr: {}", stderr(out));
    let table = stdout(out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three tools:\n{table}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("REQUIRED"), "{table}");
    let row = |name: &str| *lines.iter().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}:\n{table}"));
    assert!(row("adjust_stock").contains("[destructive]") && row("adjust_stock").ends_with("sku, warehouse_id, delta"));
    assert!(row("list_warehouses").contains("[read-only]") && row("list_warehouses").ends_with('-'), "{table}");
    let lookup = row("lookup_stock");
    assert!(lookup.contains("[read-only]") && lookup.contains("Retrieves current inventory levels"), "{table}");
    assert!(lookup.ends_with("sku"), "{table}");
}

fn assert_stock(out: &Output, on_hand: i64) {
    assert_eq!(code(out), 0, "stderr: {}", stderr(out));
    let printed: Value = serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)));
    assert_eq!(printed["on_hand"], on_hand, "{printed}");
}

fn assert_bad_sku(out: &Output) {
    assert_eq!(code(out), 1, "a tool error exits 1; stdout: {}", stdout(out));
    let err = stderr(out);
    assert!(err.contains("tool `lookup_stock` failed"), "{err}");
    assert!(err.contains(r#"`sku`: "abc" does not match "^[A-Z0-9]{5,12}$""#), "{err}");
}

#[test]
fn list_and_call_the_inventory_over_stdio() {
    let inventory = inventory_bin();
    let server = inventory.to_str().unwrap();
    let ops = [("MCP_CLIENT_KEY", OPS_KEY)];

    assert_three_tools(&cli(&["list", "--", server], &ops));
    assert_stock(&cli(&["call", "lookup_stock", "sku=ABC123", "--", server], &ops), 42);
    let out = cli(&["call", "lookup_stock", r#"{"sku": "ABC123", "warehouse_id": "WH-WEST"}"#, "--", server], &ops);
    assert_stock(&out, 2);
    assert_bad_sku(&cli(&["call", "lookup_stock", "sku=abc", "--", server], &ops));

    let raw = cli(&["call", "--json", "list_warehouses", "--", server], &ops);
    assert_eq!(code(&raw), 0, "{}", stderr(&raw));
    let result: Value = serde_json::from_str(&stdout(&raw)).unwrap();
    assert_eq!(result["structuredContent"]["result"][0]["id"], "WH-EAST", "{result}");
    let listed: Value = serde_json::from_str(&stdout(&cli(&["list", "--json", "--", server], &ops))).unwrap();
    assert_eq!(listed["tools"].as_array().unwrap().len(), 3);

    // The viewer may read but not adjust: −32011 on stdio.
    let viewer = [("MCP_CLIENT_KEY", VIEWER_KEY)];
    let out = cli(&["call", "adjust_stock", "sku=ABC123", "warehouse_id=WH-EAST", "delta=1", "--", server], &viewer);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("JSON-RPC error -32011"), "{}", stderr(&out));

    // Without a key the server refuses to start: the client says it exited, the server says why.
    let out = cli(&["list", "--", server], &[]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("closed its output before answering `initialize`") && err.contains("exited with"), "{err}");
    assert!(err.contains("MCP_CLIENT_KEY"), "the server's own message passes through: {err}");
}

#[test]
fn list_and_call_the_inventory_over_http() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[]);
    let url = format!("{}/mcp", server.base);
    let ops = bearer(OPS_KEY);
    let with_ops = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--url", &url, "--header", &ops]);
        cli(&all, &[])
    };

    assert_three_tools(&with_ops(&["list"]));
    assert_stock(&with_ops(&["call", "lookup_stock", "sku=ABC123"]), 42);
    assert_bad_sku(&with_ops(&["call", "lookup_stock", "sku=abc"]));
    // adjust_stock logs to the client before it answers: the answer comes on an SSE stream.
    assert_stock(&with_ops(&["call", "adjust_stock", "sku=ABC123", "warehouse_id=WH-EAST", "delta=-1"]), 39);
    assert_stock(&with_ops(&["call", "lookup_stock", "sku=ABC123", "warehouse_id=WH-EAST"]), 39);

    let out = cli(&["list", "--url", &url], &[]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("HTTP 401 Unauthorized") && err.contains("--header"), "{err}");
    let out = cli(&["list", "--url", &url, "--header", &bearer("not-a-key")], &[]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("HTTP 401 Unauthorized: the credentials sent were refused"), "{}", stderr(&out));
    let viewer = bearer(VIEWER_KEY);
    let out = cli(
        &["call", "adjust_stock", "sku=ABC123", "warehouse_id=WH-EAST", "delta=1", "--url", &url, "--header", &viewer],
        &[],
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("HTTP 403 Forbidden"), "{}", stderr(&out));

    let audit = server.logs();
    assert!(!audit.contains(OPS_KEY), "no key is ever logged");
}

#[test]
fn unreachable_silent_and_misused_targets_say_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = cli(&["list", "--url", &format!("http://127.0.0.1:{port}/mcp")], &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("cannot connect to"), "{}", stderr(&out));

    let out = cli(&["list", "--timeout", "1", "--", "sleep", "30"], &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no answer to `initialize` within 1s"), "{}", stderr(&out));

    let out = cli(&["call", "x", "nokey", "--", "true"], &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("expected key=value"), "{}", stderr(&out));
    let out = cli(&["list"], &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--url URL") && stderr(&out).contains("-- CMD"), "{}", stderr(&out));
}

/// `cargo mcp scan --url URL --format json …`: the live probes' findings (rules `MCP3xx`), and stderr.
fn probe_findings(url: &str, extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["scan", "--url", url, "--format", "json", "--fail-on", "critical"];
    args.extend_from_slice(extra);
    let out = cli(&args, &[]);
    assert!(matches!(code(&out), 0 | 1), "stderr: {}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    let findings = report.as_array().or_else(|| report["findings"].as_array()).expect("a list of findings");
    let live = findings.iter().filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("MCP3"))).cloned().collect();
    (live, stderr(&out))
}

fn rules(findings: &[Value]) -> Vec<&str> {
    let mut rules: Vec<&str> = findings.iter().filter_map(|f| f["rule"].as_str()).collect();
    rules.sort_unstable();
    rules
}

#[test]
fn the_secure_inventory_has_no_high_or_critical_live_finding() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[]);
    let url = format!("{}/mcp", server.base);
    let ops = bearer(OPS_KEY);
    let (findings, _) = probe_findings(&url, &["--header", &ops]);
    assert!(findings.iter().all(|f| f["severity"] == "medium" || f["severity"] == "low"), "{findings:#?}");
    // list_warehouses, the read-only tool without arguments, has no rate limit: the burst says so.
    assert_eq!(rules(&findings), ["MCP304"], "{findings:#?}");
    assert!(findings[0]["message"].as_str().unwrap().contains("`list_warehouses`"), "{findings:#?}");
    // lookup_stock needs a sku: empty arguments would only fail validation, so the burst refuses it.
    let (findings, notes) = probe_findings(&url, &["--header", &ops, "--probe-tool", "lookup_stock"]);
    assert!(rules(&findings).is_empty(), "{findings:#?}");
    assert!(notes.contains("MCP304 skipped: `lookup_stock` requires arguments (sku)"), "{notes}");
}

#[test]
fn a_rate_limit_clears_the_burst_finding() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_THROTTLING__DEFAULT_TOOL", "20/min")]);
    let (findings, notes) = probe_findings(&format!("{}/mcp", server.base), &["--header", &bearer(OPS_KEY)]);
    assert!(rules(&findings).is_empty(), "{findings:#?}\n{notes}");
    assert!(!notes.contains("MCP304"), "the burst ran and was cut off: {notes}");
}

#[test]
fn an_insecure_inventory_is_reported() {
    let env = [
        ("MCP_SECURITY__STRATEGY", "none"),
        ("MCP_HTTP__ALLOWED_HOSTS", r#"["127.0.0.1", "attacker.example"]"#),
        ("MCP_HTTP__ALLOWED_ORIGINS", r#"["http://127.0.0.1", "http://attacker.example"]"#),
    ];
    let server = NetworkServer::start_with(&inventory_bin(), "http", &env);
    let (findings, _) = probe_findings(&format!("{}/mcp", server.base), &[]);
    assert_eq!(rules(&findings), ["MCP301", "MCP303", "MCP303", "MCP304"], "{findings:#?}");
    let of = |rule: &str| findings.iter().filter(|f| f["rule"] == rule).cloned().collect::<Vec<_>>();
    assert_eq!(of("MCP301")[0]["severity"], "critical");
    let rebinding: Vec<String> = of("MCP303").iter().map(|f| f["message"].as_str().unwrap().to_owned()).collect();
    assert!(rebinding.iter().any(|m| m.contains("Host: attacker.example")), "{rebinding:?}");
    assert!(rebinding.iter().any(|m| m.contains("Origin: http://attacker.example")), "{rebinding:?}");
    assert!(of("MCP303").iter().all(|f| f["severity"] == "high" && f["location"]["kind"] == "url"));
    assert!(findings.iter().all(|f| f["fix"].as_str().is_some_and(|fix| !fix.is_empty())));
}

/// A server with the flaws the runtime cannot have: a credential accepted in the query string, counting
/// session ids, a panic message in its error bodies, no Host check and no rate limit.
#[derive(Clone, Default)]
struct Flawed {
    sessions: Arc<AtomicU64>,
}

async fn flawed_mcp(
    State(flawed): State<Flawed>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header_ok = headers.get("authorization").and_then(|h| h.to_str().ok()) == Some("Bearer flawed-secret");
    if !header_ok && query.get("access_token").map(String::as_str) != Some("flawed-secret") {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"unauthorized\"}").into_response();
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        let panic = "thread 'tokio-runtime-worker' panicked at src/handlers/mcp.rs:88:41:\ncalled \
                     `Result::unwrap()` on an `Err` value: Error(\"EOF while parsing\")";
        return (StatusCode::INTERNAL_SERVER_ERROR, panic).into_response();
    };
    let id = request.get("id").cloned();
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    let result = match method.as_str() {
        "initialize" => {
            let n = flawed.sessions.fetch_add(1, Ordering::SeqCst);
            let answer = json!({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}}, "serverInfo": {"name": "flawed", "version": "0"}}});
            return ([("mcp-session-id", format!("session-{n:012}"))], axum::Json(answer)).into_response();
        }
        _ if id.is_none() => return StatusCode::ACCEPTED.into_response(),
        "tools/list" => {
            json!({"tools": [{"name": "echo", "description": "Echoes.", "annotations": {"readOnlyHint": true},
            "inputSchema": {"type": "object", "properties": {}}}]})
        }
        "tools/call" => json!({"content": [{"type": "text", "text": "echo"}]}),
        "ping" => json!({}),
        other => {
            let error = json!({"code": -32601, "message": format!("unknown method {other}")});
            return axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": error})).into_response();
        }
    };
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flawed_server_is_reported_with_the_rule_of_each_flaw() {
    let app = axum::Router::new()
        .route("/mcp", axum::routing::post(flawed_mcp).delete(|| async { StatusCode::OK }))
        .with_state(Flawed::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (findings, _) =
        tokio::task::spawn_blocking(move || probe_findings(&url, &["--header", "Authorization: Bearer flawed-secret"]))
            .await
            .unwrap();
    // Malformed JSON and a 4096-digit id (out of serde_json's range) both make it "panic".
    let expected = ["MCP302", "MCP303", "MCP303", "MCP304", "MCP305", "MCP306", "MCP306"];
    assert_eq!(rules(&findings), expected, "{findings:#?}");
    let message = |rule: &str| {
        findings.iter().find(|f| f["rule"] == rule).and_then(|f| f["message"].as_str()).unwrap_or_default().to_owned()
    };
    assert!(message("MCP302").contains("?access_token="), "{findings:#?}");
    assert!(message("MCP305").contains("count up"), "{findings:#?}");
    let leaks: Vec<&str> =
        findings.iter().filter(|f| f["rule"] == "MCP306").filter_map(|f| f["message"].as_str()).collect();
    assert!(leaks.iter().all(|m| m.contains("\"panicked at\"")), "{leaks:?}");
    assert!(leaks[0].contains("malformed JSON") && leaks[1].contains("a huge id"), "{leaks:?}");
    assert!(!findings.iter().any(|f| f.to_string().contains("flawed-secret")), "the credential is never reported");
}
