//! `use mcp_runtime::prelude::*;` brings what a tool and a server need.

pub use crate::protocol::{CallToolResult, Content, LogLevel};
pub use crate::server::{Context, Json, Server, State, ToolError};
pub use crate::{mcp_server, mcp_tool};
