//! The server: tools, resources and prompts and their registries, the router, `Context`, sessions, and the
//! `Server` builder.

mod builder;
mod completion;
mod context;
mod execute;
mod format;
mod inject;
mod input;
mod pagination;
mod prompt;
mod registry;
mod resource;
mod result;
mod router;
mod state;
mod tool;
mod uri_template;

pub use builder::{App, Server, StartError};
pub use completion::{
    CompleteFn, Completer, Completion, CompletionContext, CompletionFuture, IntoCompletion, MAX_COMPLETION_VALUES,
};
pub use context::Context;
pub use execute::unknown_tool;
pub use inject::{FromInvocation, InvocationError, InvocationParts, StateRequirement};
pub use prompt::{FromPromptArgument, IntoPromptMessages, PromptArgument, PromptFuture, PromptInvocation, PromptSpec};
pub use registry::{PromptRegistry, Registry, RegistryError, ResourceRegistry, TemplateEntry, ToolEntry};
pub use resource::{
    Blob, FromUriVariable, IntoResourceContents, ReadResult, ResourceError, ResourceFuture, ResourceInvocation,
    ResourceSpec,
};
pub use result::{IntoToolResult, Json, ToolError};
pub use router::Router;
pub use state::State;
pub use tool::{Rate, ToolFuture, ToolInvocation, ToolSpec};
pub use uri_template::{TemplateError, UriTemplate};
