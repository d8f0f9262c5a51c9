//! `use mcp_runtime::prelude::*;` brings what a tool, resource, prompt and server need.

pub use crate::Server;
pub use crate::protocol::{CallToolResult, Content, GetPromptResult, LogLevel, PromptMessage, ResourceContents};
pub use crate::server::{
    Blob, CompletionContext, Context, InputRequest, Json, ResourceError, ServerHandle, State, ToolError,
};
pub use crate::tasks::TaskSupport;
pub use crate::{mcp_prompt, mcp_resource, mcp_server, mcp_tool};
