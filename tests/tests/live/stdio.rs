//! stdio, through the real transport code over a pipe: the handshake session's notifications on the
//! connection, and `subscriptions/listen` on the same connection.

use mcp_runtime::config::Config;
use mcp_tests::{Harness, eventually};
use serde_json::{Value, json};

use super::{assert_ack, assert_ended, assert_note, listen, modern, server};

/// Sends `ping` as request `id` and returns what the server wrote before its answer.
async fn before_pong(h: &mut Harness, id: i64) -> Vec<Value> {
    h.send(json!({"jsonrpc": "2.0", "id": id, "method": "ping"})).await;
    let mut seen = Vec::new();
    loop {
        let message = h.recv().await;
        if message["id"] == id {
            return seen;
        }
        seen.push(message);
    }
}

fn tool_names(answer: &Value) -> Vec<&str> {
    answer["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_handshake_session_hears_list_changes_and_its_subscribed_updates() {
    let server = server(Config::default());
    let handle = server.handle();
    let mut h = Harness::serve(server).await;
    let capabilities = h.initialize("2025-11-25").await["capabilities"].clone();
    assert_eq!(capabilities["tools"]["listChanged"], true, "{capabilities}");
    assert_eq!(capabilities["resources"]["subscribe"], true, "{capabilities}");
    assert_eq!(handle.bus().len(), 1, "the session listens from initialize on");

    assert!(handle.disable_tool("echo"));
    assert_note(&h.recv().await, "notifications/tools/list_changed", None);
    assert_eq!(tool_names(&h.request(1, "tools/list", json!({})).await), ["admin_only"]);
    assert!(handle.disable_prompt("greet"));
    assert_note(&h.recv().await, "notifications/prompts/list_changed", None);

    let subscribed = h.request(2, "resources/subscribe", json!({"uri": "stock://A"})).await;
    assert!(subscribed.get("result").is_some(), "{subscribed}");
    handle.notify_resource_updated("stock://B");
    handle.notify_resource_updated("stock://A");
    let updated = h.recv().await;
    assert_note(&updated, "notifications/resources/updated", None);
    assert_eq!(updated["params"], json!({"uri": "stock://A"}));
    assert!(before_pong(&mut h, 3).await.is_empty(), "no update of a resource nobody subscribed to");

    h.request(4, "resources/unsubscribe", json!({"uri": "stock://A"})).await;
    handle.notify_resource_updated("stock://A");
    assert!(before_pong(&mut h, 5).await.is_empty(), "no update after unsubscribing");

    h.close_input().await;
    h.finished().await.unwrap();
    assert_eq!(handle.bus().len(), 0, "the session's listener left with the connection");
}

#[tokio::test]
async fn listen_is_acknowledged_first_honours_its_filter_and_ends_with_the_connection() {
    let server = server(Config::default());
    let handle = server.handle();
    let mut h = Harness::serve(server).await;
    let filter = json!({"promptsListChanged": true, "toolsListChanged": false, "resourceSubscriptions": ["stock://A"]});
    h.send(listen("listen-1", filter)).await;
    assert_ack(
        &h.recv().await,
        "listen-1",
        json!({"promptsListChanged": true, "resourceSubscriptions": ["stock://A"]}),
    );

    // A tools frame, had it been sent, would come first: list changes go out tools first.
    assert!(handle.disable_tool("echo"));
    assert!(handle.disable_prompt("greet"));
    assert_note(&h.recv().await, "notifications/prompts/list_changed", Some("listen-1"));
    handle.notify_resource_updated("stock://A");
    handle.notify_resource_updated("stock://B");
    let updated = h.recv().await;
    assert_note(&updated, "notifications/resources/updated", Some("listen-1"));
    assert_eq!(updated["params"]["uri"], "stock://A");

    // The client leaves: the bus closes, the listen ends with its result (after nothing else).
    h.close_input().await;
    assert_ended(&h.recv().await, "listen-1");
    h.finished().await.unwrap();
    assert_eq!(handle.bus().len(), 0);
}

#[tokio::test]
async fn listen_params_are_checked_and_unannounced_kinds_are_not_honoured() {
    let server = mcp_runtime::prelude::Server::new("tools-only", "0").tool(super::echo::SPEC);
    let mut h = Harness::serve(server).await;
    for (id, params) in [
        ("bad-1", json!({})),
        ("bad-2", json!({"notifications": {"toolsListChanged": "yes"}})),
        ("bad-3", json!({"notifications": {"resourceSubscriptions": "stock://A"}})),
    ] {
        h.send(modern(json!(id), "subscriptions/listen", params)).await;
        let answer = h.recv().await;
        assert_eq!(answer["id"], id);
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
    }
    // This server has no resources and no prompts: only the tool list is honoured.
    let everything = json!({"toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true,
        "resourceSubscriptions": ["stock://A"]});
    h.send(listen("listen-1", everything)).await;
    assert_ack(&h.recv().await, "listen-1", json!({"toolsListChanged": true}));
    // The handshake era has no subscriptions/listen.
    h.initialize("2025-11-25").await;
    let old = h.request(9, "subscriptions/listen", json!({"notifications": {}})).await;
    assert_eq!(old["error"]["code"], -32601, "{old}");
}

#[tokio::test]
async fn listeners_beyond_the_cap_are_refused_and_a_cancelled_listen_frees_its_place() {
    let mut config = Config::default();
    config.listen.max_listeners_per_caller = 1;
    let server = server(config);
    let handle = server.handle();
    let mut h = Harness::serve(server).await;
    h.send(listen("listen-1", json!({"toolsListChanged": true}))).await;
    assert_ack(&h.recv().await, "listen-1", json!({"toolsListChanged": true}));

    h.send(listen("listen-2", json!({"toolsListChanged": true}))).await;
    let refused = h.recv().await;
    assert_eq!(refused["id"], "listen-2");
    assert_eq!(refused["error"]["code"], -32012, "{refused}");
    assert_eq!(refused["error"]["data"]["limit"], "listeners", "{refused}");

    h.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "listen-1"}})).await;
    eventually("the cancelled listen leaves the bus", || async { (handle.bus().is_empty()).then_some(()) }).await;
    h.send(listen("listen-3", json!({"toolsListChanged": true}))).await;
    assert_ack(&h.recv().await, "listen-3", json!({"toolsListChanged": true}));

    // A cancelled request is never answered.
    assert!(before_pong(&mut h, 4).await.is_empty());
    h.close_input().await;
    assert_ended(&h.recv().await, "listen-3");
    h.finished().await.unwrap();
}
