//! What a server serves: tools, resources and prompts (their specs and registries), the [`App`] that holds
//! them as data, the handlers per family and the [`Router`] that dispatches to them, and [`Context`]. It
//! knows no layer and no transport: it imports only `request`, `protocol` and `config`.

pub(crate) mod app;
mod completion;
mod context;
mod execute;
mod format;
mod handle;
mod handlers;
mod inject;
pub(crate) mod input;
pub(crate) mod live;
mod pagination;
mod prompt;
mod registry;
mod resource;
mod result;
mod router;
mod scan;
mod start;
pub(crate) mod state;
mod tool;
mod uri_template;

pub use app::App;
pub use completion::{
    CompleteFn, Completer, Completion, CompletionContext, CompletionFuture, IntoCompletion, MAX_COMPLETION_VALUES,
};
pub use context::{Context, InputRequest};
pub use execute::unknown_tool;
pub use handle::ServerHandle;
pub(crate) use handlers::listen::session_listener;
pub use inject::{FromInvocation, InvocationError, InvocationParts, StateRequirement};
pub use live::Catalogs;
pub use prompt::{FromPromptArgument, IntoPromptMessages, PromptArgument, PromptFuture, PromptInvocation, PromptSpec};
pub use registry::{
    PromptRegistry, Registry, RegistryError, ResourceRegistry, TemplateEntry, ToolEntry, compile as compile_schema,
};
pub use resource::{
    Blob, FromUriVariable, IntoResourceContents, ReadResult, ResourceError, ResourceFuture, ResourceInvocation,
    ResourceSpec,
};
pub use result::{IntoToolResult, Json, ToolError};
pub use router::Router;
pub(crate) use scan::scan_own;
pub use start::StartError;
pub use state::State;
pub use tool::{Rate, Tool, ToolBuilder, ToolFuture, ToolInvocation, ToolSpec};
pub use uri_template::{TemplateError, UriTemplate};
