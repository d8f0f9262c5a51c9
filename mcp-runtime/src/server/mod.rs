//! The server: tools, resources and prompts and their registries, the router, `Context`, sessions, and the
//! `Server` builder.

mod builder;
mod completion;
mod context;
mod execute;
mod format;
mod inject;
mod input;
mod network;
mod pagination;
mod peer;
mod principal;
mod prompt;
mod registry;
mod request;
mod resource;
mod result;
mod router;
mod session;
mod state;
mod tool;
mod uri_template;

pub use builder::{App, Server, StartError};
pub use completion::{
    CompleteFn, Completer, Completion, CompletionContext, CompletionFuture, IntoCompletion, MAX_COMPLETION_VALUES,
};
pub use context::{ClientInfo, Context, Notifier};
pub use execute::unknown_tool;
pub use inject::{FromInvocation, InvocationError, InvocationParts, StateRequirement};
pub(crate) use network::client_network;
pub use peer::{PeerError, PendingRequests};
pub(crate) use principal::anonymous;
pub use principal::{AuthMethod, Principal};
pub use prompt::{FromPromptArgument, IntoPromptMessages, PromptArgument, PromptFuture, PromptInvocation, PromptSpec};
pub use registry::{PromptRegistry, Registry, RegistryError, ResourceRegistry, TemplateEntry, ToolEntry};
pub use request::{McpRequest, McpResponse, McpService, Outcome, TransportKind};
pub use resource::{
    Blob, FromUriVariable, IntoResourceContents, ReadResult, ResourceError, ResourceFuture, ResourceInvocation,
    ResourceSpec,
};
pub use result::{IntoToolResult, Json, ToolError};
pub use router::Router;
pub(crate) use session::unsupported_version;
pub use session::{Handshake, MAX_SUBSCRIPTIONS, Session};
pub use state::State;
pub use tool::{Rate, ToolFuture, ToolInvocation, ToolSpec};
pub use uri_template::{TemplateError, UriTemplate};
