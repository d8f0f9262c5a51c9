//! The protocol core: JSON-RPC 2.0 framing, MCP message types and revision negotiation. No I/O here.

pub mod jsonrpc;
pub mod meta;
pub mod method;
mod time;
mod types;
mod version;

pub use jsonrpc::{
    Answer, ErrorCode, ErrorObject, Frame, Message, Notification, Outgoing, OutgoingNotification, OutgoingRequest,
    Rejected, Request, RequestId, Response,
};
pub(crate) use time::rfc3339;
pub use types::{
    CallToolParams, CallToolResult, Content, ContentAnnotations, GetPromptResult, Implementation, InitializeParams,
    InitializeResult, LogLevel, ProgressToken, PromptMessage, PromptsCapability, ResourceContents, ResourcesCapability,
    Role, ServerCapabilities, ToolAnnotations, ToolsCapability,
};
pub use version::{ProtocolVersion, UnsupportedVersion};
