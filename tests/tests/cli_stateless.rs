//! `cargo mcp list | call` in 2026-07-28 (`--protocol 2026-07-28`, and `auto`, the default): against the
//! inventory example over stdio and Streamable HTTP (the server's audit records say which revision each
//! request came in), against the conformance server's elicitation tool, against a 2026-07-28 server
//! written here that records what the CLI sends (`_meta`, headers, the input rounds), and `auto` against
//! servers of the handshake era written here (the runtime serves both eras and cannot be limited to one).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mcp_tests::{
    NetworkServer, OPS_KEY, cli_bin, conformance_bin, inventory_bin, stderr_of as stderr, stdout_of as stdout,
};
use serde_json::{Value, json};

/// Runs `cargo-mcp ARGS` in `dir` with extra environment variables; `MCP_CLIENT_KEY` is never inherited.
fn cli_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(cli_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("MCP_CLIENT_KEY")
        .envs(env.iter().copied())
        .output()
        .expect("cargo-mcp runs")
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    cli_in(&std::env::temp_dir(), args, env)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn json_out(out: &Output) -> Value {
    assert_eq!(code(out), 0, "stderr: {}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// The inventory's table: a header and five tools, whatever the era.
fn assert_every_tool(out: &Output) {
    assert_eq!(code(out), 0, "stderr: {}", stderr(out));
    let table = stdout(out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five tools:\n{table}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("REQUIRED"), "{table}");
    assert!(lines.iter().any(|l| l.starts_with("lookup_stock") && l.contains("[read-only]") && l.ends_with("sku")));
}

/// The audit records (one JSON line each) in `text` for `method`: their `protocol_version`s.
fn audited_versions(text: &str, method: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.get(line.find('{')?..)?).ok())
        .filter(|record| record["method"] == method)
        .filter_map(|record| record["protocol_version"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_inventory_over_stdio_speaks_2026_07_28_when_asked_and_by_default() {
    let inventory = inventory_bin();
    let server = inventory.to_str().unwrap();
    let ops = [("MCP_CLIENT_KEY", OPS_KEY)];
    for protocol in ["2026-07-28", "auto"] {
        let out = cli(&["list", "--protocol", protocol, "--", server], &ops);
        assert_every_tool(&out);
        // The server's stderr (its audit trail) comes through the CLI's.
        assert_eq!(audited_versions(&stderr(&out), "tools/list"), ["2026-07-28"], "{protocol}: {}", stderr(&out));

        let out = cli(&["call", "--protocol", protocol, "--json", "lookup_stock", "sku=ABC123", "--", server], &ops);
        let result = json_out(&out);
        assert_eq!(result["structuredContent"]["on_hand"], 42, "{result}");
        assert!(
            result.get("resultType").is_none() && result.get("_meta").is_none(),
            "no 2026-07-28 envelope: {result}"
        );
        assert_eq!(audited_versions(&stderr(&out), "tools/call"), ["2026-07-28"], "{}", stderr(&out));
    }
    // The handshake era on request, and the same output for scripts.
    let out = cli(&["call", "--protocol", "2025-11-25", "--json", "lookup_stock", "sku=ABC123", "--", server], &ops);
    let handshake = json_out(&out);
    assert_eq!(audited_versions(&stderr(&out), "tools/call"), ["2025-11-25"], "{}", stderr(&out));
    let out = cli(&["call", "--protocol", "2026-07-28", "--json", "lookup_stock", "sku=ABC123", "--", server], &ops);
    assert_eq!(json_out(&out), handshake, "the same JSON in both eras");
    let out = cli(&["call", "--protocol", "2026-07-28", "lookup_stock", "sku=ABC123", "--", server], &ops);
    let out_handshake = cli(&["call", "--protocol", "2025-11-25", "lookup_stock", "sku=ABC123", "--", server], &ops);
    assert_eq!(stdout(&out), stdout(&out_handshake), "the same text in both eras");

    // A tool error and a refusal read as in the handshake era.
    let out = cli(&["call", "--protocol", "2026-07-28", "lookup_stock", "sku=abc", "--", server], &ops);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("tool `lookup_stock` failed"), "{}", stderr(&out));
}

#[test]
fn the_inventory_over_http_speaks_2026_07_28_when_asked_and_by_default() {
    // The audit records on stderr, which the harness keeps.
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_AUDIT__DESTINATION", "stderr")]);
    let url = format!("{}/mcp", server.base);
    let ops = format!("Authorization: Bearer {OPS_KEY}");
    let run = |protocol: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--protocol", protocol, "--url", &url, "--header", &ops]);
        cli(&all, &[])
    };
    for protocol in ["2026-07-28", "auto"] {
        assert_every_tool(&run(protocol, &["list"]));
        let result =
            json_out(&run(protocol, &["call", "--json", "lookup_stock", "sku=ABC123", "warehouse_id=WH-WEST"]));
        assert_eq!(result["structuredContent"]["on_hand"], 2, "{result}");
        assert!(result.get("resultType").is_none(), "{result}");
        // adjust_stock logs to the client before it answers: the answer comes on an SSE stream.
        let out = run(protocol, &["call", "--json", "adjust_stock", "sku=ABC123", "warehouse_id=WH-EAST", "delta=-1"]);
        assert!(json_out(&out)["structuredContent"]["on_hand"].is_i64(), "{}", stdout(&out));
    }
    let out = cli(&["list", "--protocol", "2026-07-28", "--url", &url], &[]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("HTTP 401 Unauthorized") && stderr(&out).contains("--header"), "{}", stderr(&out));
    let out = run("2025-11-25", &["list"]);
    assert_every_tool(&out);

    let logs = server.logs();
    // Each 2026-07-28 `call` over HTTP lists the tools first, for the headers their schemas ask for.
    let mut expected = vec!["2026-07-28"; 6];
    expected.push("2025-11-25");
    assert_eq!(audited_versions(&logs, "tools/list"), expected, "{logs}");
    assert_eq!(audited_versions(&logs, "tools/call"), ["2026-07-28"; 4], "{logs}");
    assert!(audited_versions(&logs, "initialize").iter().all(|v| v == "2025-11-25"), "a handshake only when asked");
}

#[test]
fn elicitation_is_declined_without_a_terminal_in_either_transport() {
    let conformance = conformance_bin();
    let server = conformance.to_str().unwrap();
    let out = cli(&["call", "test_elicitation", "message=Who are you?", "--", server], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "User response: <action: \"decline\", content: null>");
    assert!(stderr(&out).contains("stdin is not a terminal, so cargo mcp declined: Who are you?"), "{}", stderr(&out));

    let network = NetworkServer::start_with(&conformance, "http", &[]);
    let url = format!("{}/mcp", network.base);
    let out = cli(&["call", "test_elicitation", "message=Who?", "--url", &url, "--protocol", "2026-07-28"], &[]);
    assert_eq!(stdout(&out).trim(), "User response: <action: \"decline\", content: null>", "{}", stderr(&out));
    // Sampling is not declared: the server does not ask, and says the call needs it.
    let out = cli(&["call", "test_sampling", "prompt=hi", "--url", &url], &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("sampling"), "{}", stderr(&out));
}

/// What a server written here saw of one request: its headers (lowercase names) and its body.
#[derive(Debug, Clone)]
struct Seen {
    headers: HeaderMap,
    body: Value,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Serves `app` on a fresh loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Runs `cargo-mcp ARGS` in `dir` off the test's runtime (whose servers must keep answering meanwhile).
async fn cli_off_runtime(dir: &Path, args: &[&str]) -> Output {
    let (dir, args): (std::path::PathBuf, Vec<String>) =
        (dir.to_owned(), args.iter().map(|a| (*a).to_owned()).collect());
    tokio::task::spawn_blocking(move || cli_in(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>(), &[]))
        .await
        .unwrap()
}

/// A 2026-07-28 server: two pages of tools; `where_am_i` asks for the roots, then (a second round, with a
/// new state) for a confirmation; `forever` always asks again; `sampler` asks for what the CLI did not
/// declare; `regional` mirrors its `region` into `Mcp-Param-Region`; `größe` has a name that is not ASCII.
async fn stateless_mcp(State(log): State<Log>, headers: HeaderMap, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap();
    log.lock().unwrap().push(Seen { headers, body: request.clone() });
    let params = &request["params"];
    let complete = |text: String| json!({"resultType": "complete", "content": [{"type": "text", "text": text}]});
    let ask = |requests: Value, state: &str| json!({"resultType": "input_required", "inputRequests": requests, "requestState": state});
    let result = match request["method"].as_str().unwrap_or_default() {
        "server/discover" => json!({"resultType": "complete", "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}}, "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}}),
        "tools/list" if params["cursor"] == "page-2" => json!({"resultType": "complete", "tools": [
            {"name": "forever", "inputSchema": {"type": "object"}},
            {"name": "sampler", "inputSchema": {"type": "object"}},
            {"name": "größe", "inputSchema": {"type": "object"}},
        ]}),
        "tools/list" => json!({"resultType": "complete", "nextCursor": "page-2", "tools": [
            {"name": "where_am_i", "inputSchema": {"type": "object"}},
            {"name": "regional", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}, "query": {"type": "string"}}}},
            {"name": "broken", "inputSchema": {"type": "object", "properties": {
                "ratio": {"type": "number", "x-mcp-header": "Ratio"}}}},
        ]}),
        "tools/call" => match (params["name"].as_str().unwrap_or_default(), params["requestState"].as_str()) {
            ("where_am_i", None) => ask(json!({"cwd": {"method": "roots/list", "params": {}}}), "state-1"),
            ("where_am_i", Some("state-1")) => {
                let confirm = json!({"method": "elicitation/create", "params": {"message": "Go on?",
                    "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}});
                ask(json!({"confirm": confirm}), "state-2")
            }
            ("where_am_i", Some("state-2")) => {
                complete(format!("{} {}", params["inputResponses"]["confirm"]["action"], params["inputResponses"]))
            }
            ("forever", _) => ask(json!({"cwd": {"method": "roots/list", "params": {}}}), "again"),
            ("sampler", _) => {
                ask(json!({"llm": {"method": "sampling/createMessage", "params": {"messages": []}}}), "s")
            }
            ("regional", _) => complete(format!("region {}", params["arguments"]["region"])),
            (name, _) => complete(format!("called {name}")),
        },
        other => {
            let error = json!({"code": -32601, "message": format!("unknown method {other}")});
            let answer = json!({"jsonrpc": "2.0", "id": request["id"], "error": error});
            return (StatusCode::NOT_FOUND, axum::Json(answer)).into_response();
        }
    };
    axum::Json(json!({"jsonrpc": "2.0", "id": request["id"], "result": result})).into_response()
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_what_2026_07_28_asks_and_answers_input_requests() {
    let log = Log::default();
    let app = axum::Router::new().route("/mcp", axum::routing::post(stateless_mcp)).with_state(Arc::clone(&log));
    let url = format!("{}/mcp", serve(app).await);
    let dir = std::env::temp_dir().join(format!("cli-stateless-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let taken = |log: &Log| std::mem::take(&mut *log.lock().unwrap());

    // Both pages; the tool whose x-mcp-header breaks the rules (on a number) is left out, with a warning.
    let out = cli_off_runtime(&dir, &["list", "--json", "--url", &url]).await;
    let names: Vec<String> =
        json_out(&out)["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["where_am_i", "regional", "forever", "sampler", "größe"]);
    assert!(stderr(&out).contains("warning: tool `broken` left out"), "{}", stderr(&out));
    let seen = taken(&log);
    let methods: Vec<&str> = seen.iter().map(|s| s.body["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["server/discover", "tools/list", "tools/list"]);
    for s in &seen {
        let meta = &s.body["params"]["_meta"];
        assert_eq!(meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28", "{}", s.body);
        assert_eq!(meta["io.modelcontextprotocol/clientInfo"]["name"], "cargo-mcp", "{}", s.body);
        assert_eq!(meta["io.modelcontextprotocol/clientCapabilities"], json!({}), "list answers nothing: {}", s.body);
        assert_eq!(header(s, "mcp-protocol-version"), Some("2026-07-28"));
        assert_eq!(header(s, "mcp-method"), s.body["method"].as_str());
        assert_eq!(header(s, "mcp-name"), None);
        assert_eq!(header(s, "mcp-session-id"), None, "no session");
    }
    assert_eq!(seen[2].body["params"]["cursor"], "page-2");

    // Two rounds of input: the roots (this directory), then a form, declined without a terminal; each
    // retry has a new id, echoes the state it was given and answers only what was asked.
    let out = cli_off_runtime(&dir, &["call", "where_am_i", "--url", &url]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("\"decline\" {\"confirm\":{\"action\":\"decline\"}}"), "{}", stdout(&out));
    let calls: Vec<Seen> = taken(&log).into_iter().filter(|s| s.body["method"] == "tools/call").collect();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    let ids: Vec<&Value> = calls.iter().map(|s| &s.body["id"]).collect();
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{ids:?}");
    let params: Vec<&Value> = calls.iter().map(|s| &s.body["params"]).collect();
    assert!(params[0].get("requestState").is_none() && params[0].get("inputResponses").is_none());
    assert_eq!(params[1]["requestState"], "state-1");
    let root = &params[1]["inputResponses"]["cwd"]["roots"][0];
    let expected = format!("file://{}", dir.canonicalize().unwrap().display());
    assert_eq!(root["uri"], expected.as_str(), "{root}");
    assert_eq!(params[2]["requestState"], "state-2");
    assert_eq!(params[2]["inputResponses"], json!({"confirm": {"action": "decline"}}));
    for s in &calls {
        assert_eq!(header(s, "mcp-name"), Some("where_am_i"));
        let capabilities = &s.body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"];
        assert_eq!(*capabilities, json!({"roots": {}, "elicitation": {"form": {}}}), "no sampling");
    }

    // A server that never stops asking is given up on, with a clear error.
    let out = cli_off_runtime(&dir, &["call", "forever", "--url", &url]).await;
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("`forever` still asks for input after 8 rounds"), "{}", stderr(&out));
    assert_eq!(taken(&log).iter().filter(|s| s.body["method"] == "tools/call").count(), 9);

    // A request for what the CLI did not declare is refused by name.
    let out = cli_off_runtime(&dir, &["call", "sampler", "--url", &url]).await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("`sampling/createMessage`") && stderr(&out).contains("did not declare"));
    taken(&log);

    // Mcp-Name in base64 when the name is not ASCII; Mcp-Param-* as the tool's schema asks.
    let result = json_out(&cli_off_runtime(&dir, &["call", "--json", "größe", "--url", &url]).await);
    assert_eq!(result, json!({"content": [{"type": "text", "text": "called größe"}]}), "no envelope");
    let out = cli_off_runtime(&dir, &["call", "regional", "region=Zürich", "query=x", "--url", &url]).await;
    assert_eq!(stdout(&out).trim(), "region \"Zürich\"", "{}", stderr(&out));
    let calls: Vec<Seen> = taken(&log).into_iter().filter(|s| s.body["method"] == "tools/call").collect();
    assert_eq!(header(&calls[0], "mcp-name"), Some("=?base64?Z3LDtsOfZQ==?="));
    assert_eq!(header(&calls[1], "mcp-name"), Some("regional"));
    assert_eq!(header(&calls[1], "mcp-param-region"), Some("=?base64?WsO8cmljaA==?="));
    let out = cli_off_runtime(&dir, &["call", "broken", "ratio=0.5", "--url", &url]).await;
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("tool `broken` cannot be called"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

/// A Streamable HTTP server of the handshake era, as the common SDKs are: a request without a session
/// other than `initialize` is refused with 400 and a plain-text body.
async fn handshake_mcp(State(log): State<Log>, headers: HeaderMap, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    log.lock().unwrap().push(Seen { headers: headers.clone(), body: request.clone() });
    let id = request.get("id").cloned();
    let result = match request["method"].as_str().unwrap_or_default() {
        "initialize" => {
            let answer = json!({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "0"}}});
            return ([("mcp-session-id", "s-1")], axum::Json(answer)).into_response();
        }
        _ if headers.get("mcp-session-id").is_none() => {
            return (StatusCode::BAD_REQUEST, "Bad Request: No valid session ID provided").into_response();
        }
        _ if id.is_none() => return StatusCode::ACCEPTED.into_response(),
        "tools/list" => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
        "tools/call" => json!({"content": [{"type": "text", "text": "echoed"}]}),
        other => {
            let error = json!({"code": -32601, "message": format!("unknown method {other}")});
            return axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": error})).into_response();
        }
    };
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_falls_back_to_the_handshake_over_http_and_2026_07_28_alone_says_why_not() {
    let log = Log::default();
    let app = axum::Router::new()
        .route("/mcp", axum::routing::post(handshake_mcp).delete(|| async { StatusCode::OK }))
        .with_state(Arc::clone(&log));
    let url = format!("{}/mcp", serve(app).await);
    let dir = std::env::temp_dir();

    let out = cli_off_runtime(&dir, &["call", "echo", "--url", &url]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "echoed\n");
    let methods: Vec<String> =
        log.lock().unwrap().drain(..).map(|s| s.body["method"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(methods, ["server/discover", "initialize", "notifications/initialized", "tools/call"]);

    let out = cli_off_runtime(&dir, &["list", "--protocol", "2026-07-28", "--url", &url]).await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("does not speak 2026-07-28") && err.contains("HTTP 400"), "{err}");
    assert!(err.contains("--protocol 2025-11-25"), "{err}");
}

/// A stdio server of the handshake era in sh: it notes each start in `starts`, answers `initialize`,
/// `tools/list` and `tools/call`, and anything else with −32601 — or, with `strict`, exits when the first
/// request is not `initialize`, as servers that insist on the handshake do.
fn handshake_stdio(starts: &Path, strict: bool) -> Vec<String> {
    let script = format!(
        r#"echo started >> '{starts}'
first=1
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p')
  case "$line" in
    *'"method":"initialize"'*) printf '{{"jsonrpc":"2.0","id":%s,"result":{{"protocolVersion":"2025-11-25","capabilities":{{"tools":{{}}}},"serverInfo":{{"name":"old","version":"0"}}}}}}\n' "$id" ;;
    *'"method":"tools/list"'*) printf '{{"jsonrpc":"2.0","id":%s,"result":{{"tools":[{{"name":"echo","inputSchema":{{"type":"object"}}}}]}}}}\n' "$id" ;;
    *'"method":"tools/call"'*) printf '{{"jsonrpc":"2.0","id":%s,"result":{{"content":[{{"type":"text","text":"echoed"}}]}}}}\n' "$id" ;;
    *'"id":'*) [ "$first" = 1 ] && [ {strict} = 1 ] && exit 3
               printf '{{"jsonrpc":"2.0","id":%s,"error":{{"code":-32601,"message":"Method not found"}}}}\n' "$id" ;;
  esac
  first=0
done"#,
        starts = starts.display(),
        strict = u8::from(strict),
    );
    vec!["sh".to_owned(), "-c".to_owned(), script]
}

#[test]
fn auto_falls_back_to_the_handshake_over_stdio_on_the_same_process_when_it_can() {
    for strict in [false, true] {
        let starts = std::env::temp_dir().join(format!("cli-stateless-starts-{}-{strict}", std::process::id()));
        std::fs::remove_file(&starts).ok();
        let command = handshake_stdio(&starts, strict);
        let mut args = vec!["call", "echo", "--"];
        args.extend(command.iter().map(String::as_str));
        let out = cli(&args, &[]);
        assert_eq!(code(&out), 0, "strict={strict}: {}", stderr(&out));
        assert_eq!(stdout(&out), "echoed\n");
        let started = std::fs::read_to_string(&starts).unwrap().lines().count();
        // A server that answered the probe takes the handshake on the same pipes; one that exited is
        // started again.
        assert_eq!(started, if strict { 2 } else { 1 }, "strict={strict}");

        let mut args = vec!["list", "--protocol", "2026-07-28", "--"];
        args.extend(command.iter().map(String::as_str));
        let out = cli(&args, &[]);
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(stderr(&out).contains("does not speak 2026-07-28"), "{}", stderr(&out));
        std::fs::remove_file(&starts).ok();
    }
}
