//! The diagnostic tools the stateless scenarios (`server-stateless`, SEP-2575) probe the server with.
//!
//! - `test_missing_capability` needs the client's `sampling`: a 2026-07-28 client that did not declare it
//!   is answered −32021 (MissingRequiredClientCapability, HTTP 400) with `data.requiredCapabilities:
//!   {"sampling": {}}` — the runtime answers so when a tool fails after being refused a request for what
//!   the client did not declare.
//! - `test_streaming_elicitation` asks the user for input: under 2026-07-28 its response stream carries an
//!   `input_required` result, never an `elicitation/create` request of its own.
//! - `test_logging_tool` logs at several levels: the client sees `notifications/message` only when its
//!   request set `_meta` `io.modelcontextprotocol/logLevel` (and only at that level or above).
//!
//! (The hooks that change the tool and prompt lists for its `subscriptions/listen` checks are in
//! `triggers.rs`.)

use mcp_runtime::prelude::*;
use serde_json::json;

/// Asks the client's model for a one-word answer; needs the client's `sampling` capability.
#[mcp_tool]
async fn test_missing_capability(ctx: Context) -> Result<String, ToolError> {
    let params = json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": "Say yes."}}],
        "maxTokens": 10
    });
    let answer = ctx.create_message(params).await.map_err(ToolError::msg)?;
    Ok(format!("sampling answered: {}", answer["content"]["text"].as_str().unwrap_or_default()))
}

/// Asks the user to confirm, then says what they answered.
#[mcp_tool]
async fn test_streaming_elicitation(ctx: Context) -> Result<String, ToolError> {
    let params = json!({
        "message": "Please confirm to continue",
        "requestedSchema": {
            "type": "object",
            "properties": {"confirmed": {"type": "boolean", "description": "Confirm?"}},
            "required": ["confirmed"]
        }
    });
    let answer = ctx.elicit(params).await.map_err(ToolError::msg)?;
    Ok(format!("Elicitation completed: action={}, content={}", answer["action"], answer["content"]))
}

/// Logs a debug, an info and a warning message while it runs.
#[mcp_tool]
async fn test_logging_tool(ctx: Context) -> &'static str {
    ctx.log(LogLevel::Debug, "test_logging_tool: debug detail").await;
    ctx.info("test_logging_tool: started").await;
    ctx.log(LogLevel::Warning, "test_logging_tool: a warning").await;
    "Logging test completed"
}
