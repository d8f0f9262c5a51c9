//! # mcp-runtime
//!
//! A framework for production [Model Context Protocol](https://modelcontextprotocol.io) servers. Annotate
//! plain async functions as tools; their JSON Schemas are derived at compile time, they are registered
//! automatically, and every call runs through a corridor of tower layers that validates arguments against
//! the schema, isolates panics, enforces timeouts and honours cancellation.
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

pub mod config;
pub mod pipeline;
pub mod prelude;
pub mod protocol;
pub mod server;
pub mod transport;
pub mod validate;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Turns `async fn main` into a server binary. See the crate documentation and `README.md`.
pub use mcp_macros::mcp_server;
/// Declares an async function as an MCP tool. See the crate documentation and `README.md`.
pub use mcp_macros::mcp_tool;
pub use schemars;
pub use serde_json;

pub use crate::pipeline::Pipeline;
pub use crate::server::{Context, Json, Server, State, ToolError};
