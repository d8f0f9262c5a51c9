//! [`StartError`]: why a server refuses to start. Each message says what to do.

use std::sync::Arc;

use super::registry::RegistryError;

/// Why a server refuses to start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No tool, resource or prompt was registered.
    #[error(
        "the server has no tools, resources or prompts: annotate async functions with #[mcp_tool], \
         #[mcp_resource] or #[mcp_prompt]; if they live in another crate, make sure it is linked (refer to one \
         of its items, e.g. `use my_tools as _;`), or add them with Server::tool, Server::resource or Server::prompt"
    )]
    NothingToServe,
    /// Duplicate or invalid tools, resources or prompts.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A tool, resource or prompt takes `State<T>` that was never provided.
    #[error(
        "{kind} `{name}` (at {location}) takes State<{type_name}>, but the server has none: call Server::with_state"
    )]
    MissingState {
        /// `tool`, `resource` or `prompt`.
        kind: &'static str,
        /// Its name.
        name: Arc<str>,
        /// Where it is defined.
        location: Arc<str>,
        /// The state type.
        type_name: &'static str,
    },
    /// A tool's input schema does not compile.
    #[error("the input schema of tool `{tool}` does not compile: {reason}")]
    Schema {
        /// The tool.
        tool: Arc<str>,
        /// The compiler's message.
        reason: String,
    },
    /// A network bind outside loopback without authentication.
    #[error(
        "refusing to serve on {0} without authentication: set security.strategy (api-key, jwt or oauth), \
         bind a loopback address (127.0.0.1, [::1]), or accept the risk with --insecure-no-auth"
    )]
    UnsafeBind(std::net::SocketAddr),
    /// The security configuration cannot be used (fail closed), or the stdio client's credential was refused.
    #[error("security: {0}")]
    Security(String),
    /// The rate limits cannot be used.
    #[error("throttling: {0}")]
    Throttling(String),
    /// The audit trail cannot be written.
    #[error("audit: {0}")]
    Audit(String),
    /// The server's own definitions read as tool poisoning (`security.scan_on_start = "deny-critical"`).
    #[error(
        "refusing to start: the server's own definitions carry critical tool-poisoning findings \
         (security.scan_on_start = \"deny-critical\"): {0}; remove or fix the definition (a dependency's \
         tool: disable it with [tools] disabled or drop the dependency), or see `cargo mcp scan --explain RULE`"
    )]
    Poisoned(String),
}
