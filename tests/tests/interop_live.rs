//! A live inventory server as the official SDK clients see it: `set_maintenance` takes `adjust_stock` off the
//! server and puts it back (tool list changes), `adjust_stock` says `stock://{sku}` changed (resource
//! updates). The TypeScript SDK v1 in the handshake era (notifications on the connection or the session's
//! GET stream), the Python SDK in 2026-07-28 mode (`subscriptions/listen`), over stdio and Streamable HTTP.
//!
//! The scripts (`tests/interop/node/live.mjs`, `tests/interop/python/live.py`) bound every wait and print
//! what their client saw; the assertions are here. Like the other interop tests they need the clients
//! `cargo xtask test` installs, so plain `cargo test` lists them as ignored.

use std::process::Command;

use mcp_tests::{NetworkServer, OPS_KEY, interop_dir, inventory_bin, node, run_json};
use serde_json::{Value, json};

/// Runs `tests/interop/node/live.mjs` against the inventory binary over stdio, or at `--http URL`.
fn node_live(http: Option<&str>) -> Value {
    let mut command = Command::new(node());
    command.arg(interop_dir().join("node/live.mjs")).env("MCP_CLIENT_KEY", OPS_KEY);
    match http {
        Some(url) => command.args(["--http", url]),
        None => command.arg("--").arg(inventory_bin()),
    };
    run_json(&mut command)
}

/// Runs `tests/interop/python/live.py` against the inventory binary over stdio, or at `--http URL`.
fn python_live(http: Option<&str>) -> Value {
    let dir = interop_dir().join("python");
    let mut command = Command::new(dir.join(".venv/bin/python"));
    command.arg(dir.join("live.py")).env("MCP_CLIENT_KEY", OPS_KEY);
    match http {
        Some(url) => command.args(["--http", url]),
        None => command.arg("--").arg(inventory_bin()),
    };
    run_json(&mut command)
}

/// The tools the ops key sees with and without `adjust_stock`.
const ALL_TOOLS: [&str; 5] =
    ["adjust_stock", "list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"];
const MAINTENANCE_TOOLS: [&str; 4] = ["list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"];

/// What a successful call of a tool answered (its structured content, or its text).
fn succeeded<'a>(out: &'a Value, step: &str) -> &'a Value {
    let call = &out[step];
    assert!(call["rpcError"].is_null() && call["isError"] == false, "{step} should succeed: {call}\nin {out}");
    call
}

/// What the TypeScript SDK v1 client saw (`live.mjs`).
fn check_typescript(out: &Value) {
    let caps = &out["capabilities"];
    assert_eq!(caps["tools"]["listChanged"], true, "tools.listChanged advertised: {caps}");
    assert_eq!(caps["resources"]["subscribe"], true, "resources.subscribe advertised: {caps}");
    assert_eq!(out["toolsBefore"], json!(ALL_TOOLS), "{out}");
    let templates = out["templates"].as_array().expect("resource templates");
    assert!(
        templates.iter().any(|t| t["uriTemplate"] == "stock://{sku}" && t["mimeType"] == "application/json"),
        "stock://{{sku}} is a listed template: {templates:?}"
    );

    // The resource: per warehouse and in total, not found for an unknown SKU, updated by adjust_stock.
    let before = &out["readBefore"]["contents"][0];
    assert_eq!(before["uri"], "stock://ABC123", "{out}");
    assert_eq!(before["json"], json!({"sku": "ABC123", "warehouses": {"WH-EAST": 40, "WH-WEST": 2}, "total": 42}));
    assert_eq!(out["readUnknown"]["rpcError"]["code"], -32002, "an unknown SKU is not found: {out}");
    assert_eq!(succeeded(out, "adjust")["structuredContent"]["on_hand"], 5);
    succeeded(out, "adjustOther");
    assert_eq!(out["readAfter"]["contents"][0]["json"]["total"], 45, "{out}");

    let notifications = out["notifications"].as_array().expect("notifications");
    let of = |method: &str| notifications.iter().filter(|n| n["method"] == method).collect::<Vec<_>>();
    let updated = of("notifications/resources/updated");
    assert!(!updated.is_empty(), "resources/updated arrived: {notifications:?}");
    assert!(
        updated.iter().all(|n| n["params"]["uri"] == "stock://ABC123"),
        "only the subscribed URI is announced (WIDGET9 was adjusted too): {updated:?}"
    );

    // Maintenance: the list change reaches the listener, adjust_stock leaves the list and the server, and
    // comes back when maintenance ends.
    assert!(succeeded(out, "maintenanceOn")["text"].as_str().unwrap().contains("maintenance on"), "{out}");
    let changed = of("notifications/tools/list_changed");
    for step in ["maintenance-on", "maintenance-off"] {
        assert!(changed.iter().any(|n| n["step"] == step), "tools/list_changed during {step}: {notifications:?}");
    }
    assert!(
        changed.iter().all(|n| n["step"] == "maintenance-on" || n["step"] == "maintenance-off"),
        "no list change but maintenance's: {changed:?}"
    );
    assert_eq!(out["toolsDuring"], json!(MAINTENANCE_TOOLS), "{out}");
    assert_eq!(out["adjustDuring"]["rpcError"]["code"], -32602, "a call of the disabled tool: {out}");
    assert!(succeeded(out, "maintenanceOff")["text"].as_str().unwrap().contains("maintenance off"), "{out}");
    assert_eq!(out["toolsAfter"], json!(ALL_TOOLS), "{out}");
}

/// A listener's acknowledged filter without what it turns off (`false`, an empty list): the same filter
/// whether the server spells those out or leaves them away.
fn honored(listener: &Value) -> Value {
    let filter = listener["honored"].as_object().unwrap_or_else(|| panic!("no acknowledged filter: {listener}"));
    let on = filter.iter().filter(|(_, v)| **v != false && **v != json!([]) && !v.is_null());
    Value::Object(on.map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// What the Python SDK client saw (`live.py`): two listeners, the loud one with tool list changes and
/// stock://ABC123, the quiet one with stock://WIDGET9 only.
fn check_python(out: &Value) {
    assert_eq!(out["protocolVersion"], "2026-07-28", "{out}");
    assert_eq!(out["toolsBefore"], json!(ALL_TOOLS), "{out}");
    assert_eq!(
        honored(&out["loud"]),
        json!({"toolsListChanged": true, "resourceSubscriptions": ["stock://ABC123"]}),
        "the loud listener's filter is acknowledged whole: {out}"
    );
    assert_eq!(honored(&out["quiet"]), json!({"resourceSubscriptions": ["stock://WIDGET9"]}), "{out}");

    succeeded(out, "adjustOther");
    assert_eq!(out["quietFirst"], json!({"event": "resource_updated", "uri": "stock://WIDGET9"}), "{out}");
    assert_eq!(succeeded(out, "adjust")["structuredContent"]["on_hand"], 5);
    // WIDGET9 changed first: had the server sent it to the loud listener too, it would be its first event.
    assert_eq!(out["loudFirst"], json!({"event": "resource_updated", "uri": "stock://ABC123"}), "{out}");

    assert!(succeeded(out, "maintenanceOn")["text"].as_str().unwrap().contains("maintenance on"), "{out}");
    assert_eq!(out["loudOn"], json!({"event": "tools_list_changed"}), "{out}");
    assert_eq!(out["toolsDuring"], json!(MAINTENANCE_TOOLS), "{out}");
    assert_eq!(out["adjustDuring"]["rpcError"]["code"], -32602, "a call of the disabled tool: {out}");
    assert_eq!(out["quietDuring"], Value::Null, "the quiet listener heard nothing more: {out}");
    assert!(succeeded(out, "maintenanceOff")["text"].as_str().unwrap().contains("maintenance off"), "{out}");
    assert_eq!(out["loudOff"], json!({"event": "tools_list_changed"}), "{out}");
    assert_eq!(out["toolsAfter"], json!(ALL_TOOLS), "{out}");

    // On the wire: every listen frame carries its listener's id, and the quiet listener's frames are the
    // WIDGET9 update alone (no list change, no ABC123).
    let frames = out["frames"].as_array().expect("frames");
    let stamped = |id: &Value, method: &str| {
        frames.iter().filter(|f| f["subscriptionId"] == *id && f["method"] == method).collect::<Vec<_>>()
    };
    let (loud, quiet) = (&out["loud"]["id"], &out["quiet"]["id"]);
    assert_eq!(stamped(loud, "notifications/tools/list_changed").len(), 2, "one per change: {frames:?}");
    let loud_updates = stamped(loud, "notifications/resources/updated");
    assert!(loud_updates.iter().all(|f| f["params"]["uri"] == "stock://ABC123"), "{loud_updates:?}");
    assert!(stamped(quiet, "notifications/tools/list_changed").is_empty(), "the quiet filter is honoured: {frames:?}");
    let quiet_updates = stamped(quiet, "notifications/resources/updated");
    assert!(
        !quiet_updates.is_empty() && quiet_updates.iter().all(|f| f["params"]["uri"] == "stock://WIDGET9"),
        "{quiet_updates:?}"
    );
    let unstamped: Vec<_> = frames
        .iter()
        .filter(|f| f["method"].as_str().is_some_and(|m| m.contains("changed") || m.contains("updated")))
        .filter(|f| f["subscriptionId"].is_null())
        .collect();
    assert!(unstamped.is_empty(), "2026-07-28 change notifications travel on a listen stream only: {unstamped:?}");
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_hears_list_changes_and_resource_updates_over_stdio() {
    check_typescript(&node_live(None));
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_hears_another_clients_changes_over_streamable_http() {
    let server = NetworkServer::inventory("http");
    check_typescript(&node_live(Some(&format!("{}/mcp", server.base))));
}

#[test]
#[ignore = "needs the Python client: run `cargo xtask test`"]
fn python_sdk_listens_over_stdio() {
    check_python(&python_live(None));
}

#[test]
#[ignore = "needs the Python client: run `cargo xtask test`"]
fn python_sdk_listens_over_streamable_http() {
    let server = NetworkServer::inventory("http");
    check_python(&python_live(Some(&format!("{}/mcp", server.base))));
}
