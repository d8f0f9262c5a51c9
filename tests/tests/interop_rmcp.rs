//! The rmcp client (the official Rust SDK) against the inventory binary, in both protocol eras.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use mcp_tests::{NetworkServer, OPS_KEY, TIMEOUT, inventory_bin};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
    ResourceUpdatedNotificationParam, SubscribeRequestParams, SubscriptionFilter,
};
use rmcp::service::{NotificationContext, Peer, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientCacheConfig, ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::{Map, Value, json};
use tokio::process::Command;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

fn transport() -> TokioChildProcess {
    let mut command = Command::new(inventory_bin());
    command.env("MCP_CLIENT_KEY", OPS_KEY);
    TokioChildProcess::new(command).expect("the inventory binary starts")
}

/// rmcp's Streamable HTTP client configuration, presenting the inventory's API key as a bearer token.
fn http(url: String) -> StreamableHttpClientTransportConfig {
    StreamableHttpClientTransportConfig::with_uri(url).auth_header(OPS_KEY)
}

fn config() -> ClientConfig {
    ClientConfig::new(ClientCapabilities::default(), Implementation::new("mcp-tests-rmcp", "0.0.1"))
}

async fn call(client: &Peer<RoleClient>, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().expect("an object");
    client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)).await.expect("a result")
}

fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.as_str()).collect::<Vec<_>>().join("\n")
}

async fn exercise(client: &RunningService<RoleClient, ClientConfig>) {
    client.set_response_cache_config(ClientCacheConfig::disabled()).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["adjust_stock", "list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"]);
    let lookup = tools.iter().find(|t| t.name == "lookup_stock").unwrap();
    let schema = Value::Object((*lookup.input_schema).clone());
    assert_eq!(schema["properties"]["sku"]["pattern"], "^[A-Z0-9]{5,12}$");
    assert_eq!(schema["properties"]["warehouse_id"]["minLength"], 3);

    let ok = call(client, "lookup_stock", json!({"sku": "ABC123"})).await;
    assert_ne!(ok.is_error, Some(true));
    assert_eq!(ok.structured_content.as_ref().unwrap()["on_hand"], 42);

    let bad = call(client, "lookup_stock", json!({"sku": "abc"})).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("^[A-Z0-9]{5,12}$"), "{}", text(&bad));

    let warehouses = call(client, "list_warehouses", json!({})).await;
    assert_eq!(warehouses.structured_content.unwrap()["result"].as_array().unwrap().len(), 2);

    let adjusted = call(client, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 5})).await;
    assert_eq!(adjusted.structured_content.unwrap()["on_hand"], 130);

    let unknown = client.call_tool(CallToolRequestParams::new("no_such_tool")).await;
    assert!(unknown.is_err(), "an unknown tool is a JSON-RPC error");
}

#[tokio::test]
async fn rmcp_handshake_client() {
    let client = config().serve(transport()).await.expect("initialize");
    let info = client.peer_info().expect("the server answered initialize");
    assert_eq!(
        info.protocol_version,
        ProtocolVersion::V_2025_11_25,
        "rmcp asks for 2026-07-28 in initialize; the handshake era tops out at 2025-11-25"
    );
    exercise(&client).await;
    client.cancel().await.expect("clean shutdown");
}

#[tokio::test]
async fn rmcp_stateless_2026_client() {
    let mode = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = config().serve_with_lifecycle(transport(), mode).await.expect("server/discover");
    let info = client.peer_info().expect("the server answered server/discover");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    exercise(&client).await;
    client.cancel().await.expect("clean shutdown");
}

#[tokio::test]
async fn rmcp_over_streamable_http_in_both_eras() {
    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let client =
        config().serve(StreamableHttpClientTransport::from_config(http(url.clone()))).await.expect("initialize");
    assert_eq!(client.peer_info().unwrap().protocol_version, ProtocolVersion::V_2025_11_25);
    exercise(&client).await;
    client.cancel().await.expect("clean shutdown");

    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let mode = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = config()
        .serve_with_lifecycle(StreamableHttpClientTransport::from_config(http(url)), mode)
        .await
        .expect("discover");
    assert_eq!(client.peer_info().unwrap().protocol_version, ProtocolVersion::V_2026_07_28);
    exercise(&client).await;
    client.cancel().await.expect("clean shutdown");
}

/// A client whose "model" always answers "4".
#[derive(Clone)]
struct Model;

// rmcp marks sampling deprecated (SEP-2577); it is still in every published revision this runtime serves.
#[allow(deprecated)]
impl rmcp::ClientHandler for Model {
    async fn create_message(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ErrorData> {
        assert_eq!(params.max_tokens, 100);
        let message = rmcp::model::SamplingMessage::new(
            rmcp::model::Role::Assistant,
            rmcp::model::SamplingMessageContentBlock::text("4"),
        );
        Ok(rmcp::model::CreateMessageResult::new(message, "test-model".to_owned()))
    }

    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.sampling = Some(rmcp::model::SamplingCapability::default());
        ClientConfig::new(capabilities, Implementation::new("mcp-tests-rmcp-model", "0.0.1"))
    }
}

#[tokio::test]
async fn a_tool_samples_the_client_model_in_both_eras() {
    use mcp_tests::conformance_bin;
    let spawn = || TokioChildProcess::new(Command::new(conformance_bin())).expect("the conformance server starts");
    let args = json!({"prompt": "2+2?"}).as_object().cloned().unwrap();
    let ask = || CallToolRequestParams::new("test_sampling").with_arguments(args.clone());
    // Handshake era: the server sends sampling/createMessage on the connection.
    let client = Model.serve(spawn()).await.expect("initialize");
    assert_eq!(text(&client.call_tool(ask()).await.unwrap()), "LLM response: 4");
    client.cancel().await.expect("clean shutdown");
    // 2026-07-28: the server answers input_required, rmcp asks the model and calls again.
    let mode = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = Model.serve_with_lifecycle(spawn(), mode).await.expect("server/discover");
    assert_eq!(client.peer_info().unwrap().protocol_version, ProtocolVersion::V_2026_07_28);
    assert_eq!(text(&client.call_tool(ask()).await.unwrap()), "LLM response: 4");
    client.cancel().await.expect("clean shutdown");
}

/// A client that reports every change notification its handler hears, as `method` or `method uri`.
#[derive(Clone)]
struct Heard(UnboundedSender<String>);

impl rmcp::ClientHandler for Heard {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send("notifications/tools/list_changed".to_owned());
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(format!("notifications/resources/updated {}", params.uri));
    }

    fn get_info(&self) -> ClientConfig {
        config()
    }
}

/// A client with its change notifications, the cache off so every `tools/list` asks the server.
async fn heard_client<T, E, A>(transport: T) -> (RunningService<RoleClient, Heard>, UnboundedReceiver<String>)
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let client = Heard(tx).serve(transport).await.expect("initialize");
    client.set_response_cache_config(ClientCacheConfig::disabled()).await;
    (client, rx)
}

/// The next notification `Heard` reported, within [`TIMEOUT`].
async fn heard(rx: &mut UnboundedReceiver<String>, what: &str) -> String {
    tokio::time::timeout(TIMEOUT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no notification within {TIMEOUT:?} while waiting for {what}"))
        .expect("the client's handler is alive")
}

async fn tool_names(client: &Peer<RoleClient>) -> Vec<String> {
    client.list_all_tools().await.expect("tools/list").into_iter().map(|t| t.name.to_string()).collect()
}

const ALL_TOOLS: [&str; 5] =
    ["adjust_stock", "list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"];
const MAINTENANCE_TOOLS: [&str; 4] = ["list_warehouses", "lookup_stock", "recount_warehouse", "set_maintenance"];

/// `admin` changes the inventory, `listener` hears it through its `ClientHandler` (`events`): its subscribed
/// `stock://ABC123` announced updated by `adjust_stock` (WIDGET9, adjusted first, not), and `set_maintenance`
/// taking `adjust_stock` off the server and back, each a `tools/list_changed`.
async fn hear_a_live_inventory(
    listener: &Peer<RoleClient>,
    events: &mut UnboundedReceiver<String>,
    admin: &Peer<RoleClient>,
) {
    let info = listener.peer_info().expect("the server answered initialize");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    let caps = &info.capabilities;
    assert_eq!(caps.tools.as_ref().and_then(|t| t.list_changed), Some(true), "{caps:?}");
    assert_eq!(caps.resources.as_ref().and_then(|r| r.subscribe), Some(true), "{caps:?}");

    #[allow(deprecated)] // resources/subscribe is the handshake era's way; rmcp points 2026-07-28 at listen
    listener.subscribe(SubscribeRequestParams::new("stock://ABC123")).await.expect("resources/subscribe");
    call(admin, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 1})).await;
    let adjusted = call(admin, "adjust_stock", json!({"sku": "ABC123", "warehouse_id": "WH-WEST", "delta": 3})).await;
    assert_eq!(adjusted.structured_content.unwrap()["on_hand"], 5);
    assert_eq!(
        heard(events, "resources/updated").await,
        "notifications/resources/updated stock://ABC123",
        "the subscribed SKU only (WIDGET9 changed first)"
    );

    let on = call(admin, "set_maintenance", json!({"enabled": true})).await;
    assert!(text(&on).contains("maintenance on"), "{}", text(&on));
    assert_eq!(heard(events, "tools/list_changed").await, "notifications/tools/list_changed");
    assert_eq!(tool_names(listener).await, MAINTENANCE_TOOLS);
    let refused = admin.call_tool(CallToolRequestParams::new("adjust_stock").with_arguments(Map::new())).await;
    assert!(refused.is_err(), "adjust_stock is off the server: {refused:?}");

    let off = call(admin, "set_maintenance", json!({"enabled": false})).await;
    assert!(text(&off).contains("maintenance off"), "{}", text(&off));
    assert_eq!(heard(events, "tools/list_changed").await, "notifications/tools/list_changed");
    assert_eq!(tool_names(listener).await, ALL_TOOLS);
}

#[tokio::test]
async fn rmcp_hears_list_changes_and_resource_updates_in_the_handshake_era() {
    let (client, mut events) = heard_client(transport()).await;
    hear_a_live_inventory(&client, &mut events, &client).await;
    client.cancel().await.expect("clean shutdown");
    assert_eq!(events.try_recv().ok(), None, "nothing more was announced");
}

/// Over Streamable HTTP another client's changes reach the listener on its session's GET stream.
#[tokio::test]
async fn rmcp_hears_another_clients_changes_over_streamable_http() {
    let server = NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let (listener, mut events) = heard_client(StreamableHttpClientTransport::from_config(http(url.clone()))).await;
    let admin = config().serve(StreamableHttpClientTransport::from_config(http(url))).await.expect("initialize");
    hear_a_live_inventory(&listener, &mut events, &admin).await;
    admin.cancel().await.expect("clean shutdown");
    listener.cancel().await.expect("clean shutdown");
    assert_eq!(events.try_recv().ok(), None, "nothing more was announced");
}

/// The next notification on a 2026-07-28 listen stream, as `method` or `method uri`, within [`TIMEOUT`].
async fn next_on(subscription: &mut rmcp::service::Subscription, what: &str) -> String {
    let notification = tokio::time::timeout(TIMEOUT, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("no notification within {TIMEOUT:?} while waiting for {what}"))
        .expect("the stream carries valid notifications")
        .unwrap_or_else(|| panic!("the stream ended ({:?}) while waiting for {what}", subscription.end()));
    let wire = serde_json::to_value(&notification).expect("a notification serializes");
    match wire["params"]["uri"].as_str() {
        Some(uri) => format!("{} {uri}", wire["method"].as_str().unwrap_or_default()),
        None => wire["method"].as_str().unwrap_or_default().to_owned(),
    }
}

/// rmcp's `Peer::listen` in 2026-07-28: the filter acknowledged, and the same events on the stream (rmcp
/// itself ends the stream if a notification falls outside the acknowledged filter or lacks its id).
#[tokio::test]
async fn rmcp_listens_for_changes_in_2026_07_28() {
    let mode = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = config().serve_with_lifecycle(transport(), mode).await.expect("server/discover");
    client.set_response_cache_config(ClientCacheConfig::disabled()).await;
    let filter = SubscriptionFilter::builder().tools_list_changed().resource_subscription("stock://ABC123").build();
    let mut stream = client.listen(filter.clone()).await.expect("subscriptions/listen");
    assert_eq!(stream.acknowledged(), &filter, "the whole filter is honoured");

    call(&client, "adjust_stock", json!({"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 1})).await;
    call(&client, "adjust_stock", json!({"sku": "ABC123", "warehouse_id": "WH-WEST", "delta": 3})).await;
    assert_eq!(next_on(&mut stream, "resources/updated").await, "notifications/resources/updated stock://ABC123");
    call(&client, "set_maintenance", json!({"enabled": true})).await;
    assert_eq!(next_on(&mut stream, "tools/list_changed").await, "notifications/tools/list_changed");
    assert_eq!(tool_names(&client).await, MAINTENANCE_TOOLS);
    call(&client, "set_maintenance", json!({"enabled": false})).await;
    assert_eq!(next_on(&mut stream, "tools/list_changed").await, "notifications/tools/list_changed");
    assert_eq!(tool_names(&client).await, ALL_TOOLS);
    stream.cancel().await.expect("the listen request is cancelled");
    client.cancel().await.expect("clean shutdown");
}
