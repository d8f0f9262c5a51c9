//! The `input-required-result-*` fixtures (SEP-2322): tools and a prompt that ask the client
//! for input with `resultType: "input_required"` and resume from `inputResponses` and `requestState`.
//!
//! Each asks through [`Context::ask`] under the key the suite expects; the runtime answers
//! `input_required` with a sealed `requestState`, and carries the answers of earlier rounds in it. (A
//! resource that asks is tested in tests/tests/request_state.rs: here it would be the first resource the
//! `caching` scenario reads, and an `input_required` answer carries no caching hints.)

use mcp_runtime::prelude::*;
use serde_json::{Value, json};

fn form(message: &str, field: &str, kind: &str) -> InputRequest {
    InputRequest::Elicit(json!({
        "message": message,
        "requestedSchema": {"type": "object", "properties": {field: {"type": kind}}, "required": [field]},
    }))
}

fn sample(text: &str, max_tokens: u32) -> InputRequest {
    InputRequest::CreateMessage(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        "maxTokens": max_tokens,
    }))
}

/// The text of an elicitation answer's `field`, or what the user did instead of accepting.
fn field(answer: &Value, field: &str) -> String {
    match answer["action"].as_str() {
        Some("accept") => match &answer["content"][field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        Some(other) => format!("({other})"),
        None => "(no answer)".to_owned(),
    }
}

fn sampled(answer: &Value) -> String {
    answer["content"]["text"].as_str().unwrap_or("(no text)").to_owned()
}

fn roots(answer: &Value) -> usize {
    answer["roots"].as_array().map_or(0, Vec::len)
}

/// Asks the user's name (elicitation, key `user_name`), then greets them.
#[mcp_tool]
async fn test_input_required_result_elicitation(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx.ask("user_name", form("What is your name?", "name", "string")).await.map_err(ToolError::msg)?;
    Ok(format!("Hello, {}!", field(&answer, "name")))
}

/// Asks the client's model a question (sampling, key `capital_question`).
#[mcp_tool]
async fn test_input_required_result_sampling(ctx: Context) -> Result<String, ToolError> {
    let answer =
        ctx.ask("capital_question", sample("What is the capital of France?", 100)).await.map_err(ToolError::msg)?;
    Ok(format!("The model answered: {}", sampled(&answer)))
}

/// Asks the client for its roots (key `client_roots`).
#[mcp_tool]
async fn test_input_required_result_list_roots(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx.ask("client_roots", InputRequest::ListRoots).await.map_err(ToolError::msg)?;
    Ok(format!("The client has {} root(s)", roots(&answer)))
}

/// Asks for a confirmation (key `confirm`); the answer comes back with the sealed `requestState`.
#[mcp_tool]
async fn test_input_required_result_request_state(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx.ask("confirm", form("Please confirm", "ok", "boolean")).await.map_err(ToolError::msg)?;
    Ok(format!("Confirmed: {}", field(&answer, "ok")))
}

/// Asks three things in one round: a name, a model's greeting and the roots.
#[mcp_tool]
async fn test_input_required_result_multiple_inputs(ctx: Context) -> Result<String, ToolError> {
    let (name, greeting, roots_answer) = tokio::join!(
        ctx.ask("user_name", form("What is your name?", "name", "string")),
        ctx.ask("greeting", sample("Generate a greeting", 50)),
        ctx.ask("client_roots", InputRequest::ListRoots),
    );
    let (name, greeting, roots_answer) =
        (name.map_err(ToolError::msg)?, greeting.map_err(ToolError::msg)?, roots_answer.map_err(ToolError::msg)?);
    Ok(format!("{} {}, with {} root(s)", sampled(&greeting), field(&name, "name"), roots(&roots_answer)))
}

/// Asks over two rounds: a name, then (with the first answer carried in `requestState`) a colour.
#[mcp_tool]
async fn test_input_required_result_multi_round(ctx: Context) -> Result<String, ToolError> {
    let name = ctx.ask("step1", form("Step 1: What is your name?", "name", "string")).await.map_err(ToolError::msg)?;
    let color = ctx
        .ask("step2", form("Step 2: What is your favorite color?", "color", "string"))
        .await
        .map_err(ToolError::msg)?;
    Ok(format!("{} likes {}", field(&name, "name"), field(&color, "color")))
}

/// Asks for a confirmation; a retry whose `requestState` was altered is refused (−32602).
#[mcp_tool]
async fn test_input_required_result_tampered_state(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx.ask("confirm", form("Please confirm", "ok", "boolean")).await.map_err(ToolError::msg)?;
    Ok(format!("Confirmed: {}", field(&answer, "ok")))
}

/// Asks for whatever the client can give: a name by elicitation and an answer by sampling, each only
/// when the client declared the capability (the runtime never asks for an undeclared one).
#[mcp_tool]
async fn test_input_required_result_capabilities(ctx: Context) -> Result<String, ToolError> {
    let (name, answer) = tokio::join!(
        ctx.ask("user_name", form("What is your name?", "name", "string")),
        ctx.ask("capital_question", sample("What is the capital of France?", 100)),
    );
    let name = name.map_or_else(|e| format!("({e})"), |a| field(&a, "name"));
    let answer = answer.map_or_else(|e| format!("({e})"), |a| sampled(&a));
    Ok(format!("name: {name}; model: {answer}"))
}

/// A prompt that first asks the user what context to use (key `user_context`).
#[mcp_prompt]
async fn test_input_required_result_prompt(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx
        .ask("user_context", form("What context should the prompt use?", "context", "string"))
        .await
        .map_err(ToolError::msg)?;
    Ok(format!("Use this context: {}", field(&answer, "context")))
}
