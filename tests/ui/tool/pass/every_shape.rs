//! Every supported parameter and return shape compiles, and the function stays callable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct Filter {
    warehouse: Option<String>,
    limit: u32,
}

#[derive(Serialize, JsonSchema)]
struct Level {
    on_hand: i64,
}

struct Cache<T>(Mutex<Vec<T>>);

/// Strings, numbers, booleans, options, lists, maps and structs as arguments.
#[mcp_tool(name = "all.args-1", title = "All arguments", rate = 30, burst = 5, timeout = "250ms", idempotent)]
async fn all_args(
    /// Text.
    #[schema(pattern = r"^[a-z]+$", min_length = 1, max_length = 8)]
    text: String,
    /// A bounded integer.
    #[schema(minimum = -5, maximum = 5)]
    n: i32,
    /// A float.
    ratio: f64,
    /// A flag.
    flag: bool,
    /// Absent means every one.
    maybe: Option<String>,
    /// A list.
    #[schema(min_items = 1, max_items = 3)]
    tags: Vec<String>,
    /// A map.
    labels: HashMap<String, String>,
    /// A struct.
    filter: Filter,
    /// An email address.
    #[schema(email)]
    contact: String,
    ctx: Context,
    cache: State<Arc<Cache<String>>>,
) -> String {
    let _ = (n, ratio, flag, maybe, tags, labels, filter.warehouse, filter.limit, contact, ctx);
    cache.0.0.lock().unwrap().push(text.clone());
    text
}

/// Structured output.
#[mcp_tool(read_only)]
async fn structured() -> Json<Level> {
    Json(Level { on_hand: 1 })
}

/// Structured output or a tool error.
#[mcp_tool(destructive, open_world, scopes = ["inventory:write", "admin"])]
async fn fallible(fail: bool) -> Result<Json<Vec<Level>>, ToolError> {
    if fail { Err(ToolError::msg("no")) } else { Ok(Json(vec![])) }
}

/// Any std error converts into a tool error.
#[mcp_tool]
async fn io_error() -> Result<String, std::io::Error> {
    Ok(String::new())
}

/// Content blocks.
#[mcp_tool]
async fn blocks() -> Vec<Content> {
    vec![Content::text("a"), Content::image("AAAA", "image/png")]
}

/// One block.
#[mcp_tool]
async fn block() -> Content {
    Content::text("b")
}

/// Full control.
#[mcp_tool]
async fn full() -> CallToolResult {
    CallToolResult::success(vec![])
}

/// Nothing.
#[mcp_tool]
async fn nothing() {}

/// A static string.
#[mcp_tool]
async fn r#static() -> &'static str {
    "static"
}

mod nested {
    use mcp_runtime::prelude::*;

    /// A tool in another module, public to the crate.
    #[mcp_tool]
    pub(crate) async fn elsewhere() -> &'static str {
        "elsewhere"
    }
}

fn main() {
    let server = Server::new("shapes", "0")
        .tool(all_args::SPEC)
        .tool(structured::SPEC)
        .tool(fallible::SPEC)
        .tool(io_error::SPEC)
        .tool(blocks::SPEC)
        .tool(block::SPEC)
        .tool(full::SPEC)
        .tool(nothing::SPEC)
        .tool(r#static::SPEC)
        .tool(nested::elsewhere::SPEC)
        .with_state(Arc::new(Cache::<String>(Mutex::new(Vec::new()))));
    drop(server);
    assert_eq!(all_args::SPEC.name, "all.args-1");
    assert_eq!(r#static::SPEC.name, "static");
    let _still_callable = nested::elsewhere();
}
