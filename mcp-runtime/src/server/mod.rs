//! The server: tools and their registry, the router, `Context`, sessions, and the `Server` builder.

mod builder;
mod context;
mod execute;
mod format;
mod peer;
mod registry;
mod request;
mod result;
mod router;
mod session;
mod state;
mod tool;

pub use builder::{App, Server, StartError};
pub use context::{ClientInfo, Context, Notifier};
pub use execute::unknown_tool;
pub use peer::{PeerError, PendingRequests};
pub use registry::{Registry, RegistryError, ToolEntry};
pub use request::{McpRequest, McpResponse, McpService, Outcome, TransportKind};
pub use result::{IntoToolResult, Json, ToolError};
pub use router::Router;
pub(crate) use session::unsupported_version;
pub use session::{Handshake, Session};
pub use state::State;
pub use tool::{FromInvocation, InvocationError, Rate, StateRequirement, ToolFuture, ToolInvocation, ToolSpec};
