//! The tools of the conformance suite's task scenarios (`tasks-*`, SEP-2663): a plain tool, and tools
//! that run as tasks, end with a tool error or a protocol error, and ask for input inside the task or
//! before it.

use std::time::Duration;

use mcp_runtime::prelude::*;
use serde_json::{Value, json};

/// Greets someone, at once (never as a task).
#[mcp_tool]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Computes for `seconds`, then answers; a task when the client can take one.
#[mcp_tool(task = "optional")]
async fn slow_compute(seconds: u64, label: Option<String>) -> String {
    tokio::time::sleep(Duration::from_secs(seconds.min(600))).await;
    format!("computed {} after {seconds}s", label.unwrap_or_default())
}

/// Works for a second, then reports that the job failed (a tool error); only as a task.
#[mcp_tool(task = "required")]
async fn failing_job() -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err(ToolError::msg("the job failed"))
}

/// Panics after a short while: the task ends `failed` with a protocol error, not a tool result.
#[mcp_tool(task = "optional")]
async fn protocol_error_job() -> String {
    tokio::time::sleep(Duration::from_millis(200)).await;
    panic!("protocol_error_job fails on purpose")
}

fn confirm(message: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]},
    })
}

fn accepted(answer: &Value) -> bool {
    answer["action"] == "accept"
}

/// Asks the user to confirm, inside the task, before it deletes `filename`.
#[mcp_tool(task = "optional")]
async fn confirm_delete(ctx: Context, filename: String) -> Result<String, ToolError> {
    let answer = ctx.elicit(confirm(&format!("Delete {filename}?"))).await.map_err(ToolError::msg)?;
    Ok(if accepted(&answer) { format!("deleted {filename}") } else { format!("kept {filename}") })
}

/// Asks two things at once, inside the task, and ends when both are answered.
#[mcp_tool(task = "optional")]
async fn multi_input(ctx: Context) -> Result<String, ToolError> {
    let name = json!({"message": "Your name?", "requestedSchema": {"type": "object",
        "properties": {"name": {"type": "string"}}}});
    let (first, second) = tokio::join!(ctx.elicit(name), ctx.elicit(confirm("Go ahead?")));
    let (first, second) = (first.map_err(ToolError::msg)?, second.map_err(ToolError::msg)?);
    Ok(format!("name answered: {}, confirm answered: {}", accepted(&first), accepted(&second)))
}

/// Asks for a name before the work starts (the call is answered `input_required`), then works as a task.
#[mcp_tool(task = "required")]
async fn test_tool_with_task(ctx: Context) -> Result<String, ToolError> {
    let ask = json!({"message": "Who is asking?", "requestedSchema": {"type": "object",
        "properties": {"name": {"type": "string"}}, "required": ["name"]}});
    let answer = ctx.elicit_first(ask).await.map_err(ToolError::msg)?;
    let name = answer["content"]["name"].as_str().unwrap_or("nobody").to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(format!("Hello, {name}, from a task"))
}
