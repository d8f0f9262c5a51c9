//! The official TypeScript and Python SDK clients and the MCP Inspector CLI against the inventory binary.
//!
//! These need the clients `cargo xtask test` installs (pinned, in `tests/interop/`), so plain `cargo test`
//! lists them as ignored; `cargo xtask test` runs them.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::path::PathBuf;
use std::process::Command;

use mcp_tests::{NetworkServer, OPS_KEY, interop_dir, inventory_bin, node, run_json};
use serde_json::{Value, json};

/// Runs `tests/interop/node/scenario.mjs` with one of its clients.
fn node_scenario(client: &str) -> Value {
    let script = interop_dir().join("node/scenario.mjs");
    run_json(Command::new(node()).arg(script).arg(client).arg("--").arg(inventory_bin()).env("MCP_CLIENT_KEY", OPS_KEY))
}

/// Runs the Node scenario against a network endpoint (`--http URL` or `--sse URL`).
fn node_scenario_at(client: &str, flag: &str, url: &str) -> Value {
    let script = interop_dir().join("node/scenario.mjs");
    run_json(Command::new(node()).arg(script).args([client, flag, url]).env("MCP_CLIENT_KEY", OPS_KEY))
}

/// Runs the Python scenario against a Streamable HTTP endpoint.
fn python_scenario_at(mode: &str, url: &str) -> Value {
    let dir = interop_dir().join("python");
    run_json(
        Command::new(dir.join(".venv/bin/python"))
            .arg(dir.join("scenario.py"))
            .args([mode, "--http", url])
            .env("MCP_CLIENT_KEY", OPS_KEY),
    )
}

/// Runs `tests/interop/python/scenario.py` in one of the `mcp.Client` modes.
fn python_scenario(mode: &str) -> Value {
    let dir = interop_dir().join("python");
    run_json(
        Command::new(dir.join(".venv/bin/python"))
            .arg(dir.join("scenario.py"))
            .arg(mode)
            .arg("--")
            .arg(inventory_bin())
            .env("MCP_CLIENT_KEY", OPS_KEY),
    )
}

/// What a client asks for when it negotiates by handshake: the TypeScript v1 SDK's and v2 client's latest
/// revision, and the Python client's in `legacy` mode. The inventory supports it, so it is what they agree on.
const HANDSHAKE: &str = "2025-11-25";
/// What a client pinned to, or probing for, the stateless revision ends up with.
const STATELESS: &str = "2026-07-28";

/// What every client must have seen: the protocol version it reports having negotiated (`version`), the
/// five tools with their constraints, and each call's outcome.
fn check_scenario(out: &Value, version: &str) {
    assert_eq!(out["protocolVersion"], version, "the version the client reports having negotiated: {out}");
    let tools = out["tools"].as_array().unwrap_or_else(|| panic!("no tools in {out}"));
    let mut names: Vec<_> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["adjust_stock", "list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"],
        "{out}"
    );
    let lookup = tools.iter().find(|t| t["name"] == "lookup_stock").unwrap();
    let schema = lookup.get("inputSchema").or_else(|| lookup.get("input_schema")).expect("an input schema");
    assert_eq!(schema["properties"]["sku"]["pattern"], "^[A-Z0-9]{5,12}$");
    assert_eq!(schema["properties"]["warehouse_id"]["minLength"], 3);
    assert_eq!(schema["required"], json!(["sku"]));

    let calls = out["calls"].as_array().expect("calls");
    let find = |tool: &str, args: Value| {
        calls
            .iter()
            .find(|c| c["tool"] == tool && c["arguments"] == args)
            .unwrap_or_else(|| panic!("no call of {tool} with {args} in {out}"))
    };
    let ok = find("lookup_stock", json!({"sku": "ABC123"}));
    assert_eq!(ok["isError"], false, "{ok}");
    assert_eq!(ok["structuredContent"]["on_hand"], 42, "{ok}");
    let bad = find("lookup_stock", json!({"sku": "abc"}));
    assert_eq!(bad["isError"], true, "{bad}");
    assert!(bad["text"].as_str().unwrap().contains("^[A-Z0-9]{5,12}$"), "{bad}");
    let unknown = find("lookup_stock", json!({"sku": "NOPE00"}));
    assert_eq!(unknown["isError"], true);
    let warehouses = find("list_warehouses", json!({}));
    assert_eq!(warehouses["structuredContent"]["result"].as_array().map(Vec::len), Some(2), "{warehouses}");
    let adjusted = find("adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 5}));
    assert_eq!(adjusted["structuredContent"]["on_hand"], 130, "{adjusted}");
    let missing = find("no_such_tool", json!({}));
    assert_eq!(missing["rpcError"]["code"], -32602, "{missing}");
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_client() {
    check_scenario(&node_scenario("sdk"), HANDSHAKE);
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_v2_client_handshake() {
    check_scenario(&node_scenario("v2-legacy"), HANDSHAKE);
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_v2_client_2026_07_28() {
    check_scenario(&node_scenario("v2-modern"), STATELESS);
}

#[test]
#[ignore = "needs the Python client: run `cargo xtask test`"]
fn python_sdk_client_handshake() {
    check_scenario(&python_scenario("legacy"), HANDSHAKE);
}

#[test]
#[ignore = "needs the Python client: run `cargo xtask test`"]
fn python_sdk_client_2026_07_28() {
    check_scenario(&python_scenario("2026-07-28"), STATELESS);
}

#[test]
#[ignore = "needs the Python client: run `cargo xtask test`"]
fn python_sdk_client_auto_picks_2026_07_28() {
    check_scenario(&python_scenario("auto"), STATELESS);
}

fn inspector() -> Command {
    let launcher: PathBuf =
        interop_dir().join("node/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
    let mut command = Command::new(node());
    // `-e` hands the server the client's API key: the Inspector passes nothing else of its environment on.
    command.arg(launcher).arg("--cli").env("NPM_CONFIG_UPDATE_NOTIFIER", "false");
    command.args(["-e", &format!("MCP_CLIENT_KEY={OPS_KEY}")]);
    command
}

#[test]
#[ignore = "needs the Inspector CLI: run `cargo xtask test`"]
fn inspector_cli_lists_and_calls_tools() {
    for era in ["legacy", "modern"] {
        let listed = run_json(
            inspector()
                .args(["--format", "json", "--protocol-era", era, "--method", "tools/list", "--"])
                .arg(inventory_bin()),
        );
        let tools = listed["result"]["tools"].as_array().unwrap_or_else(|| panic!("{era}: {listed}"));
        assert_eq!(tools.len(), 5, "{era}: every tool survives the Inspector's checks: {listed}");
        let lookup = tools.iter().find(|t| t["name"] == "lookup_stock").unwrap();
        assert_eq!(lookup["inputSchema"]["properties"]["sku"]["pattern"], "^[A-Z0-9]{5,12}$");

        let called = run_json(
            inspector()
                .args([
                    "--format",
                    "json",
                    "--protocol-era",
                    era,
                    "--method",
                    "tools/call",
                    "--tool-name",
                    "lookup_stock",
                ])
                .args(["--tool-args-json", r#"{"sku":"ABC123","warehouse_id":"WH-WEST"}"#, "--"])
                .arg(inventory_bin()),
        );
        assert_eq!(called["result"]["structuredContent"]["on_hand"], 2, "{era}: {called}");
    }
}

#[test]
#[ignore = "needs the Inspector CLI: run `cargo xtask test`"]
fn inspector_cli_reports_a_tool_error_for_an_invalid_sku() {
    let output = inspector()
        .args(["--format", "json", "--method", "tools/call", "--tool-name", "lookup_stock"])
        .args(["--tool-args-json", r#"{"sku":"abc"}"#, "--"])
        .arg(inventory_bin())
        .output()
        .expect("the Inspector runs");
    let stdout: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(stdout["result"]["isError"], true, "{stdout}");
    assert!(
        stdout["result"]["content"][0]["text"].as_str().unwrap().contains("pattern")
            || stdout.to_string().contains("^[A-Z0-9]{5,12}$")
    );
    assert_eq!(output.status.code(), Some(5), "the Inspector exits 5 on a tool error");
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_clients_over_streamable_http() {
    for (client, version) in [("sdk", HANDSHAKE), ("v2-legacy", HANDSHAKE), ("v2-modern", STATELESS)] {
        let server = NetworkServer::inventory("http");
        check_scenario(&node_scenario_at(client, "--http", &format!("{}/mcp", server.base)), version);
    }
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_clients_over_legacy_sse() {
    for client in ["sdk", "v2-legacy"] {
        let server = NetworkServer::inventory("sse");
        check_scenario(&node_scenario_at(client, "--sse", &format!("{}/sse", server.base)), HANDSHAKE);
    }
}

#[test]
#[ignore = "needs the Python client: run `cargo xtask test`"]
fn python_client_over_streamable_http_in_both_eras() {
    for (mode, version) in [("legacy", HANDSHAKE), ("2026-07-28", STATELESS)] {
        let server = NetworkServer::inventory("http");
        check_scenario(&python_scenario_at(mode, &format!("{}/mcp", server.base)), version);
    }
}
