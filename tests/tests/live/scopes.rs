//! A caller hears only of changes it may see: the scopes of what changed filter the notifications, with
//! API keys over Streamable HTTP; and listener places are counted per caller.

use mcp_runtime::auth::key_digest;
use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuthStrategy, Config};
use mcp_runtime::transport::http::Flavor;
use serde_json::{Value, json};

use super::{QUIET, Running, Sse, assert_ack, assert_note, client, listen, post_listen};

const ADMIN_KEY: &str = "live-admin-key-0123456789";
const VIEWER_KEY: &str = "live-viewer-key-0123456789";

fn config() -> Config {
    let mut config = Config::default();
    config.security.strategy = AuthStrategy::ApiKey;
    config.security.keys = ApiKeys::Inline(vec![
        ApiKeyEntry { id: "admin".into(), hash: key_digest(ADMIN_KEY), scopes: vec!["live:admin".into()] },
        ApiKeyEntry { id: "viewer".into(), hash: key_digest(VIEWER_KEY), scopes: vec![] },
    ]);
    config.listen.max_listeners_per_caller = 1;
    config
}

#[tokio::test]
async fn a_caller_without_the_scope_of_a_changed_tool_hears_nothing_of_it() {
    let s = Running::start(Flavor::Streamable, config()).await;
    let c = client();
    let tools = json!({"toolsListChanged": true});
    let open = |key: &'static str, id: &'static str| {
        let request = post_listen(&c, &s.url, Some(key), &listen(id, tools.clone()));
        async move { Sse::new(request.send().await.unwrap()) }
    };
    let mut admin = open(ADMIN_KEY, "admin-1").await;
    assert_ack(&admin.message().await, "admin-1", tools.clone());
    let mut viewer = open(VIEWER_KEY, "viewer-1").await;
    assert_ack(&viewer.message().await, "viewer-1", tools.clone());

    // Places are per caller: the admin's second listen is refused, the viewer's first was not.
    let second = post_listen(&c, &s.url, Some(ADMIN_KEY), &listen("admin-2", tools.clone())).send().await.unwrap();
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32012, "{body}");

    assert!(s.handle.disable_tool("admin_only"));
    assert_note(&admin.message().await, "notifications/tools/list_changed", Some("admin-1"));
    assert!(viewer.message_within(QUIET).await.is_none(), "the viewer may not see admin_only: not told of it");

    assert!(s.handle.disable_tool("echo"));
    assert_note(&viewer.message().await, "notifications/tools/list_changed", Some("viewer-1"));
    assert_note(&admin.message().await, "notifications/tools/list_changed", Some("admin-1"));
}
