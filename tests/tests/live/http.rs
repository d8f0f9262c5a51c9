//! Streamable HTTP over real sockets: a handshake session's notifications on its standalone GET stream,
//! and `subscriptions/listen` streamed on its POST.

use std::time::Duration;

use mcp_runtime::config::Config;
use mcp_runtime::transport::http::Flavor;
use mcp_tests::eventually;
use serde_json::{Value, json};

use super::{QUIET, Running, Sse, assert_ack, assert_ended, assert_note, client, listen, post, post_listen};

/// Opens a handshake session (2025-11-25); returns its id.
async fn open_session(c: &reqwest::Client, url: &str) -> String {
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let r = post(c, url, &initialize).send().await.unwrap();
    assert_eq!(r.status(), 200, "initialize succeeds");
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let r = post(c, url, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    id
}

fn get_stream(c: &reqwest::Client, url: &str, session: &str) -> reqwest::RequestBuilder {
    c.get(url).header("accept", "text/event-stream").header("mcp-session-id", session)
}

async fn in_session(c: &reqwest::Client, url: &str, session: &str, body: Value) -> Value {
    let r = post(c, url, &body).header("mcp-session-id", session).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn no_listeners(running: &Running) {
    eventually("every listener leaves the bus", || async { running.handle.bus().is_empty().then_some(()) }).await;
}

#[tokio::test]
async fn a_session_hears_on_its_get_stream_what_changed_before_and_after_it_opened() {
    let s = Running::start(Flavor::Streamable, Config::default()).await;
    let c = client();
    let session = open_session(&c, &s.url).await;
    // No stream is open yet: the change waits, coalesced, for one.
    assert!(s.handle.disable_tool("echo"));
    tokio::time::sleep(Duration::from_millis(50)).await; // the delivery task takes the first one, and waits
    assert!(s.handle.enable_tool("echo"));
    let mut stream = Sse::new(get_stream(&c, &s.url, &session).send().await.unwrap());
    assert_note(&stream.message().await, "notifications/tools/list_changed", None);
    assert!(stream.message_within(QUIET).await.is_none(), "two changes while nobody listened: one notification");

    let subscribe = json!({"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": "stock://A"}});
    assert!(in_session(&c, &s.url, &session, subscribe).await.get("result").is_some());
    s.handle.notify_resource_updated("stock://B");
    s.handle.notify_resource_updated("stock://A");
    let updated = stream.message().await;
    assert_note(&updated, "notifications/resources/updated", None);
    assert_eq!(updated["params"]["uri"], "stock://A");
    assert!(stream.message_within(QUIET).await.is_none(), "no update of a resource nobody subscribed to");

    // A second stream: what changes goes to the latest one, once.
    let mut again = Sse::new(get_stream(&c, &s.url, &session).send().await.unwrap());
    assert!(s.handle.disable_prompt("greet"));
    assert_note(&again.message().await, "notifications/prompts/list_changed", None);
    assert!(stream.message_within(QUIET).await.is_none(), "each notification goes on one stream");

    // DELETE ends the session: its stream ends and its listener leaves the bus at once.
    assert_eq!(c.delete(&s.url).header("mcp-session-id", &session).send().await.unwrap().status(), 200);
    assert!(again.ends().await);
    no_listeners(&s).await;
}

#[tokio::test]
async fn sessions_listen_whatever_the_listen_caps_which_hold_for_subscriptions_listen() {
    // The caps of `[listen]` bound `subscriptions/listen` requests; sessions are bounded by the session caps,
    // so many sessions of one caller each hear of changes (the conformance suite opens dozens).
    let mut config = Config::default();
    config.listen.max_listeners = 1;
    config.listen.max_listeners_per_caller = 1;
    let s = Running::start(Flavor::Streamable, config).await;
    let c = client();
    let sessions = [open_session(&c, &s.url).await, open_session(&c, &s.url).await, open_session(&c, &s.url).await];
    assert_eq!(s.handle.bus().len(), 3, "every session has its listener");
    let mut streams = Vec::new();
    for session in &sessions {
        let r = get_stream(&c, &s.url, session).send().await.unwrap();
        assert_eq!(r.status(), 200);
        streams.push(Sse::new(r));
    }
    let filter = json!({"toolsListChanged": true});
    let mut listening =
        Sse::new(post_listen(&c, &s.url, None, &listen("listen-1", filter.clone())).send().await.unwrap());
    assert_ack(&listening.message().await, "listen-1", filter.clone());
    let refused = post_listen(&c, &s.url, None, &listen("listen-2", filter.clone())).send().await.unwrap();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["data"]["limit"], "listeners", "the listen beyond the cap is refused: {body}");

    assert!(s.handle.disable_prompt("greet"));
    for stream in &mut streams {
        assert_note(&stream.message().await, "notifications/prompts/list_changed", None);
    }
    for session in &sessions {
        assert_eq!(c.delete(&s.url).header("mcp-session-id", session).send().await.unwrap().status(), 200);
    }
    drop(listening);
    no_listeners(&s).await;
}

#[tokio::test]
async fn listen_is_acknowledged_at_once_streams_its_filter_and_ends_at_shutdown() {
    let mut s = Running::start(Flavor::Streamable, Config::default()).await;
    let c = client();
    let session = open_session(&c, &s.url).await;
    let mut session_stream = Sse::new(get_stream(&c, &s.url, &session).send().await.unwrap());
    let r = post_listen(&c, &s.url, None, &listen("listen-1", json!({"toolsListChanged": true}))).send().await.unwrap();
    let mut stream = Sse::new(r);
    let ack = stream.message_within(Duration::from_secs(2)).await.expect("the acknowledgment is flushed at once");
    assert_ack(&ack, "listen-1", json!({"toolsListChanged": true}));

    assert!(s.handle.disable_prompt("greet"));
    assert!(s.handle.disable_tool("echo"));
    assert_note(&stream.message().await, "notifications/tools/list_changed", Some("listen-1"));
    assert!(stream.message_within(QUIET).await.is_none(), "no prompts frame: it was not asked for");

    let mut heard = [session_stream.message().await, session_stream.message().await].map(|m| m["method"].clone());
    heard.sort_by_key(|m| m.to_string());
    assert_eq!(heard, ["notifications/prompts/list_changed", "notifications/tools/list_changed"]);

    let shutdown = std::time::Instant::now();
    s.shut_down();
    assert_ended(&stream.message().await, "listen-1");
    assert!(stream.ends().await);
    assert!(session_stream.ends().await, "a session's GET stream ends when the shutdown starts");
    s.stopped().await;
    let took = shutdown.elapsed();
    assert!(took < Duration::from_secs(5), "no open stream held the server through its 10 s grace: {took:?}");
}

#[tokio::test]
async fn a_listen_beyond_the_cap_is_refused_and_a_hang_up_frees_its_place() {
    let mut config = Config::default();
    config.listen.max_listeners_per_caller = 1;
    let s = Running::start(Flavor::Streamable, config).await;
    let c = client();
    let filter = json!({"resourceSubscriptions": ["stock://A"]});
    let mut first = Sse::new(post_listen(&c, &s.url, None, &listen("listen-1", filter.clone())).send().await.unwrap());
    assert_ack(&first.message().await, "listen-1", filter.clone());
    s.handle.notify_resource_updated("stock://A");
    let updated = first.message().await;
    assert_note(&updated, "notifications/resources/updated", Some("listen-1"));
    assert_eq!(updated["params"]["uri"], "stock://A");

    let refused = post_listen(&c, &s.url, None, &listen("listen-2", filter.clone())).send().await.unwrap();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["id"], "listen-2");
    assert_eq!(body["error"]["code"], -32012, "{body}");
    assert_eq!(body["error"]["data"]["limit"], "listeners", "{body}");

    drop(first); // the client hangs up
    no_listeners(&s).await;
    let mut third = Sse::new(post_listen(&c, &s.url, None, &listen("listen-3", filter.clone())).send().await.unwrap());
    assert_ack(&third.message().await, "listen-3", filter);

    let json_only = c
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "subscriptions/listen")
        .body(listen("listen-4", json!({"toolsListChanged": true})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(json_only.status(), 406, "a listen needs a stream to answer on");
}

#[tokio::test]
async fn a_burst_of_updates_reaches_a_listen_whole_however_small_the_stream_log() {
    let mut config = Config::default();
    config.http.replay_events = 4;
    let s = Running::start(Flavor::Streamable, config).await;
    let c = client();
    let uris: Vec<String> = (0..40).map(|i| format!("stock://{i:02}")).collect();
    let filter = json!({"resourceSubscriptions": uris});
    let mut stream = Sse::new(post_listen(&c, &s.url, None, &listen("burst", filter.clone())).send().await.unwrap());
    assert_ack(&stream.message().await, "burst", filter);
    for uri in &uris {
        s.handle.notify_resource_updated(uri);
    }
    let mut heard = Vec::new();
    while heard.len() < uris.len() {
        let message = stream.message().await;
        assert_note(&message, "notifications/resources/updated", Some("burst"));
        heard.push(message["params"]["uri"].as_str().unwrap().to_owned());
    }
    heard.sort();
    assert_eq!(heard, uris, "the stream's writer waits for its reader: nothing is dropped from its log unread");
}

#[tokio::test]
async fn an_idle_session_expires_and_its_listener_leaves_the_bus_but_a_listening_one_stays() {
    let mut config = Config::default();
    config.http.session_idle_timeout = Duration::from_millis(500);
    let s = Running::start(Flavor::Streamable, config).await;
    let c = client();
    let listening = open_session(&c, &s.url).await;
    let mut stream = Sse::new(get_stream(&c, &s.url, &listening).send().await.unwrap());
    open_session(&c, &s.url).await;
    assert_eq!(s.handle.bus().len(), 2);
    eventually("the idle session expires", || async { (s.handle.bus().len() == 1).then_some(()) }).await;

    // The session whose GET stream is read is not idle: it still hears, and still serves.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(s.handle.disable_tool("echo"));
    assert_note(&stream.message().await, "notifications/tools/list_changed", None);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(in_session(&c, &s.url, &listening, ping).await["id"], 1);
    drop(stream);
    no_listeners(&s).await;
}
