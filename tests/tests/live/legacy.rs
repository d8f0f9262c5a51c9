//! The legacy HTTP+SSE transport over real sockets: a session's notifications on its one stream.

use mcp_runtime::config::Config;
use mcp_runtime::transport::http::Flavor;
use mcp_tests::eventually;
use serde_json::json;

use super::{QUIET, Running, Sse, assert_note, client, post};

#[tokio::test]
async fn a_legacy_session_hears_changes_on_its_stream_until_it_goes_away() {
    let s = Running::start(Flavor::LegacySse, Config::default()).await;
    let c = client();
    let base = format!("http://{}", s.addr);
    let mut stream = Sse::new(c.get(format!("{base}/sse")).header("accept", "text/event-stream").send().await.unwrap());
    let messages = format!("{base}{}", stream.named("endpoint").await);
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    assert_eq!(post(&c, &messages, &initialize).send().await.unwrap().status(), 202);
    let answer = stream.message().await;
    assert_eq!(answer["id"], 0);
    assert_eq!(answer["result"]["capabilities"]["prompts"]["listChanged"], true, "{answer}");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(&c, &messages, &initialized).send().await.unwrap().status(), 202);

    assert!(s.handle.disable_prompt("greet"));
    assert_note(&stream.message().await, "notifications/prompts/list_changed", None);
    assert!(s.handle.remove_tool("echo"));
    assert_note(&stream.message().await, "notifications/tools/list_changed", None);

    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": "stock://A"}});
    assert_eq!(post(&c, &messages, &subscribe).send().await.unwrap().status(), 202);
    assert_eq!(stream.message().await["id"], 1);
    s.handle.notify_resource_updated("stock://B");
    s.handle.notify_resource_updated("stock://A");
    let updated = stream.message().await;
    assert_note(&updated, "notifications/resources/updated", None);
    assert_eq!(updated["params"]["uri"], "stock://A");
    assert!(stream.message_within(QUIET).await.is_none(), "no update of a resource nobody subscribed to");

    // The stream is the session: when its client goes away, the listener leaves the bus.
    assert_eq!(s.handle.bus().len(), 1);
    drop(stream);
    eventually("the listener leaves with the stream", || async { s.handle.bus().is_empty().then_some(()) }).await;
}
