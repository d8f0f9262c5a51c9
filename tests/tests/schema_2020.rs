//! A tool's input schema given as JSON (`ToolBuilder::input_schema_json`) is listed exactly as written —
//! `$schema`, `$defs` with an `$anchor`, `allOf`/`anyOf`, `if`/`then`/`else`, `additionalProperties`, a
//! root `title` (SEP-1613, SEP-2106; the `json-schema-2020-12` scenario) — under every revision, and the
//! arguments are checked against all of it: a call violating a composition, a conditional branch or a
//! reference is refused as invalid arguments before the handler runs.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_runtime::prelude::*;
use mcp_runtime::server::Tool;
use mcp_tests::Harness;
use serde_json::{Value, json};

/// The `json-schema-2020-12` scenario's schema, plus a property that refers to `$defs.address` by its
/// anchor.
fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Contact",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "billing": {"$ref": "#addressDef"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    })
}

async fn serve() -> (Harness, Arc<AtomicUsize>) {
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let contact = Tool::builder("contact")
        .description("Records a contact.")
        .input_schema_json(schema())
        .handler(move |arguments, _ctx: Context| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                format!("recorded {}", Value::Object(arguments))
            }
        })
        .build()
        .expect("a valid tool");
    // Without arguments: the builder's closed empty object, tidied as a derived schema is.
    let bare = Tool::builder("bare").handler(|_arguments, _ctx: Context| async { "ok" }).build().unwrap();
    let untyped = Tool::builder("untyped")
        .input_schema_json(json!({"type": "object", "title": "Kept"}))
        .handler(|_arguments, _ctx: Context| async { "ok" })
        .build()
        .unwrap();
    let server = Server::new("schemas", "0.0.0").tool(contact).tool(bare).tool(untyped);
    (Harness::serve(server).await, ran)
}

fn listed(answer: &Value, name: &str) -> Value {
    let tools = answer["result"]["tools"].as_array().expect("a tool list");
    tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name} listed: {answer}"))["inputSchema"].clone()
}

#[tokio::test]
async fn a_json_schema_is_listed_exactly_as_written_under_every_revision() {
    let (mut h, _) = serve().await;
    let modern = json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    }});
    let stateless = h.request(1, "tools/list", modern).await;
    assert_eq!(listed(&stateless, "contact"), schema(), "2026-07-28");
    assert_eq!(listed(&stateless, "untyped"), json!({"type": "object", "title": "Kept"}), "no `properties` added");
    assert_eq!(listed(&stateless, "bare")["properties"], json!({}), "a derived schema still lists its properties");
    for version in ["2025-11-25", "2025-06-18", "2024-11-05"] {
        let mut h = serve().await.0;
        h.initialize(version).await;
        let answer = h.request(2, "tools/list", json!({})).await;
        assert_eq!(listed(&answer, "contact"), schema(), "{version}");
    }
}

#[tokio::test]
async fn arguments_are_checked_against_every_keyword() {
    let (mut h, ran) = serve().await;
    h.initialize("2025-11-25").await;
    let refused = [
        ("allOf/anyOf: neither phone nor email", json!({"name": "Ada"})),
        ("then: phone is the method but missing", json!({"contactMethod": "phone", "email": "a@b.c"})),
        ("else: email is the method but missing", json!({"contactMethod": "email", "phone": "123"})),
        ("$ref: a street that is not a string", json!({"email": "a@b.c", "address": {"street": 5}})),
        ("$anchor: a city that is not a string", json!({"email": "a@b.c", "billing": {"city": []}})),
        ("additionalProperties: false", json!({"email": "a@b.c", "fax": "1"})),
        ("enum", json!({"contactMethod": "pigeon", "email": "a@b.c"})),
    ];
    for (id, (case, arguments)) in (1..).zip(refused) {
        h.call(id, "contact", arguments).await;
        let answer = h.recv().await;
        assert_eq!(answer["result"]["isError"], true, "{case}: {answer}");
        let text = answer["result"]["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.starts_with("invalid arguments for tool `contact`"), "{case}: {text}");
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0, "no refused call reached the handler");
    let accepted = [
        json!({"contactMethod": "phone", "phone": "123"}),
        json!({"email": "a@b.c", "address": {"street": "Main", "city": "Oslo"}, "billing": {"city": "Oslo"}}),
        json!({"contactMethod": "email", "email": "a@b.c", "name": "Ada"}),
    ];
    for (id, arguments) in (100..).zip(accepted) {
        h.call(id, "contact", arguments.clone()).await;
        let answer = h.recv().await;
        assert!(answer["result"].get("isError").is_none(), "{arguments}: {answer}");
    }
    assert_eq!(ran.load(Ordering::SeqCst), 3);
}
