//! # mcp-runtime
//!
//! A framework for production [Model Context Protocol](https://modelcontextprotocol.io) servers. Annotate
//! plain async functions as tools; their JSON Schemas are derived at compile time, they are registered
//! automatically, and every call runs through a corridor of tower layers that validates arguments against
//! the schema, isolates panics, enforces timeouts and honours cancellation. Resources, resource templates
//! and prompts are declared the same way, with [`mcp_resource`] and [`mcp_prompt`].
//!
//! ```no_run
//! use mcp_runtime::prelude::*;
//!
//! /// Adds two numbers.
//! #[mcp_tool(read_only, timeout = "5s")]
//! async fn add(
//!     /// The first addend.
//!     a: i64,
//!     /// The second addend.
//!     b: i64,
//! ) -> String {
//!     (a + b).to_string()
//! }
//!
//! #[mcp_server(name = "calculator", version = "1.0.0")]
//! async fn main() {}
//! ```
//!
//! The server speaks every published MCP revision: 2024-11-05, 2025-03-26, 2025-06-18 and 2025-11-25
//! (with the `initialize` handshake) and the stateless 2026-07-28 (per-request `_meta`,
//! `server/discover`). See `docs/ARCHITECTURE.md` in the repository for the corridor and the crates.

pub mod audit;
pub mod auth;
mod builder;
pub mod config;
pub mod pipeline;
pub mod prelude;
pub mod protocol;
mod reload;
pub mod request;
mod run;
pub mod server;
pub mod tasks;
pub mod telemetry;
pub mod throttle;
pub mod transport;
pub mod validate;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Declares an async function as an MCP prompt: its `String` / `Option<String>` parameters are the
/// prompt's (required / optional) arguments, their doc comments the descriptions.
///
/// Keys: `name`, `title`, `description`, `crate = path`. `Context` and `State<T>` parameters are injected;
/// `#[complete(path)]` on an argument names an
/// `async fn(value: String, ctx: CompletionContext) -> Vec<String>` answering `completion/complete`.
/// Returns: `Vec<PromptMessage>`, `PromptMessage`, `String` (one user message), `GetPromptResult`, or
/// `Result<_, E: Into<ToolError>>`.
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// /// Asks for a review of a piece of code.
/// #[mcp_prompt(title = "Code review")]
/// async fn review(
///     /// The code to review.
///     code: String,
///     /// Its language; guessed when absent.
///     language: Option<String>,
/// ) -> Vec<PromptMessage> {
///     let language = language.unwrap_or_else(|| "the language it is written in".to_owned());
///     vec![PromptMessage::user_text(format!("Review this code, written in {language}:\n{code}"))]
/// }
/// ```
pub use mcp_macros::mcp_prompt;
/// Declares an async function as an MCP resource, or a resource template when its `uri` has
/// `{variables}` (RFC 6570 level 1): then the function takes one `String` parameter per variable, by name.
///
/// Keys: `uri` (required), `name` (the function's name by default), `title`, `description` (the doc
/// comment by default), `mime_type`, `ttl = "60s"` (how long 2026-07-28 clients may cache a read; zero
/// by default), `crate = path`. `Context` and `State<T>` parameters are injected; `#[complete(path)]` on a
/// variable names its completion function. Returns: `String`, `&'static str`, `Vec<u8>` / `Blob`,
/// `Json<T>`, `ResourceContents`, `Vec<ResourceContents>`, `Option<T>` (`None`: not found) or
/// `Result<_, E: Into<ResourceError>>` (`ResourceError::NotFound` answers "resource not found").
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// /// The house rules.
/// #[mcp_resource(uri = "docs://rules", mime_type = "text/markdown")]
/// async fn rules() -> &'static str {
///     "# Rules\nBe kind."
/// }
///
/// /// One order, as JSON.
/// #[mcp_resource(uri = "orders://{id}", mime_type = "application/json")]
/// async fn order(id: String) -> Option<String> {
///     (id == "1").then(|| r#"{"id":"1","status":"shipped"}"#.to_owned())
/// }
/// ```
pub use mcp_macros::mcp_resource;
/// Turns `async fn main` into a server binary. See the crate documentation and `README.md`.
///
/// Keys: `name`, `version` (the package's by default), `title`, `description`, `instructions`,
/// `config = "mcp.toml"` (a file compiled in as the configuration's defaults), `crate = path`, and
/// `allocator = "mimalloc" | "none"`: with the `mimalloc` feature (on by default) the binary allocates with
/// mimalloc, which frees memory handed between threads (the corridor, the audit writer, the span exporter)
/// without glibc's lock; `"none"` keeps the system allocator or one the binary declares itself.
pub use mcp_macros::mcp_server;
/// Declares an async function as an MCP tool. See the crate documentation and `README.md`.
///
/// `task = "optional"` lets a client call the tool as a task (answered at once with a task the client
/// polls while the tool runs on), `task = "required"` only so; `task = "forbidden"` is the default. Any
/// other value is a compile error. Listed as the tool's `execution.taskSupport` (see [`TaskSupport`]).
///
/// `#[schema(header = "Region")]` on an argument adds `"x-mcp-header": "Region"` to its property
/// (SEP-2243): a 2026-07-28 client calling over Streamable HTTP mirrors the argument into the
/// `Mcp-Param-Region` header, so load balancers and gateways can route on it without reading the body.
/// The server refuses a call whose header is missing, malformed or disagrees with the argument (400,
/// −32020) before the tool runs; stdio and the handshake era carry no such headers. The name must be an
/// HTTP token (letters, digits, ``!#$%&'*+-.^_`|~``), unique in the tool regardless of case, and the
/// argument a `String`, an integer up to 64 bits or a `bool` (or an `Option` of one): anything else is a
/// compile error. Header values are visible to every intermediary: do not mirror secrets.
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// /// Runs a query in a region.
/// #[mcp_tool]
/// async fn execute_sql(#[schema(header = "Region")] region: String, query: String) -> String {
///     format!("ran {query} in {region}")
/// }
/// ```
pub use mcp_macros::mcp_tool;
pub use schemars;
pub use serde_json;

pub use crate::builder::Server;
pub use crate::pipeline::Pipeline;
pub use crate::server::{Context, InputRequest, Json, ResourceError, StartError, State, ToolError};
pub use crate::tasks::TaskSupport;
