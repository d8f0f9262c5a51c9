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

/// The server's pure pieces, for the coverage-guided fuzz targets in `fuzz/` (and nothing else): not a
/// public API, no stability promise, hidden from the docs.
#[doc(hidden)]
pub mod fuzzing {
    use std::time::Duration;

    use serde_json::{Map, Value};

    use super::input::seal::{Binding, Carried, StateKeys};

    /// A `requestState` sealer under one key (ttl 10 min, at most 64 KiB), as `[request_state]` makes it.
    pub struct RequestState(StateKeys);

    impl RequestState {
        /// The sealer of `key` (any length: the cipher key is derived from it).
        pub fn new(key: &[u8]) -> Self {
            Self(StateKeys::new(&[key.to_vec()], Duration::from_secs(600), 64 * 1024, false))
        }

        /// Seals `answers` for a `tools/call` of `name` with `arguments` by `principal`, as an
        /// `input_required` answer does.
        ///
        /// # Errors
        /// The state would exceed 64 KiB.
        pub fn seal(
            &self,
            principal: &str,
            name: &str,
            arguments: Option<&Map<String, Value>>,
            answers: Map<String, Value>,
        ) -> Result<String, String> {
            let carried = Carried { answers, kept: Map::new() };
            self.0.seal(&binding(principal, name, arguments), carried).map_err(|e| e.to_string())
        }

        /// Opens a state a client sent on a `tools/call` of `name` with `arguments` by `principal`: the
        /// answers it carries, or why it was refused.
        ///
        /// # Errors
        /// The refusal's message, as the −32602 answer words it.
        pub fn open(
            &self,
            principal: &str,
            name: &str,
            arguments: Option<&Map<String, Value>>,
            token: &str,
        ) -> Result<Map<String, Value>, String> {
            self.0.open(&binding(principal, name, arguments), token).map(|c| c.answers).map_err(|e| e.to_string())
        }
    }

    fn binding(principal: &str, name: &str, arguments: Option<&Map<String, Value>>) -> Binding {
        Binding {
            principal: principal.to_owned(),
            method: crate::protocol::method::TOOLS_CALL.to_owned(),
            name: name.to_owned(),
            arguments: hex::encode(super::input::seal::digest(arguments)),
        }
    }
}
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
