//! The diagnostic hooks the stateless scenario (`server-stateless`, SEP-2575) calls to make the tool and
//! prompt lists change while a `subscriptions/listen` stream is open: each call takes a stand-in entry off
//! the list, or puts it back, so the server announces `notifications/{tools,prompts}/list_changed`.

use mcp_runtime::prelude::*;

/// A stand-in the tool hook takes off the list and puts back.
#[mcp_tool]
async fn test_toggled_tool() -> &'static str {
    "toggled"
}

/// A stand-in the prompt hook takes off the list and puts back.
#[mcp_prompt]
async fn test_toggled_prompt() -> &'static str {
    "toggled"
}

/// Changes the tool list: `test_toggled_tool` leaves it, or comes back.
#[mcp_tool]
async fn test_trigger_tool_change(ctx: Context) -> String {
    let server = ctx.server();
    if server.disable_tool("test_toggled_tool") {
        "test_toggled_tool left the tool list".to_owned()
    } else {
        server.enable_tool("test_toggled_tool");
        "test_toggled_tool is back on the tool list".to_owned()
    }
}

/// Changes the prompt list: `test_toggled_prompt` leaves it, or comes back.
#[mcp_tool]
async fn test_trigger_prompt_change(ctx: Context) -> String {
    let server = ctx.server();
    if server.disable_prompt("test_toggled_prompt") {
        "test_toggled_prompt left the prompt list".to_owned()
    } else {
        server.enable_prompt("test_toggled_prompt");
        "test_toggled_prompt is back on the prompt list".to_owned()
    }
}
