//! API-key authentication and per-tool scopes, against the inventory binary over real HTTP and stdio:
//! challenges, refusals, scopes in `tools/list` and `tools/call`, sessions bound to their principal,
//! throttled failures, key rotation without a restart, and no secret in any log or answer.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, conformance_bin, inventory_bin, modern_meta};
use serde_json::{Value, json};

const ACCEPT: &str = "application/json, text/event-stream";

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn initialize(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "auth-test", "version": "0"}}})
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

/// A POST to the MCP endpoint, with `key` as a bearer token when given.
fn post(c: &reqwest::Client, url: &str, key: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
    let r = c.post(url).header("accept", ACCEPT).json(body);
    match key {
        Some(key) => r.bearer_auth(key),
        None => r,
    }
}

fn challenge(r: &reqwest::Response) -> String {
    r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Opens a session with `key`; returns its id.
async fn open_session(c: &reqwest::Client, url: &str, key: &str) -> String {
    let r = post(c, url, Some(key), &initialize(1)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = post(c, url, Some(key), &note).header("mcp-session-id", &id).send().await.unwrap();
    assert_eq!(r.status(), 202);
    id
}

#[tokio::test]
async fn requests_without_a_valid_key_are_challenged_and_the_right_key_runs_the_tool() {
    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let c = client();

    let r = post(&c, &url, None, &initialize(1)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(challenge(&r), r#"Bearer realm="inventory-gateway""#);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32010, "{body}");

    let r = post(&c, &url, Some("not-a-key"), &initialize(1)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(challenge(&r).contains(r#"error="invalid_token""#), "{}", challenge(&r));

    let r = c.post(&url).header("authorization", "Basic b3BzOnB3").json(&initialize(1)).send().await.unwrap();
    assert_eq!(r.status(), 400, "only the Bearer scheme is read");
    assert!(challenge(&r).contains(r#"error="invalid_request""#));

    let r = post(&c, &format!("{url}?access_token={OPS_KEY}"), Some(OPS_KEY), &initialize(1)).send().await.unwrap();
    assert_eq!(r.status(), 400, "a credential in the query string is refused even next to a good header");

    let session = open_session(&c, &url, OPS_KEY).await;
    let r = post(&c, &url, Some(OPS_KEY), &call(2, "lookup_stock", json!({"sku": "ABC123"})))
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["structuredContent"]["sku"], "ABC123", "{body}");

    let health = c.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(health.status(), 200, "probes need no key");
}

#[tokio::test]
async fn scopes_decide_what_a_caller_sees_and_may_call() {
    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let c = client();
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});

    for (key, expected) in [
        (VIEWER_KEY, vec!["list_warehouses", "lookup_stock"]),
        (OPS_KEY, vec!["adjust_stock", "list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"]),
    ] {
        let session = open_session(&c, &url, key).await;
        let r = post(&c, &url, Some(key), &list).header("mcp-session-id", &session).send().await.unwrap();
        let body: Value = r.json().await.unwrap();
        let names: Vec<_> = body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
        assert_eq!(names, expected.iter().map(|n| json!(n)).collect::<Vec<_>>(), "{key}");
    }

    let session = open_session(&c, &url, VIEWER_KEY).await;
    let adjust = call(3, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 1}));
    let r = post(&c, &url, Some(VIEWER_KEY), &adjust).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let www = challenge(&r);
    assert!(www.starts_with("Bearer "), "{www}");
    assert!(www.contains(r#"error="insufficient_scope""#) && www.contains(r#"scope="inventory:write""#), "{www}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32011);
    assert_eq!(body["error"]["data"]["missingScopes"], json!(["inventory:write"]), "{body}");

    // The same refusal under 2026-07-28, statelessly.
    let mut modern = adjust.clone();
    modern["params"]["_meta"] = modern_meta();
    let r = post(&c, &url, Some(VIEWER_KEY), &modern)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "adjust_stock")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(challenge(&r).contains(r#"scope="inventory:write""#));
}

#[tokio::test]
async fn a_session_belongs_to_the_principal_that_opened_it() {
    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let c = client();
    let session = open_session(&c, &url, OPS_KEY).await;
    let lookup = call(2, "lookup_stock", json!({"sku": "ABC123"}));

    let r = post(&c, &url, Some(VIEWER_KEY), &lookup).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(r.status(), 404, "another principal presenting the session id learns nothing");
    let r = c
        .get(&url)
        .bearer_auth(VIEWER_KEY)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c.delete(&url).bearer_auth(VIEWER_KEY).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(r.status(), 404, "nor can it end the session");

    let r = post(&c, &url, Some(OPS_KEY), &lookup).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(r.status(), 200, "the owner still can");
    let r = c.delete(&url).bearer_auth(OPS_KEY).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn repeated_failures_from_one_source_are_throttled() {
    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let c = client();
    for i in 0..10 {
        let r = post(&c, &url, Some(&format!("guess-{i}")), &initialize(1)).send().await.unwrap();
        assert_eq!(r.status(), 401, "guess {i}");
    }
    for key in ["guess-10", OPS_KEY] {
        let r = post(&c, &url, Some(key), &initialize(1)).send().await.unwrap();
        assert_eq!(r.status(), 429, "a throttled source is refused before its key is looked at");
        let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["data"]["retryAfterMs"].as_u64().unwrap() > 0, "{body}");
    }
}

#[tokio::test]
async fn the_key_can_travel_in_a_custom_header() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_SECURITY__HEADER", "X-Enterprise-Token")]);
    let url = format!("{}/mcp", server.base);
    let c = client();
    let r = post(&c, &url, Some(OPS_KEY), &initialize(1)).send().await.unwrap();
    assert_eq!(r.status(), 401, "the Authorization header is not read when another is configured");
    assert!(challenge(&r).starts_with(r#"ApiKey header="x-enterprise-token""#), "{}", challenge(&r));
    let r = c.post(&url).header("accept", ACCEPT).header("x-enterprise-token", OPS_KEY).json(&initialize(1));
    assert_eq!(r.send().await.unwrap().status(), 200);
}

fn write_keys(path: &Path, keys: &[&str]) {
    // The digests come from the server's own `--hash-key`, which reads the key from stdin.
    let digest = |k: &str| {
        let mut child = Command::new(inventory_bin())
            .arg("--hash-key")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), k.as_bytes()).unwrap();
        drop(child.stdin.take());
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim().to_owned()
    };
    let mut text = String::new();
    for key in keys {
        text.push_str(&format!(
            "[[keys]]\nid = \"ops\"\nhash = \"{}\"\nscopes = [\"inventory:read\", \"inventory:write\"]\n",
            digest(key)
        ));
    }
    // Write then rename: the server never reads half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn wait_until_accepted(c: &reqwest::Client, url: &str, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = post(c, url, Some(key), &initialize(1)).send().await.unwrap();
        if r.status() == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "the new key was never accepted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_rotated_key_file_takes_effect_without_a_restart() {
    let dir = std::env::temp_dir().join(format!("mcp-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (trigger, interval) in [("change", "200ms"), ("sighup", "1h")] {
        let path = dir.join(format!("keys-{trigger}.toml"));
        write_keys(&path, &["rotation-old-key-1"]);
        let reference = format!("${{file:{}}}", path.display());
        let env = [("MCP_SECURITY__KEYS", reference.as_str()), ("MCP_SECURITY__KEYS_RELOAD_INTERVAL", interval)];
        let server = NetworkServer::start_with(&inventory_bin(), "http", &env);
        let url = format!("{}/mcp", server.base);
        let c = client();
        let session = open_session(&c, &url, "rotation-old-key-1").await;

        write_keys(&path, &["rotation-new-key-2"]);
        if trigger == "sighup" {
            let sent = Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap();
            assert!(sent.success());
        }
        wait_until_accepted(&c, &url, "rotation-new-key-2").await;
        let r = post(&c, &url, Some("rotation-old-key-1"), &initialize(1)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{trigger}: the old key stops working");
        // The session opened before the rotation goes on, with the principal's new key.
        let lookup = call(5, "lookup_stock", json!({"sku": "ABC123"}));
        let r = post(&c, &url, Some("rotation-new-key-2"), &lookup).header("mcp-session-id", &session).send();
        assert_eq!(r.await.unwrap().status(), 200, "{trigger}: nothing was dropped");
        assert!(server.logged("API keys reloaded"), "{trigger}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn stdio_run(key: Option<&str>, input: &str) -> std::process::Output {
    let mut command = Command::new(inventory_bin());
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command.env_remove("MCP_CLIENT_KEY").env_remove("MCP_CLIENT_TOKEN");
    if let Some(key) = key {
        command.env("MCP_CLIENT_KEY", key);
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A refused server exits before reading: a broken pipe here is expected.
    let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn over_stdio_the_key_comes_from_the_environment() {
    let init = initialize(1).to_string()
        + "\n"
        + &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    let out = stdio_run(None, &init);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MCP_CLIENT_KEY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing is served");

    let out = stdio_run(Some("stdio-wrong-key-77"), &init);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused") && !stderr.contains("stdio-wrong-key-77"), "{stderr}");

    let input = [
        init,
        call(2, "lookup_stock", json!({"sku": "ABC123"})).to_string(),
        call(3, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 1})).to_string(),
    ]
    .join("\n")
        + "\n";
    let out = stdio_run(Some(VIEWER_KEY), &input);
    assert!(out.status.success());
    let answers: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_id =
        |id: i64| answers.iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("no answer {id}: {answers:?}"));
    assert_eq!(by_id(2)["result"]["structuredContent"]["sku"], "ABC123");
    assert_eq!(by_id(3)["error"]["code"], -32011, "{:?}", by_id(3));
    assert_eq!(by_id(3)["error"]["data"]["requiredScopes"], json!(["inventory:write"]));
}

#[test]
fn a_public_bind_without_authentication_refuses_to_start() {
    let out = Command::new(conformance_bin()).args(["--transport", "http", "--bind", "0.0.0.0:0"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without authentication") && stderr.contains("--insecure-no-auth"), "{stderr}");
}

#[tokio::test]
async fn no_key_reaches_a_log_or_an_answer() {
    const WRONG: &str = "seeded-wrong-key-5c1e0f";
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_LOG__LEVEL", "trace")]);
    let url = format!("{}/mcp", server.base);
    let c = client();
    let mut seen = String::new();
    let record = |r: reqwest::Response| async move {
        let headers = format!("{:?}", r.headers());
        format!("{} {headers} {}\n", r.status(), r.text().await.unwrap_or_default())
    };
    for request in [
        post(&c, &url, Some(WRONG), &initialize(1)),
        post(&c, &format!("{url}?access_token={WRONG}"), None, &initialize(1)),
        c.post(&url).header("authorization", format!("Basic {WRONG}")).json(&initialize(1)),
        c.post(&url)
            .header(
                "authorization",
                reqwest::header::HeaderValue::from_bytes(format!("Bearer {WRONG}\u{e9}").as_bytes()).unwrap(),
            )
            .json(&initialize(1)),
    ] {
        seen += &record(request.send().await.unwrap()).await;
    }
    let session = open_session(&c, &url, VIEWER_KEY).await;
    let adjust = call(3, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 1}));
    for key in [VIEWER_KEY, OPS_KEY] {
        let r = post(&c, &url, Some(key), &adjust).header("mcp-session-id", &session).send().await.unwrap();
        seen += &record(r).await;
    }
    let session = open_session(&c, &url, OPS_KEY).await;
    let r = post(&c, &url, Some(OPS_KEY), &adjust).header("mcp-session-id", &session).send().await.unwrap();
    seen += &record(r).await;
    let logs = server.logs();
    assert!(logs.contains("authentication failed"), "the failures were logged at all");
    for secret in [WRONG, OPS_KEY, VIEWER_KEY] {
        assert!(!logs.contains(secret), "{secret} is in the server's logs");
        assert!(!seen.contains(secret), "{secret} is in an answer: {seen}");
    }
}
