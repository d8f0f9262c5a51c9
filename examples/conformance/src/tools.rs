//! The tools of the conformance scenarios (`tools-call-*`, `json-schema-2020-12`, `elicitation-*`,
//! `server-sse-polling`).

use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::server::{RegistryError, Tool};
use serde_json::{Value, json};

/// A 1×1 red PNG.
pub(crate) const RED_PIXEL_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A WAV file with a header and no samples.
const SILENT_WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";

/// Returns a simple text response.
#[mcp_tool]
async fn test_simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Returns an image.
#[mcp_tool]
async fn test_image_content() -> Content {
    Content::image(RED_PIXEL_PNG, "image/png")
}

/// Returns audio.
#[mcp_tool]
async fn test_audio_content() -> Content {
    Content::audio(SILENT_WAV, "audio/wav")
}

/// Returns an embedded resource.
#[mcp_tool]
async fn test_embedded_resource() -> Content {
    Content::embedded_text("test://embedded-resource", "text/plain", "This is an embedded resource content.")
}

/// Returns text, an image and an embedded resource.
#[mcp_tool]
async fn test_multiple_content_types() -> Vec<Content> {
    vec![
        Content::text("Multiple content types test:"),
        Content::image(RED_PIXEL_PNG, "image/png"),
        Content::embedded_text("test://mixed-content-resource", "application/json", r#"{"test":"data","value":123}"#),
    ]
}

/// Sends three log messages while it runs.
#[mcp_tool]
async fn test_tool_with_logging(ctx: Context) -> &'static str {
    ctx.info("Tool execution started").await;
    tokio_sleep(50).await;
    ctx.info("Tool processing data").await;
    tokio_sleep(50).await;
    ctx.info("Tool execution completed").await;
    "Logging test completed"
}

/// Always fails.
#[mcp_tool]
async fn test_error_handling() -> Result<String, ToolError> {
    Err(ToolError::msg("This tool intentionally returns an error for testing"))
}

/// Reports progress 0, 50 and 100 of 100.
#[mcp_tool]
async fn test_tool_with_progress(ctx: Context) -> &'static str {
    ctx.progress(0.0, Some(100.0), None).await;
    tokio_sleep(50).await;
    ctx.progress(50.0, Some(100.0), None).await;
    tokio_sleep(50).await;
    ctx.progress(100.0, Some(100.0), None).await;
    "Progress test completed"
}

/// Asks the client's model to answer a prompt.
#[mcp_tool]
async fn test_sampling(
    /// The prompt to send to the LLM.
    prompt: String,
    ctx: Context,
) -> Result<String, ToolError> {
    let params = json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
        "maxTokens": 100
    });
    let answer = ctx.create_message(params).await.map_err(ToolError::msg)?;
    let text = answer["content"]["text"].as_str().unwrap_or_default();
    Ok(format!("LLM response: {text}"))
}

/// Asks the user for a username and an email.
#[mcp_tool]
async fn test_elicitation(
    /// The message to show the user.
    message: String,
    ctx: Context,
) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    });
    let answer = elicit(&ctx, &message, schema).await?;
    Ok(format!("User response: <action: {}, content: {}>", answer["action"], answer["content"]))
}

/// Asks for input with a default for every primitive type (SEP-1034).
#[mcp_tool]
async fn test_elicitation_sep1034_defaults(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": true}
        }
    });
    let answer = elicit(&ctx, "Please review and update the form fields with defaults", schema).await?;
    Ok(format!("Elicitation completed: action={}, content={}", answer["action"], answer["content"]))
}

/// Asks for input with every enum form (SEP-1330).
#[mcp_tool]
async fn test_elicitation_sep1330_enums(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"}
            ]},
            "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "items": {"anyOf": [
                {"const": "value1", "title": "First Choice"},
                {"const": "value2", "title": "Second Choice"},
                {"const": "value3", "title": "Third Choice"}
            ]}}
        }
    });
    let answer = elicit(&ctx, "Please choose from the enum options", schema).await?;
    Ok(format!("Elicitation completed: action={}, content={}", answer["action"], answer["content"]))
}

async fn elicit(ctx: &Context, message: &str, schema: Value) -> Result<Value, ToolError> {
    ctx.elicit(json!({"message": message, "requestedSchema": schema})).await.map_err(ToolError::msg)
}

/// The input schema of `json_schema_2020_12_tool`, exactly as the `json-schema-2020-12` scenario writes it:
/// `$schema`, `$defs` with an `$anchor`, a `$ref`, `allOf`/`anyOf`, `if`/`then`/`else` and
/// `additionalProperties` (SEP-1613, SEP-2106). The server lists it unchanged and checks arguments against
/// all of it.
pub(crate) fn json_schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
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

/// `json_schema_2020_12_tool`: a builder tool, since its schema (composition, conditionals, an anchor) is
/// one no Rust type derives. It says back the arguments that passed the schema.
///
/// # Errors
/// None in practice: the name, schema and handler are fixed (the builder reports any problem).
pub(crate) fn json_schema_2020_12_tool() -> Result<Tool, RegistryError> {
    Tool::builder("json_schema_2020_12_tool")
        .description("Tool with JSON Schema 2020-12 features")
        .input_schema_json(json_schema_2020_12())
        .handler(|arguments, _ctx: Context| async move { format!("arguments: {}", Value::Object(arguments)) })
        .build()
}

/// Closes its SSE stream mid-call; the client resumes and gets the answer (SEP-1699).
#[mcp_tool]
async fn test_reconnection(ctx: Context) -> &'static str {
    ctx.close_stream(Duration::from_millis(500)).await;
    tokio_sleep(200).await;
    "Reconnection test completed successfully"
}

async fn tokio_sleep(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
