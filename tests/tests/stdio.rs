//! The inventory binary over a real pipe, message by message: framing, both protocol eras, and bad input.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use mcp_tests::{StdioServer, inventory_bin, modern_meta, result_text};
use serde_json::{Value, json};

fn call(server: &mut StdioServer, id: i64, tool: &str, arguments: Value) -> Value {
    server.request(id, "tools/call", json!({"name": tool, "arguments": arguments}))
}

#[test]
fn handshake_lists_the_four_tools_with_their_constraints() {
    let mut s = StdioServer::inventory(&[]);
    let init = s.initialize("2025-11-25");
    assert_eq!(init["protocolVersion"], "2025-11-25");
    assert_eq!(init["serverInfo"]["name"], "inventory-gateway");
    // set_maintenance changes the tool list and adjust_stock announces stock://{sku} updates: both are said.
    assert_eq!(init["capabilities"]["tools"], json!({"listChanged": true}));
    assert_eq!(init["capabilities"]["resources"], json!({"subscribe": true, "listChanged": true}));

    let list = s.request(1, "tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<_> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["adjust_stock", "list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"],
        "sorted by name"
    );
    let lookup = &tools[2];
    assert_eq!(lookup["description"], "Retrieves current inventory levels for a given SKU.");
    let props = &lookup["inputSchema"]["properties"];
    assert_eq!(props["sku"]["pattern"], "^[A-Z0-9]{5,12}$");
    assert_eq!(props["sku"]["description"], "Stock keeping unit: 5-12 upper-case letters or digits.");
    assert_eq!(props["warehouse_id"]["minLength"], 3);
    assert_eq!(lookup["inputSchema"]["required"], json!(["sku"]));
    assert_eq!(lookup["inputSchema"]["additionalProperties"], false);
    assert_eq!(lookup["annotations"], json!({"readOnlyHint": true}));
    assert_eq!(lookup["outputSchema"]["type"], "object");
    assert_eq!(tools[0]["annotations"], json!({"destructiveHint": true}));
    assert!(list["result"].get("resultType").is_none(), "no 2026 fields in a handshake session");
    assert!(s.close().success());
}

#[test]
fn an_invalid_argument_is_a_tool_error_naming_the_constraint_and_the_handler_never_runs() {
    let mut s = StdioServer::inventory(&[]);
    s.initialize("2025-11-25");
    let bad = call(&mut s, 1, "lookup_stock", json!({"sku": "abc"}));
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    let text = result_text(&bad["result"]);
    assert!(text.contains("`sku`") && text.contains("^[A-Z0-9]{5,12}$"), "{text}");

    // adjust_stock would change the stock if its handler ran; the maximum is 100000.
    let bad = call(&mut s, 2, "adjust_stock", json!({"sku": "ABC123", "warehouse_id": "WH-EAST", "delta": 5_000_000}));
    assert_eq!(bad["result"]["isError"], true);
    assert!(result_text(&bad["result"]).contains("maximum of 100000"), "{bad}");
    let after = call(&mut s, 3, "lookup_stock", json!({"sku": "ABC123", "warehouse_id": "WH-EAST"}));
    assert_eq!(after["result"]["structuredContent"]["on_hand"], 40, "the handler ran: {after}");

    let unknown_field = call(&mut s, 4, "lookup_stock", json!({"sku": "ABC123", "colour": "red"}));
    assert_eq!(unknown_field["result"]["isError"], true);
    assert!(result_text(&unknown_field["result"]).contains("colour"));
}

#[test]
fn tools_answer_with_structured_content_and_business_errors() {
    let mut s = StdioServer::inventory(&[]);
    s.initialize("2025-06-18");
    let ok = call(&mut s, 1, "lookup_stock", json!({"sku": "ABC123"}));
    assert_eq!(ok["result"]["structuredContent"], json!({"sku": "ABC123", "warehouse_id": null, "on_hand": 42}));
    assert_eq!(serde_json::from_str::<Value>(&result_text(&ok["result"])).unwrap()["on_hand"], 42, "text mirror");
    let unknown = call(&mut s, 2, "lookup_stock", json!({"sku": "NOPE00"}));
    assert_eq!(unknown["result"]["isError"], true);
    assert_eq!(result_text(&unknown["result"]), "unknown SKU NOPE00");
    let warehouses = call(&mut s, 3, "list_warehouses", json!({}));
    assert_eq!(warehouses["result"]["structuredContent"]["result"][1]["id"], "WH-WEST");
    let adjusted = call(&mut s, 4, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": -25}));
    assert_eq!(adjusted["result"]["structuredContent"]["on_hand"], 100);
    let missing = call(&mut s, 5, "no_such_tool", json!({}));
    assert_eq!(missing["error"]["code"], -32602);
}

#[test]
fn older_revisions_get_no_fields_they_do_not_know() {
    let mut s = StdioServer::inventory(&[]);
    assert_eq!(s.initialize("2024-11-05")["protocolVersion"], "2024-11-05");
    let list = s.request(1, "tools/list", json!({}));
    let lookup = &list["result"]["tools"][2];
    assert!(lookup.get("outputSchema").is_none() && lookup.get("annotations").is_none(), "{lookup}");
    let ok = call(&mut s, 2, "lookup_stock", json!({"sku": "ABC123"}));
    assert!(ok["result"].get("structuredContent").is_none());
    assert!(result_text(&ok["result"]).contains("\"on_hand\":42"));
}

#[test]
fn an_unknown_revision_is_answered_with_the_newest_handshake_revision() {
    let mut s = StdioServer::inventory(&[]);
    assert_eq!(s.initialize("2099-01-01")["protocolVersion"], "2025-11-25");
}

#[test]
fn stateless_2026_requests_need_no_handshake() {
    let mut s = StdioServer::inventory(&[]);
    let discover = s.request(1, "server/discover", json!({"_meta": modern_meta()}));
    let result = &discover["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"][0], "2026-07-28");
    assert!(result["ttlMs"].as_u64().is_some() && result["cacheScope"] == "public", "{result}");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "inventory-gateway");

    let list = s.request(2, "tools/list", json!({"_meta": modern_meta()}));
    assert_eq!(list["result"]["resultType"], "complete");
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 5);

    let call = s.request(
        3,
        "tools/call",
        json!({"name": "lookup_stock", "arguments": {"sku": "ABC123"}, "_meta": modern_meta()}),
    );
    assert_eq!(call["result"]["resultType"], "complete");
    assert_eq!(call["result"]["structuredContent"]["on_hand"], 42);
    assert_eq!(call["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "inventory-gateway");

    let ping = s.request(4, "ping", json!({"_meta": modern_meta()}));
    assert_eq!(ping["error"]["code"], -32601, "ping was removed in 2026-07-28");

    let mut old = modern_meta();
    old["io.modelcontextprotocol/protocolVersion"] = json!("1999-01-01");
    let unsupported = s.request(5, "tools/list", json!({"_meta": old}));
    assert_eq!(unsupported["error"]["code"], -32022);
    assert_eq!(unsupported["error"]["data"]["requested"], "1999-01-01");
    assert!(unsupported["error"]["data"]["supported"].as_array().unwrap().contains(&json!("2026-07-28")));

    let no_caps =
        s.request(6, "tools/list", json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}));
    assert_eq!(no_caps["error"]["code"], -32602);
}

#[test]
fn a_malformed_line_gets_a_parse_error_and_the_next_line_is_served() {
    let mut s = StdioServer::inventory(&[]);
    s.send_raw(b"{this is not json");
    let error = s.recv();
    assert_eq!(error["error"]["code"], -32700);
    assert_eq!(error["id"], Value::Null);
    s.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"\xff\xfe\"}}");
    let error = s.recv();
    assert_eq!(error["error"]["code"], -32700);
    assert!(error["error"]["message"].as_str().unwrap().contains("UTF-8"));
    s.send_raw(br#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[]}"#);
    let error = s.recv();
    assert_eq!((error["id"].clone(), error["error"]["code"].clone()), (json!(2), json!(-32600)));
    s.send_raw(b"   ");
    assert_eq!(s.request(3, "ping", json!({})), json!({"jsonrpc": "2.0", "id": 3, "result": {}}));
    assert!(s.close().success(), "EOF is a clean exit");
}

#[test]
fn an_overlong_line_is_refused_and_the_next_line_is_served() {
    let mut s = StdioServer::inventory(&[("MCP_TRANSPORT__MAX_MESSAGE_BYTES", "1024")]);
    let long = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(4096));
    s.send_raw(long.as_bytes());
    let error = s.recv();
    assert_eq!(error["error"]["code"], -32600);
    assert!(error["error"]["message"].as_str().unwrap().contains("1024 bytes"), "{error}");
    assert_eq!(s.request(2, "ping", json!({}))["result"], json!({}));
}

#[test]
fn batches_only_where_the_revision_allows_them() {
    let mut s = StdioServer::inventory(&[]);
    s.initialize("2025-11-25");
    s.send(&json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]));
    let refused = s.recv();
    assert_eq!(refused["error"]["code"], -32600);
    assert!(refused["error"]["message"].as_str().unwrap().contains("batches"));

    let mut s = StdioServer::inventory(&[]);
    s.initialize("2025-03-26");
    s.send(&json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "lookup_stock", "arguments": {"sku": "ABC123"}}},
        "not a message"
    ]));
    let answers = s.recv();
    let answers = answers.as_array().expect("a batch is answered with an array");
    assert_eq!(answers.len(), 3, "{answers:?}");
    let by_id = |id: Value| answers.iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id(json!(1))["result"], json!({}));
    assert!(result_text(&by_id(json!(2))["result"]).contains("\"on_hand\":42"));
    assert_eq!(by_id(Value::Null)["error"]["code"], -32600);
}

#[test]
fn requests_before_initialize_are_refused_except_ping() {
    let mut s = StdioServer::inventory(&[]);
    assert_eq!(s.request(1, "tools/list", json!({}))["error"]["code"], -32602);
    assert_eq!(s.request(2, "ping", json!({}))["result"], json!({}));
    s.initialize("2025-11-25");
    let again = s.request(
        3,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}),
    );
    assert_eq!(again["error"]["code"], -32600, "one initialize per session");
}

#[test]
fn logging_follows_the_session_level() {
    let mut s = StdioServer::inventory(&[]);
    s.initialize("2025-11-25");
    s.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "adjust_stock", "arguments": {"sku": "ABC123", "warehouse_id": "WH-WEST", "delta": 1}}}));
    let log = s.recv();
    assert_eq!(log["method"], "notifications/message", "{log}");
    assert_eq!(log["params"]["level"], "info");
    assert_eq!(s.recv()["id"], 1);
    assert_eq!(s.request(2, "logging/setLevel", json!({"level": "warning"}))["result"], json!({}));
    s.send(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "adjust_stock", "arguments": {"sku": "ABC123", "warehouse_id": "WH-WEST", "delta": 1}}}));
    assert_eq!(s.recv()["id"], 3, "an info message is below the warning level");
}

#[test]
fn print_manifest_prints_the_tool_list() {
    let out = std::process::Command::new(inventory_bin()).arg("--print-manifest").output().unwrap();
    assert!(out.status.success());
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["tools"].as_array().unwrap().len(), 5);
    assert_eq!(manifest["tools"][2]["inputSchema"]["properties"]["sku"]["pattern"], "^[A-Z0-9]{5,12}$");
}

#[test]
fn print_config_shows_the_effective_configuration() {
    let out = std::process::Command::new(inventory_bin())
        .args(["--print-config", "--transport", "stdio"])
        .env("MCP_TOOLS__DEFAULT_TIMEOUT", "7s")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(config["tools"]["default_timeout"].as_str(), Some("7s"), "{text}");
    assert_eq!(config["transport"]["kind"].as_str(), Some("stdio"));
}

#[test]
fn an_unknown_config_key_stops_the_server_naming_the_key_and_line() {
    let dir = std::env::temp_dir().join(format!("mcp-tests-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mcp.toml");
    std::fs::write(&path, "[transport]\nkind = \"stdio\"\n\n[tools]\npage_sise = 5\n").unwrap();
    let out = std::process::Command::new(inventory_bin()).arg("--config").arg(&path).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("page_sise") && stderr.contains("line 5"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing but MCP messages on stdout");
}
