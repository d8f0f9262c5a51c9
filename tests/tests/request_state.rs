//! 2026-07-28 multi-round-trip requests (SEP-2322) as a client sees them, over Streamable HTTP and stdio:
//! a tool, a prompt and a resource answer `input_required` with their requests and a sealed
//! `requestState`; the retry resumes from it over several rounds, on another replica holding the keys
//! too; a tampered, expired, foreign or unknown-key state is refused −32602; only declared capabilities
//! are asked for; malformed `inputResponses` are refused; the state is bounded.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuthStrategy, Config, SecretRef};
use mcp_runtime::prelude::*;
use mcp_tests::{Harness, ServedHttp, answer_of, modern_post, result_text};
use serde_json::{Value, json};

fn form(message: &str, field: &str) -> InputRequest {
    InputRequest::Elicit(json!({"message": message, "requestedSchema": {"type": "object",
        "properties": {field: {"type": "string"}}, "required": [field]}}))
}

fn accepted(answer: &Value, field: &str) -> String {
    answer["content"][field].as_str().unwrap_or("?").to_owned()
}

/// How often `trip`'s costly first step ran.
static PLANNED: AtomicUsize = AtomicUsize::new(0);

/// Plans once (remembered across rounds), then asks a city and, in a second round, a date.
#[mcp_tool]
async fn trip(ctx: Context, traveller: String) -> Result<String, ToolError> {
    let plan: Vec<String> = ctx
        .remember("plan", async {
            PLANNED.fetch_add(1, Ordering::SeqCst);
            vec!["flight".to_owned(), "hotel".to_owned()]
        })
        .await;
    let city = ctx.ask("city", form("Where to?", "city")).await.map_err(ToolError::msg)?;
    let date = ctx.ask("date", form("When?", "date")).await.map_err(ToolError::msg)?;
    Ok(format!("{traveller}: {} to {} on {}", plan.join("+"), accepted(&city, "city"), accepted(&date, "date")))
}

/// Asks the model and the user at once, each only if the client declared the capability.
#[mcp_tool]
async fn both(ctx: Context) -> String {
    let (user, model) = tokio::join!(
        ctx.ask("user", form("Name?", "name")),
        ctx.ask("model", InputRequest::CreateMessage(json!({"messages": [], "maxTokens": 5})))
    );
    format!("user: {}; model: {}", user.is_ok(), model.is_ok())
}

/// Keeps more than `[request_state].max_bytes` before asking.
#[mcp_tool]
async fn hoards(ctx: Context) -> Result<String, ToolError> {
    let blob = ctx.remember("blob", async { "x".repeat(4096) }).await;
    ctx.ask("more", form("More?", "more")).await.map_err(ToolError::msg)?;
    Ok(blob.len().to_string())
}

/// A prompt that asks for its topic first.
#[mcp_prompt]
async fn briefing(ctx: Context) -> Result<String, ToolError> {
    let topic = ctx.ask("topic", form("Topic?", "topic")).await.map_err(ToolError::msg)?;
    Ok(format!("Brief me on {}", accepted(&topic, "topic")))
}

/// A resource that asks which chapter to read.
#[mcp_resource(uri = "test://book", name = "book", mime_type = "text/plain")]
async fn book(ctx: Context) -> Result<String, ResourceError> {
    let chapter =
        ctx.ask("chapter", form("Chapter?", "chapter")).await.map_err(|e| ResourceError::Failed(e.to_string()))?;
    Ok(format!("chapter {}", accepted(&chapter, "chapter")))
}

const KEY_A: &str = "request-state-test-key-A-0123456789abcdef";
const KEY_B: &str = "request-state-test-key-B-0123456789abcdef";
const ALICE: &str = "request-state-alice-7d1e";
const BOB: &str = "request-state-bob-2c9a";

fn config(keys: &[&str]) -> Config {
    let mut config = Config::default();
    config.audit.destination = "none".to_owned();
    config.security.allow_inline_secrets = true;
    config.request_state.keys = keys.iter().map(|k| SecretRef::Inline((*k).to_owned())).collect();
    config
}

fn keyed(keys: &[&str]) -> Config {
    let mut config = config(keys);
    config.security.strategy = AuthStrategy::ApiKey;
    config.security.keys = ApiKeys::Inline(vec![
        ApiKeyEntry { id: "alice".into(), hash: mcp_runtime::auth::key_digest(ALICE), scopes: vec![] },
        ApiKeyEntry { id: "bob".into(), hash: mcp_runtime::auth::key_digest(BOB), scopes: vec![] },
    ]);
    config
}

fn server(config: Config) -> Server {
    Server::new("request-state-test", "0.0.0")
        .tool(trip::SPEC)
        .tool(both::SPEC)
        .tool(hoards::SPEC)
        .prompt(briefing::SPEC)
        .resource(book::SPEC)
        .config(config)
}

fn elicitation() -> Value {
    json!({"elicitation": {}})
}

/// A 2026-07-28 peer of one transport.
enum Peer {
    Http { served: std::sync::Arc<ServedHttp>, c: reqwest::Client, key: Option<&'static str> },
    Stdio(Harness),
}

impl Peer {
    async fn http(config: Config, key: Option<&'static str>) -> Self {
        let served = std::sync::Arc::new(ServedHttp::serve(server(config)).await);
        Self::Http { served, c: reqwest::Client::new(), key }
    }

    async fn stdio(config: Config) -> Self {
        Self::Stdio(Harness::serve(server(config)).await)
    }

    /// The same server, reached with another key.
    fn as_key(&self, key: &'static str) -> Self {
        match self {
            Self::Http { served, c, .. } => {
                Self::Http { served: std::sync::Arc::clone(served), c: c.clone(), key: Some(key) }
            }
            Self::Stdio(_) => unreachable!("keys are for HTTP"),
        }
    }

    /// Sends `method` with `params` (and `_meta` declaring `capabilities`); the answer.
    async fn send(&mut self, method: &str, params: Value, capabilities: Value) -> Value {
        match self {
            Self::Stdio(h) => {
                let mut params = params;
                params["_meta"] = mcp_tests::modern_meta_with(capabilities);
                h.request(9, method, params).await
            }
            Self::Http { served, c, key } => {
                let mut r = modern_post(c, &served.url, json!(9), method, params, capabilities);
                if let Some(key) = key {
                    r = r.bearer_auth(key);
                }
                answer_of(r.send().await.unwrap(), &json!(9)).await.1
            }
        }
    }

    async fn call(&mut self, tool: &str, arguments: Value, extra: Value) -> Value {
        let mut params = json!({"name": tool, "arguments": arguments});
        merge(&mut params, extra);
        self.send("tools/call", params, elicitation()).await
    }
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

/// The `input_required` result of an answer, checked; its `requestState` and request keys.
#[track_caller]
fn input_required(answer: &Value) -> (String, Vec<String>) {
    let result = &answer["result"];
    assert_eq!(result["resultType"], "input_required", "{answer}");
    let keys = result["inputRequests"].as_object().unwrap_or_else(|| panic!("{answer}")).keys().cloned().collect();
    let state = result["requestState"].as_str().unwrap_or_else(|| panic!("a requestState: {answer}")).to_owned();
    (state, keys)
}

#[track_caller]
fn refused(answer: &Value, says: &str) {
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{says:?} in {answer}");
}

fn accept(field: &str, value: &str) -> Value {
    json!({"action": "accept", "content": {field: value}})
}

async fn rounds(peer: &mut Peer) {
    let before = PLANNED.load(Ordering::SeqCst);
    let args = json!({"traveller": "Ada"});
    let first = peer.call("trip", args.clone(), json!({})).await;
    let (state1, keys) = input_required(&first);
    assert_eq!(keys, ["city"]);
    assert_eq!(first["result"]["inputRequests"]["city"]["method"], "elicitation/create", "{first}");

    let second = peer
        .call("trip", args.clone(), json!({"inputResponses": {"city": accept("city", "Oslo")}, "requestState": state1}))
        .await;
    let (state2, keys) = input_required(&second);
    assert_eq!(keys, ["date"], "the city is answered; the date is asked: {second}");
    assert_ne!(state1, state2);

    // The third round sends only the date: the city travels in the state.
    let third = peer
        .call(
            "trip",
            args.clone(),
            json!({"inputResponses": {"date": accept("date", "May 1")}, "requestState": state2}),
        )
        .await;
    assert_eq!(third["result"]["resultType"], "complete", "{third}");
    assert_eq!(result_text(&third["result"]), "Ada: flight+hotel to Oslo on May 1", "{third}");
    assert_eq!(PLANNED.load(Ordering::SeqCst) - before, 1, "the remembered step ran once over three rounds");

    // Without the state, the earlier round's answer is unknown: asked again, not an error.
    let again = peer.call("trip", args, json!({"inputResponses": {"date": accept("date", "May 1")}})).await;
    assert_eq!(input_required(&again).1, ["city"], "{again}");
}

#[tokio::test]
async fn a_tool_asks_over_several_rounds_over_http() {
    rounds(&mut Peer::http(config(&[KEY_A]), None).await).await;
}

#[tokio::test]
async fn a_tool_asks_over_several_rounds_over_stdio() {
    rounds(&mut Peer::stdio(config(&[])).await).await;
}

#[tokio::test]
async fn prompts_and_resources_ask_too() {
    for mut peer in [Peer::http(config(&[KEY_A]), None).await, Peer::stdio(config(&[KEY_A])).await] {
        let first = peer.send("prompts/get", json!({"name": "briefing"}), elicitation()).await;
        let (state, keys) = input_required(&first);
        assert_eq!(keys, ["topic"]);
        let params =
            json!({"name": "briefing", "inputResponses": {"topic": accept("topic", "tides")}, "requestState": state});
        let done = peer.send("prompts/get", params, elicitation()).await;
        assert_eq!(done["result"]["resultType"], "complete", "{done}");
        assert_eq!(done["result"]["messages"][0]["content"]["text"], "Brief me on tides", "{done}");

        let first = peer.send("resources/read", json!({"uri": "test://book"}), elicitation()).await;
        let (state, keys) = input_required(&first);
        assert_eq!(keys, ["chapter"]);
        // A state is bound to its request: the prompt's does not open the resource's.
        let params =
            json!({"uri": "test://book", "inputResponses": {"chapter": accept("chapter", "3")}, "requestState": state});
        let done = peer.send("resources/read", params, elicitation()).await;
        assert_eq!(done["result"]["contents"][0]["text"], "chapter 3", "{done}");
    }
}

#[tokio::test]
async fn tampered_foreign_and_expired_states_are_refused() {
    let mut config = keyed(&[KEY_A]);
    config.request_state.ttl = Duration::from_secs(1);
    let mut alice = Peer::http(config, Some(ALICE)).await;
    let mut bob = alice.as_key(BOB);
    let args = json!({"traveller": "Ada"});
    let (state, _) = input_required(&alice.call("trip", args.clone(), json!({})).await);
    let answers = json!({"city": accept("city", "Oslo")});

    let tampered = format!("{state}-TAMPERED");
    let mut flipped = state.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    for bad in [tampered, String::from_utf8(flipped).unwrap(), "not a state".to_owned()] {
        let answer = alice.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": bad})).await;
        refused(&answer, "tampered");
    }
    let answer = alice.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": 42})).await;
    refused(&answer, "requestState must be the string");

    let answer = bob.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": state})).await;
    refused(&answer, "another caller");
    let other = json!({"traveller": "Bea"});
    let answer = alice.call("trip", other, json!({"inputResponses": answers, "requestState": state})).await;
    refused(&answer, "another request");
    let answer = alice.call("both", json!({}), json!({"inputResponses": answers, "requestState": state})).await;
    refused(&answer, "another request");

    // Alice's own retry goes through while the state is fresh, and not after its ttl.
    let fresh = alice.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": state})).await;
    assert_eq!(input_required(&fresh).1, ["date"], "{fresh}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let late = alice.call("trip", args, json!({"inputResponses": answers, "requestState": state})).await;
    refused(&late, "expired");
}

#[tokio::test]
async fn a_retry_may_reach_another_replica_holding_the_keys() {
    let args = json!({"traveller": "Ada"});
    let answers = json!({"city": accept("city", "Oslo")});
    let mut first = Peer::http(config(&[KEY_A]), None).await;
    let (state, _) = input_required(&first.call("trip", args.clone(), json!({})).await);

    let mut same = Peer::http(config(&[KEY_A]), None).await;
    let answer = same.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": state})).await;
    assert_eq!(input_required(&answer).1, ["date"], "a replica with the same key resumes: {answer}");

    // Rotation: the new key first, the old one still listed: old states open, new ones are sealed anew.
    let mut rotated = Peer::http(config(&[KEY_B, KEY_A]), None).await;
    let answer = rotated.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": state})).await;
    let (by_new_key, _) = input_required(&answer);
    let mut retired = Peer::http(config(&[KEY_B]), None).await;
    let answer = retired
        .call(
            "trip",
            args.clone(),
            json!({"inputResponses": {"date": accept("date", "June")}, "requestState": by_new_key}),
        )
        .await;
    assert_eq!(result_text(&answer["result"]), "Ada: flight+hotel to Oslo on June", "{answer}");
    let answer = retired.call("trip", args.clone(), json!({"inputResponses": answers, "requestState": state})).await;
    refused(&answer, "key this server does not hold");

    // Without configured keys a process seals with its own: another process cannot open them.
    let mut own = Peer::http(config(&[]), None).await;
    let answer = own.call("trip", args, json!({"inputResponses": answers, "requestState": state})).await;
    refused(&answer, "key this server does not hold");
}

#[tokio::test]
async fn only_declared_capabilities_are_asked_for() {
    let mut peer = Peer::http(config(&[KEY_A]), None).await;
    let answer = peer.send("tools/call", json!({"name": "both", "arguments": {}}), json!({"sampling": {}})).await;
    let (_, keys) = input_required(&answer);
    assert_eq!(keys, ["model"], "no elicitation request to a client without elicitation: {answer}");
    let answer = peer.send("tools/call", json!({"name": "both", "arguments": {}}), json!({})).await;
    assert_eq!(result_text(&answer["result"]), "user: false; model: false", "nothing to ask: {answer}");
    // A tool that fails for want of what it was refused: −32021 naming the capability (SEP-2575).
    let answer = peer.send("tools/call", json!({"name": "trip", "arguments": {"traveller": "Ada"}}), json!({})).await;
    assert_eq!(answer["error"]["code"], -32021, "{answer}");
    assert_eq!(answer["error"]["data"]["requiredCapabilities"], json!({"elicitation": {}}), "{answer}");
}

#[tokio::test]
async fn malformed_input_responses_are_refused_and_unknown_ones_ignored() {
    let mut peer = Peer::http(config(&[KEY_A]), None).await;
    let args = json!({"traveller": "Ada"});
    for bad in [json!(null), json!(12), json!(["city"]), json!({"city": 12345})] {
        let answer = peer.call("trip", args.clone(), json!({"inputResponses": bad})).await;
        refused(&answer, "inputResponses");
    }
    let extra = json!({"city": accept("city", "Oslo"), "unrelated": {"action": "accept", "content": {}}});
    let answer = peer.call("trip", args, json!({"inputResponses": extra})).await;
    assert_eq!(input_required(&answer).1, ["date"], "{answer}");
}

#[tokio::test]
async fn a_state_beyond_max_bytes_is_a_clear_error() {
    let mut config = config(&[KEY_A]);
    config.request_state.max_bytes = 1024;
    let mut peer = Peer::http(config, None).await;
    let answer = peer.call("hoards", json!({}), json!({})).await;
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("request_state.max_bytes"), "{answer}");
    let answer = peer.call("trip", json!({"traveller": "Ada"}), json!({"requestState": "A".repeat(2000)})).await;
    refused(&answer, "longer than the 1024 bytes");
}

#[tokio::test]
async fn the_handshake_era_ignores_input_responses() {
    let mut h = Harness::start(server(config(&[KEY_A]))).await;
    let answer = h
        .request(
            3,
            "tools/call",
            json!({"name": "both", "arguments": {}, "inputResponses": {"user": {}}, "requestState": "x"}),
        )
        .await;
    assert_eq!(result_text(&answer["result"]), "user: false; model: false", "{answer}");
}
