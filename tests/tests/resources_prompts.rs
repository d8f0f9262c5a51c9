//! Resources, resource templates, prompts and completion, served in-process through the real stdio
//! transport code, with handlers written here: listings per revision, reads, "not found" in both eras,
//! subscriptions, prompt arguments, completion, and the start-up checks.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::collections::BTreeMap;

use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_tests::{Harness, modern_meta};
use serde::Serialize;
use serde_json::{Value, json};

/// A 1x1 PNG.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49,
    0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// # Static Text
/// A static text resource for testing.
#[mcp_resource(uri = "test://static-text", name = "static-text", mime_type = "text/plain")]
async fn static_text() -> &'static str {
    "This is the content of the static text resource."
}

/// A static binary resource for testing.
#[mcp_resource(uri = "test://static-binary", mime_type = "image/png", ttl = "60s")]
async fn static_binary() -> Vec<u8> {
    PIXEL.to_vec()
}

/// A resource that can be subscribed to.
#[mcp_resource(uri = "test://watched-resource", mime_type = "text/plain")]
async fn watched() -> String {
    "Watched resource content.".to_owned()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateData {
    id: String,
    template_test: bool,
    data: String,
}

/// Data for one id; `missing` does not exist.
#[mcp_resource(uri = "test://template/{id}/data", title = "Template data", mime_type = "application/json")]
async fn template_data(#[complete(complete_id)] id: String) -> Option<Json<TemplateData>> {
    (id != "missing").then(|| Json(TemplateData { data: format!("Data for ID: {id}"), id, template_test: true }))
}

async fn complete_id(value: String, _ctx: CompletionContext) -> Vec<String> {
    ["123", "124", "200"].into_iter().filter(|id| id.starts_with(&value)).map(str::to_owned).collect()
}

/// Notes kept by the server.
struct Notes {
    by_key: BTreeMap<&'static str, &'static str>,
}

/// One note, by key: needs state, reports the request it serves.
#[mcp_resource(uri = "notes://{owner}/{key}")]
async fn note(owner: String, key: String, notes: State<Notes>, ctx: Context) -> Result<String, ResourceError> {
    if owner == "broken" {
        return Err(ResourceError::msg("the notes store is offline"));
    }
    let text = notes.by_key.get(key.as_str()).ok_or(ResourceError::NotFound)?;
    Ok(format!("{owner}/{key}: {text} (request {})", ctx.request_id()))
}

/// Panics.
#[mcp_resource(uri = "test://explodes")]
async fn explodes() -> String {
    panic!("the disk caught fire")
}

/// A simple prompt without arguments.
#[mcp_prompt]
async fn test_simple_prompt() -> &'static str {
    "This is a simple prompt for testing."
}

/// # Prompt with arguments
/// A prompt with two required arguments.
#[mcp_prompt]
async fn test_prompt_with_arguments(
    /// First test argument
    #[complete(complete_city)]
    arg1: String,
    /// Second test argument
    arg2: String,
) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

async fn complete_city(value: String, ctx: CompletionContext) -> Vec<String> {
    let cities = ["paris", "park", "party", "berlin"];
    let suffix = ctx.argument("arg2").map(|a| format!(" ({a})")).unwrap_or_default();
    cities.into_iter().filter(|c| c.starts_with(&value)).map(|c| format!("{c}{suffix}")).collect()
}

/// Embeds a resource.
#[mcp_prompt(name = "test_prompt_with_embedded_resource")]
async fn embedded(
    /// URI of the resource to embed
    #[allow(non_snake_case)]
    resourceUri: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(Content::embedded_text(
            resourceUri,
            "text/plain",
            "Embedded resource content for testing.",
        )),
        PromptMessage::user_text("Please process the embedded resource above."),
    ]
}

/// Greets in a language; fails for Klingon.
#[mcp_prompt(title = "Greeting")]
async fn greet(
    /// Who to greet.
    #[complete(complete_many)]
    name: String,
    /// The language; English when absent.
    language: Option<String>,
) -> Result<GetPromptResult, ToolError> {
    let language = language.unwrap_or_else(|| "English".to_owned());
    if language == "Klingon" {
        return Err(ToolError::msg("no Klingon greetings today"));
    }
    let mut result = GetPromptResult::new(vec![PromptMessage::user_text(format!("Greet {name} in {language}."))]);
    result.description = Some(format!("A greeting in {language}"));
    Ok(result)
}

async fn complete_many(value: String, _ctx: CompletionContext) -> Vec<String> {
    (0..150).map(|i| format!("{value}{i}")).collect()
}

fn server() -> Server {
    Server::new("resources-prompts-test", "0.0.0")
        .resource(static_text::SPEC)
        .resource(static_binary::SPEC)
        .resource(watched::SPEC)
        .resource(template_data::SPEC)
        .resource(note::SPEC)
        .resource(explodes::SPEC)
        .prompt(test_simple_prompt::SPEC)
        .prompt(test_prompt_with_arguments::SPEC)
        .prompt(embedded::SPEC)
        .prompt(greet::SPEC)
        .with_state(Notes { by_key: BTreeMap::from([("hello", "world")]) })
}

async fn modern(h: &mut Harness, id: i64, method: &str, mut params: Value) -> Value {
    params["_meta"] = modern_meta();
    h.request(id, method, params).await
}

#[tokio::test]
async fn a_server_without_tools_advertises_what_it_has() {
    let mut h = Harness::serve(server()).await;
    let init = h.initialize("2025-11-25").await;
    let capabilities = &init["capabilities"];
    assert_eq!(capabilities["resources"], json!({"subscribe": true, "listChanged": true}));
    assert_eq!(capabilities["prompts"], json!({"listChanged": true}));
    assert_eq!(capabilities["completions"], json!({}));
    assert!(capabilities.get("tools").is_none(), "no tools, no tools capability: {capabilities}");
    let tools = h.request(1, "tools/list", json!({})).await;
    assert_eq!(tools["error"]["code"], -32601, "a method behind an absent capability is unknown");
}

#[tokio::test]
async fn resources_are_listed_sorted_with_titles_where_the_revision_has_them() {
    let mut h = Harness::start(server()).await;
    let list = h.request(1, "resources/list", json!({})).await;
    let resources = list["result"]["resources"].as_array().unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(uris, ["test://explodes", "test://static-binary", "test://static-text", "test://watched-resource"]);
    assert_eq!(
        resources[2],
        json!({"uri": "test://static-text", "name": "static-text", "title": "Static Text",
               "description": "A static text resource for testing.", "mimeType": "text/plain"})
    );
    let templates = h.request(2, "resources/templates/list", json!({})).await;
    assert_eq!(
        templates["result"]["resourceTemplates"],
        json!([
            {"uriTemplate": "notes://{owner}/{key}", "name": "note",
             "description": "One note, by key: needs state, reports the request it serves."},
            {"uriTemplate": "test://template/{id}/data", "name": "template_data", "title": "Template data",
             "description": "Data for one id; `missing` does not exist.", "mimeType": "application/json"}
        ])
    );

    let mut old = Harness::serve(server()).await;
    old.initialize("2025-03-26").await;
    let list = old.request(1, "resources/list", json!({})).await;
    assert!(list["result"]["resources"][2].get("title").is_none(), "no titles before 2025-06-18");
    let prompts = old.request(2, "prompts/list", json!({})).await;
    assert!(prompts["result"]["prompts"].as_array().unwrap().iter().all(|p| p.get("title").is_none()));
}

#[tokio::test]
async fn every_list_pages_with_cursors() {
    let mut config = Config::default();
    config.tools.page_size = 3;
    let mut h = Harness::start(server().config(config)).await;
    let first = h.request(1, "resources/list", json!({})).await;
    assert_eq!(first["result"]["resources"].as_array().unwrap().len(), 3);
    let cursor = first["result"]["nextCursor"].as_str().expect("more to come").to_owned();
    let second = h.request(2, "resources/list", json!({"cursor": cursor})).await;
    assert_eq!(second["result"]["resources"][0]["uri"], "test://watched-resource");
    assert!(second["result"].get("nextCursor").is_none());
    let prompts = h.request(3, "prompts/list", json!({})).await;
    let cursor = prompts["result"]["nextCursor"].as_str().unwrap().to_owned();
    let rest = h.request(4, "prompts/list", json!({"cursor": cursor})).await;
    assert_eq!(rest["result"]["prompts"][0]["name"], "test_simple_prompt");
    let bad = h.request(5, "resources/templates/list", json!({"cursor": "c99"})).await;
    assert_eq!(bad["error"]["code"], -32602);
    assert!(bad["error"]["message"].as_str().unwrap().contains("resources/templates/list"));
}

#[tokio::test]
async fn reads_return_text_blobs_and_template_instances() {
    let mut h = Harness::start(server()).await;
    let text = h.request(1, "resources/read", json!({"uri": "test://static-text"})).await;
    assert_eq!(
        text["result"],
        json!({"contents": [{"uri": "test://static-text", "mimeType": "text/plain",
                             "text": "This is the content of the static text resource."}]})
    );
    let blob = h.request(2, "resources/read", json!({"uri": "test://static-binary"})).await;
    let contents = &blob["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "image/png");
    assert!(contents["blob"].as_str().unwrap().starts_with("iVBORw0KGgo"), "base64 of a PNG: {contents}");
    let data = h.request(3, "resources/read", json!({"uri": "test://template/123/data"})).await;
    let contents = &data["result"]["contents"][0];
    assert_eq!(
        (&contents["uri"], &contents["mimeType"]),
        (&json!("test://template/123/data"), &json!("application/json"))
    );
    let parsed: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(parsed, json!({"id": "123", "templateTest": true, "data": "Data for ID: 123"}));
    let note = h.request(4, "resources/read", json!({"uri": "notes://ann/hello"})).await;
    assert_eq!(note["result"]["contents"][0]["text"], "ann/hello: world (request 4)", "state and context injected");
}

#[tokio::test]
async fn not_found_is_32002_in_the_handshake_era_and_32602_with_the_uri_in_2026() {
    let mut h = Harness::start(server()).await;
    for (id, uri) in [(1, "test://nowhere"), (2, "test://template/missing/data"), (3, "notes://ann/absent")] {
        let answer = h.request(id, "resources/read", json!({"uri": uri})).await;
        assert_eq!(answer["error"]["code"], -32002, "{answer}");
        assert_eq!(answer["error"]["data"], json!({"uri": uri}));
    }
    for (id, uri) in [(4, "test://nowhere"), (5, "test://template/missing/data")] {
        let answer = modern(&mut h, id, "resources/read", json!({"uri": uri})).await;
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
        assert_eq!(answer["error"]["data"], json!({"uri": uri}));
    }
    let missing = h.request(6, "resources/read", json!({})).await;
    assert_eq!(missing["error"]["code"], -32602);
}

#[tokio::test]
async fn failures_are_internal_errors_and_the_server_keeps_serving() {
    let mut h = Harness::start(server()).await;
    let failed = h.request(1, "resources/read", json!({"uri": "notes://broken/x"})).await;
    assert_eq!(failed["error"]["code"], -32603);
    assert!(failed["error"]["message"].as_str().unwrap().contains("the notes store is offline"), "{failed}");
    let panicked = h.request(2, "resources/read", json!({"uri": "test://explodes"})).await;
    assert_eq!(panicked["error"]["code"], -32603);
    assert!(!panicked["error"]["message"].as_str().unwrap().contains("fire"), "the panic stays in the logs");
    let fine = h.request(3, "resources/read", json!({"uri": "test://static-text"})).await;
    assert!(fine.get("result").is_some());
}

#[tokio::test]
async fn modern_reads_and_lists_carry_the_cache_envelope() {
    let mut h = Harness::serve(server()).await;
    let read = modern(&mut h, 1, "resources/read", json!({"uri": "test://static-binary"})).await;
    let result = &read["result"];
    assert_eq!(
        (&result["resultType"], &result["cacheScope"], &result["ttlMs"]),
        (&json!("complete"), &json!("private"), &json!(60_000))
    );
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "resources-prompts-test");
    let text = modern(&mut h, 2, "resources/read", json!({"uri": "test://static-text"})).await;
    assert_eq!(text["result"]["ttlMs"], 0, "no ttl declared: immediately stale");
    for (id, method) in [(3, "resources/list"), (4, "resources/templates/list"), (5, "prompts/list")] {
        let list = modern(&mut h, id, method, json!({})).await;
        assert_eq!(list["result"]["cacheScope"], "public", "{method}");
        assert!(list["result"]["ttlMs"].is_u64(), "{method}");
    }
    let prompt = modern(&mut h, 6, "prompts/get", json!({"name": "test_simple_prompt"})).await;
    assert_eq!(prompt["result"]["resultType"], "complete");
    assert!(prompt["result"].get("ttlMs").is_none(), "prompts/get is not cacheable");
}

#[tokio::test]
async fn subscriptions_are_kept_per_session_and_not_part_of_2026() {
    let mut h = Harness::start(server()).await;
    let sub = h.request(1, "resources/subscribe", json!({"uri": "test://watched-resource"})).await;
    assert_eq!(sub["result"], json!({}));
    let instance = h.request(2, "resources/subscribe", json!({"uri": "test://template/123/data"})).await;
    assert_eq!(instance["result"], json!({}), "a template instance can be watched");
    let unknown = h.request(3, "resources/subscribe", json!({"uri": "test://nowhere"})).await;
    assert_eq!(unknown["error"]["code"], -32002);
    let unsub = h.request(4, "resources/unsubscribe", json!({"uri": "test://watched-resource"})).await;
    assert_eq!(unsub["result"], json!({}));
    let again = h.request(5, "resources/unsubscribe", json!({"uri": "test://watched-resource"})).await;
    assert_eq!(again["result"], json!({}), "unsubscribing twice is harmless");
    let modern_sub = modern(&mut h, 6, "resources/subscribe", json!({"uri": "test://watched-resource"})).await;
    assert_eq!(modern_sub["error"]["code"], -32601, "2026-07-28 has subscriptions/listen instead");
}

#[tokio::test]
async fn prompts_list_their_arguments() {
    let mut h = Harness::start(server()).await;
    let list = h.request(1, "prompts/list", json!({})).await;
    let prompts = list["result"]["prompts"].as_array().unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["greet", "test_prompt_with_arguments", "test_prompt_with_embedded_resource", "test_simple_prompt"]
    );
    assert_eq!(
        prompts[1],
        json!({"name": "test_prompt_with_arguments", "title": "Prompt with arguments",
               "description": "A prompt with two required arguments.",
               "arguments": [
                   {"name": "arg1", "description": "First test argument", "required": true},
                   {"name": "arg2", "description": "Second test argument", "required": true}]})
    );
    assert_eq!(
        prompts[0]["arguments"][1],
        json!({"name": "language", "description": "The language; English when absent.", "required": false})
    );
    assert!(prompts[3].get("arguments").is_none(), "no arguments, no list");
    assert_eq!(prompts[2]["arguments"][0]["name"], "resourceUri");
}

#[tokio::test]
async fn prompts_get_fills_arguments_and_refuses_bad_ones() {
    let mut h = Harness::start(server()).await;
    let simple = h.request(1, "prompts/get", json!({"name": "test_simple_prompt"})).await;
    assert_eq!(
        simple["result"],
        json!({"description": "A simple prompt without arguments.",
               "messages": [{"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}]})
    );
    let args = json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "hello", "arg2": "world"}});
    let with_args = h.request(2, "prompts/get", args).await;
    assert_eq!(
        with_args["result"]["messages"][0]["content"]["text"],
        "Prompt with arguments: arg1='hello', arg2='world'"
    );
    let embedded = h
        .request(
            3,
            "prompts/get",
            json!({"name": "test_prompt_with_embedded_resource", "arguments": {"resourceUri": "test://x"}}),
        )
        .await;
    assert_eq!(embedded["result"]["messages"][0]["content"]["resource"]["uri"], "test://x");
    let greeting = h.request(4, "prompts/get", json!({"name": "greet", "arguments": {"name": "Ada"}})).await;
    assert_eq!(greeting["result"]["description"], "A greeting in English", "the function's description wins");
    assert_eq!(greeting["result"]["messages"][0]["content"]["text"], "Greet Ada in English.");

    let missing =
        h.request(5, "prompts/get", json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x"}})).await;
    assert_eq!(missing["error"]["code"], -32602);
    assert!(missing["error"]["message"].as_str().unwrap().contains("arg2"), "{missing}");
    let unknown_arg =
        h.request(6, "prompts/get", json!({"name": "greet", "arguments": {"name": "Ada", "mood": "sunny"}})).await;
    assert_eq!(unknown_arg["error"]["code"], -32602);
    let unknown = h.request(7, "prompts/get", json!({"name": "nope"})).await;
    assert_eq!(unknown["error"]["code"], -32602);
    let failed = h
        .request(8, "prompts/get", json!({"name": "greet", "arguments": {"name": "Ada", "language": "Klingon"}}))
        .await;
    assert_eq!(failed["error"]["code"], -32603);
    assert!(failed["error"]["message"].as_str().unwrap().contains("no Klingon greetings today"));
}

#[tokio::test]
async fn completion_suggests_caps_at_100_and_sees_the_other_arguments() {
    let mut h = Harness::start(server()).await;
    let prompt_ref = json!({"type": "ref/prompt", "name": "test_prompt_with_arguments"});
    let cities = h
        .request(1, "completion/complete", json!({"ref": prompt_ref, "argument": {"name": "arg1", "value": "par"}}))
        .await;
    assert_eq!(
        cities["result"],
        json!({"completion": {"values": ["paris", "park", "party"], "total": 3, "hasMore": false}})
    );
    let with_context = h
        .request(2, "completion/complete", json!({"ref": prompt_ref, "argument": {"name": "arg1", "value": "be"}, "context": {"arguments": {"arg2": "x"}}}))
        .await;
    assert_eq!(with_context["result"]["completion"]["values"], json!(["berlin (x)"]));
    let template_ref = json!({"type": "ref/resource", "uri": "test://template/{id}/data"});
    let ids = h
        .request(3, "completion/complete", json!({"ref": template_ref, "argument": {"name": "id", "value": "12"}}))
        .await;
    assert_eq!(ids["result"]["completion"]["values"], json!(["123", "124"]));
    let many = h
        .request(
            4,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "a"}}),
        )
        .await;
    let completion = &many["result"]["completion"];
    assert_eq!(
        (completion["values"].as_array().unwrap().len(), &completion["total"], &completion["hasMore"]),
        (100, &json!(150), &json!(true))
    );
    let no_completer = h
        .request(5, "completion/complete", json!({"ref": prompt_ref, "argument": {"name": "arg2", "value": "w"}}))
        .await;
    assert_eq!(no_completer["result"]["completion"]["values"], json!([]));

    let unknown_prompt = h
        .request(
            6,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "a", "value": ""}}),
        )
        .await;
    assert_eq!(unknown_prompt["error"]["code"], -32602);
    let unknown_argument = h
        .request(7, "completion/complete", json!({"ref": prompt_ref, "argument": {"name": "arg9", "value": ""}}))
        .await;
    assert_eq!(unknown_argument["error"]["code"], -32602);
    let modern_completion = modern(
        &mut h,
        8,
        "completion/complete",
        json!({"ref": template_ref, "argument": {"name": "id", "value": "2"}}),
    )
    .await;
    assert_eq!(modern_completion["result"]["completion"]["values"], json!(["200"]));
    assert_eq!(modern_completion["result"]["resultType"], "complete");
}

#[tokio::test]
async fn a_tools_only_server_has_no_resource_or_prompt_methods() {
    /// Does nothing.
    #[mcp_tool]
    async fn noop() {}

    let mut h = Harness::start(Server::new("tools-only", "0").tool(noop::SPEC)).await;
    for (id, method) in [(1, "resources/list"), (2, "resources/read"), (3, "prompts/list"), (4, "completion/complete")]
    {
        assert_eq!(h.request(id, method, json!({})).await["error"]["code"], -32601, "{method}");
    }
}

#[test]
fn linked_collects_the_resources_and_prompts_of_the_binary() {
    let pipeline =
        Pipeline::build(Server::new("linked", "0").linked().with_state(Notes { by_key: BTreeMap::new() })).unwrap();
    let app = pipeline.app();
    let catalog = app.catalog();
    assert!(catalog.resources().get("test://static-text").is_some());
    assert!(catalog.resources().template("test://template/{id}/data").is_some());
    assert!(catalog.prompts().get("greet").is_some());
    let manifest = app.manifest();
    assert!(manifest["resourceTemplates"].as_array().is_some_and(|t| t.len() == 2), "{manifest}");
}

#[test]
fn start_up_names_duplicates_and_missing_state() {
    let error = Pipeline::build(Server::new("s", "0").resource(watched::SPEC).resource(watched::SPEC)).unwrap_err();
    let error = error.to_string();
    assert!(
        error.contains("test://watched-resource") && error.matches("resources_prompts.rs:").count() == 2,
        "{error}"
    );
    let error = Pipeline::build(Server::new("s", "0").resource(note::SPEC)).unwrap_err().to_string();
    assert!(error.contains("resource `note`") && error.contains("Notes"), "{error}");
    let error = Pipeline::build(Server::new("s", "0").prompt(greet::SPEC).prompt(greet::SPEC)).unwrap_err().to_string();
    assert!(error.contains("two prompts are named `greet`"), "{error}");
}

#[test]
fn the_annotated_functions_stay_callable() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(test_simple_prompt()), "This is a simple prompt for testing.");
    assert!(rt.block_on(template_data("missing".to_owned())).is_none());
}
