//! `cargo mcp list | call` against the inventory example over stdio and Streamable HTTP (in `auto`, which
//! is 2026-07-28 with it, and in the handshake era; cli_stateless.rs has the rest of 2026-07-28), and the
//! live probes of `cargo mcp scan --url` against the inventory example served securely, served insecurely,
//! and against a deliberately flawed server written here. Hostile servers written here check that the CLI is a careful
//! client: no credential in a URL, none carried along a redirect, no answer read beyond its cap.

use std::collections::HashMap;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, cli_bin, inventory_bin, stderr_of as stderr, stdout_of as stdout};
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

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn bearer(key: &str) -> String {
    format!("Authorization: Bearer {key}")
}

fn assert_every_tool(out: &Output) {
    assert_eq!(code(out), 0, "stderr: {}", stderr(out));
    let table = stdout(out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five tools:\n{table}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("REQUIRED"), "{table}");
    let row = |name: &str| *lines.iter().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}:\n{table}"));
    assert!(row("adjust_stock").contains("[destructive]") && row("adjust_stock").ends_with("sku, warehouse_id, delta"));
    assert!(row("list_warehouses").contains("[read-only]") && row("list_warehouses").ends_with('-'), "{table}");
    let lookup = row("lookup_stock");
    assert!(lookup.contains("[read-only]") && lookup.contains("Retrieves current inventory levels"), "{table}");
    assert!(lookup.ends_with("sku"), "{table}");
    let maintenance = row("set_maintenance");
    assert!(maintenance.contains("[destructive, idempotent]") && maintenance.ends_with("enabled"), "{table}");
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

/// The revisions `list` and `call` are tested in here: `auto` (2026-07-28 with the inventory, which serves
/// both eras) and the handshake era; cli_stateless.rs checks which one each request came in.
const PROTOCOLS: [&str; 2] = ["auto", "2025-11-25"];

/// `args` with `--protocol PROTOCOL` after the subcommand.
fn speaking<'a>(protocol: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.splice(1..1, ["--protocol", protocol]);
    all
}

#[test]
fn list_and_call_the_inventory_over_stdio() {
    let inventory = inventory_bin();
    let server = inventory.to_str().unwrap();
    let ops = [("MCP_CLIENT_KEY", OPS_KEY)];
    for protocol in PROTOCOLS {
        let cli = |args: &[&str], env: &[(&str, &str)]| cli(&speaking(protocol, args), env);

        assert_every_tool(&cli(&["list", "--", server], &ops));
        assert_stock(&cli(&["call", "lookup_stock", "sku=ABC123", "--", server], &ops), 42);
        let out = cli(&["call", "lookup_stock", r#"{"sku": "ABC123", "warehouse_id": "WH-WEST"}"#, "--", server], &ops);
        assert_stock(&out, 2);
        assert_bad_sku(&cli(&["call", "lookup_stock", "sku=abc", "--", server], &ops));

        let raw = cli(&["call", "--json", "list_warehouses", "--", server], &ops);
        assert_eq!(code(&raw), 0, "{}", stderr(&raw));
        let result: Value = serde_json::from_str(&stdout(&raw)).unwrap();
        assert_eq!(result["structuredContent"]["result"][0]["id"], "WH-EAST", "{result}");
        let listed: Value = serde_json::from_str(&stdout(&cli(&["list", "--json", "--", server], &ops))).unwrap();
        assert_eq!(listed["tools"].as_array().unwrap().len(), 5);

        // The viewer may read but not adjust: −32011 on stdio.
        let viewer = [("MCP_CLIENT_KEY", VIEWER_KEY)];
        let out =
            cli(&["call", "adjust_stock", "sku=ABC123", "warehouse_id=WH-EAST", "delta=1", "--", server], &viewer);
        assert_eq!(code(&out), 1);
        assert!(stderr(&out).contains("JSON-RPC error -32011"), "{protocol}: {}", stderr(&out));

        // Without a key the server refuses to start: the client says it exited, the server says why. (`auto`
        // takes a server that exits at its probe for one of the handshake era, which may exit on a first
        // request that is not `initialize`, and starts it again for the handshake.)
        let out = cli(&["list", "--", server], &[]);
        assert_eq!(code(&out), 2);
        let err = stderr(&out);
        assert!(err.contains("closed its output before answering `initialize`"), "{protocol}: {err}");
        assert!(err.contains("exited with"), "{protocol}: {err}");
        assert!(err.contains("MCP_CLIENT_KEY"), "the server's own message passes through: {err}");
    }
}

#[test]
fn list_and_call_the_inventory_over_http() {
    for protocol in PROTOCOLS {
        // A server of its own for each revision: the calls below change its stock.
        let server = NetworkServer::start_with(&inventory_bin(), "http", &[]);
        let url = format!("{}/mcp", server.base);
        let ops = bearer(OPS_KEY);
        let cli = |args: &[&str], env: &[(&str, &str)]| cli(&speaking(protocol, args), env);
        let with_ops = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(["--url", &url, "--header", &ops]);
            cli(&all, &[])
        };

        assert_every_tool(&with_ops(&["list"]));
        assert_stock(&with_ops(&["call", "lookup_stock", "sku=ABC123"]), 42);
        assert_bad_sku(&with_ops(&["call", "lookup_stock", "sku=abc"]));
        // adjust_stock logs to the client before it answers: the answer comes on an SSE stream.
        assert_stock(&with_ops(&["call", "adjust_stock", "sku=ABC123", "warehouse_id=WH-EAST", "delta=-1"]), 39);
        assert_stock(&with_ops(&["call", "lookup_stock", "sku=ABC123", "warehouse_id=WH-EAST"]), 39);

        let out = cli(&["list", "--url", &url], &[]);
        assert_eq!(code(&out), 1);
        let err = stderr(&out);
        assert!(err.contains("HTTP 401 Unauthorized") && err.contains("--header"), "{protocol}: {err}");
        let out = cli(&["list", "--url", &url, "--header", &bearer("not-a-key")], &[]);
        assert_eq!(code(&out), 1);
        let err = stderr(&out);
        assert!(err.contains("HTTP 401 Unauthorized: the credentials sent were refused"), "{protocol}: {err}");
        let viewer = bearer(VIEWER_KEY);
        let out = cli(
            &[
                "call",
                "adjust_stock",
                "sku=ABC123",
                "warehouse_id=WH-EAST",
                "delta=1",
                "--url",
                &url,
                "--header",
                &viewer,
            ],
            &[],
        );
        assert_eq!(code(&out), 1);
        assert!(stderr(&out).contains("HTTP 403 Forbidden"), "{protocol}: {}", stderr(&out));

        let audit = server.logs();
        assert!(!audit.contains(OPS_KEY), "no key is ever logged");
    }
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
/// session ids, a panic message in its error bodies, no Host check and no rate limit. It records the target
/// (path and query) of every request it is sent.
#[derive(Clone, Default)]
struct Flawed {
    sessions: Arc<AtomicU64>,
    targets: Arc<Mutex<Vec<String>>>,
}

async fn record_target(State(flawed): State<Flawed>, request: Request, next: Next) -> Response {
    flawed.targets.lock().unwrap().push(request.uri().to_string());
    next.run(request).await
}

async fn flawed_mcp(
    State(flawed): State<Flawed>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: String,
) -> Response {
    // The bearer token of the header, else `?access_token=`; refused the way RFC 6750 says: no error code
    // without a credential, `invalid_token` for a wrong one.
    let bearer = headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "));
    match bearer.or(query.get("access_token").map(String::as_str)) {
        Some("flawed-secret") => {}
        Some(_) => {
            let challenge = [(header::WWW_AUTHENTICATE, "Bearer realm=\"flawed\", error=\"invalid_token\"")];
            return (StatusCode::UNAUTHORIZED, challenge, "{\"error\":\"invalid token\"}").into_response();
        }
        None => {
            let challenge = [(header::WWW_AUTHENTICATE, "Bearer realm=\"flawed\"")];
            return (StatusCode::UNAUTHORIZED, challenge, "{\"error\":\"unauthorized\"}").into_response();
        }
    }
    if method == Method::DELETE {
        return StatusCode::OK.into_response();
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
    let flawed = Flawed::default();
    let app = axum::Router::new()
        .route("/mcp", axum::routing::post(flawed_mcp).delete(flawed_mcp))
        .layer(axum::middleware::from_fn_with_state(flawed.clone(), record_target))
        .with_state(flawed.clone());
    let url = format!("{}/mcp", serve(app).await);

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
    // MCP302 was found with a dummy: the real credential never went into a URL.
    let targets = flawed.targets.lock().unwrap();
    assert!(targets.iter().any(|t| t.contains("access_token=")), "the probe ran: {targets:?}");
    assert!(
        !targets.iter().any(|t| t.contains("flawed-secret")),
        "a request target carries the credential: {targets:?}"
    );
}

/// Serves `app` on a fresh loopback port; returns its base URL (`http://127.0.0.1:PORT`).
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Runs `cargo-mcp ARGS` off the test's runtime (whose servers must keep answering meanwhile).
async fn cli_off_runtime(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || cli(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_follows_a_redirect_to_another_origin() {
    // The other origin records every header value it is sent.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = Arc::clone(&seen);
    let elsewhere = axum::Router::new().fallback(move |headers: HeaderMap| {
        let record = Arc::clone(&record);
        async move {
            record.lock().unwrap().extend(headers.values().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()));
            StatusCode::OK
        }
    });
    let location = format!("{}/mcp", serve(elsewhere).await);
    let to = location.clone();
    let redirector = axum::Router::new().fallback(move || {
        let to = to.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]) }
    });
    let url = format!("{}/mcp", serve(redirector).await);

    let secret = "redirect-secret-5e2c";
    let credentials = [format!("Authorization: Bearer {secret}"), format!("X-Api-Key: {secret}")];
    for command in [&["list"][..], &["call", "echo"], &["scan", "--format", "json"]] {
        let mut args: Vec<String> = command.iter().map(|a| (*a).to_owned()).collect();
        args.extend(["--url".to_owned(), url.clone()]);
        for credential in &credentials {
            args.extend(["--header".to_owned(), credential.clone()]);
        }
        let out = cli_off_runtime(args).await;
        let reached = seen.lock().unwrap().clone();
        assert!(
            !reached.iter().any(|v| v.contains(secret)),
            "{command:?}: a credential reached the other origin: {reached:?}"
        );
        assert_eq!(code(&out), 2, "{command:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("HTTP 307 redirects to {location}")) && err.contains("--url"),
            "{command:?}: {err}"
        );
    }
}

/// What a flooding server sends: JSON, or one SSE event, of a `result` whose padding never ends.
#[derive(Clone, Copy)]
enum Flood {
    Json,
    Sse,
}

/// A server answering every POST with a body that does not end before 256 MiB (far beyond the CLI's 16 MiB
/// cap; a bound only so that a CLI without a cap cannot exhaust the test machine's memory), counting the
/// bytes it gets to send.
fn flooding(kind: Flood, sent: Arc<AtomicU64>) -> axum::Router {
    const CHUNK: usize = 64 * 1024;
    const TOTAL: u64 = 256 << 20;
    axum::Router::new().fallback(move || {
        let sent = Arc::clone(&sent);
        async move {
            let (content_type, head) = match kind {
                Flood::Json => (
                    "application/json",
                    r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","padding":""#,
                ),
                Flood::Sse => (
                    "text/event-stream",
                    r#"data: {"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","padding":""#,
                ),
            };
            let tail = match kind {
                Flood::Json => "\"}}",
                Flood::Sse => "\"}}\n\n",
            };
            let chunks = futures_util::stream::unfold(Some(0u64), move |at| {
                let sent = Arc::clone(&sent);
                async move {
                    let at = at?;
                    let chunk = match at {
                        0 => head.as_bytes().to_vec(),
                        at if at >= TOTAL => tail.as_bytes().to_vec(),
                        _ => vec![b'a'; CHUNK],
                    };
                    let len = chunk.len() as u64;
                    sent.fetch_add(len, Ordering::SeqCst);
                    let next = (at < TOTAL).then_some(at + len);
                    Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)), next))
                }
            });
            ([(header::CONTENT_TYPE, content_type)], axum::body::Body::from_stream(chunks))
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_beyond_the_cap_ends_the_command() {
    for kind in [Flood::Json, Flood::Sse] {
        let sent = Arc::new(AtomicU64::new(0));
        let url = format!("{}/mcp", serve(flooding(kind, Arc::clone(&sent))).await);
        let out = cli_off_runtime(vec!["list".into(), "--url".into(), url.clone()]).await;
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("larger than 16 MiB"), "{err}");
        assert!(err.len() < 4096, "the answer is not echoed: {} bytes of stderr", err.len());
        // The CLI stopped reading at its cap: what the server got out is the cap plus what the sockets'
        // buffers held, far from the whole body.
        let sent = sent.load(Ordering::SeqCst);
        assert!(sent < 64 << 20, "the server sent {sent} bytes before the CLI stopped reading");
    }
}

#[test]
fn a_stdio_line_beyond_the_cap_ends_the_command() {
    let out = cli(&["list", "--", "sh", "-c", "head -c 40000000 /dev/zero | tr '\\0' a"], &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("a line of the server's output (sh) is larger than 16 MiB"), "{err}");
    assert!(err.len() < 4096, "the line is not echoed: {} bytes of stderr", err.len());
}
