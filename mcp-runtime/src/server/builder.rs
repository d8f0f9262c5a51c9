//! [`Server`]: the builder users hold; [`App`]: what it freezes into once checked.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use serde_json::{Value, json};
use tower::{Layer, Service};

use super::inject::StateRequirement;
use super::prompt::PromptSpec;
use super::registry::{PromptRegistry, Registry, RegistryError, ResourceRegistry};
use super::resource::ResourceSpec;
use super::state::StateMap;
use super::tool::ToolSpec;
use crate::auth::Authenticator;
use crate::config::{Config, ToolsConfig};
use crate::protocol::{
    Implementation, PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability, meta,
};
use crate::request::{McpRequest, McpResponse, McpService};

type LayerFn = Box<dyn FnOnce(McpService) -> McpService + Send>;

/// An MCP server being put together: identity, tools, resources, prompts, state, extra layers and
/// configuration.
///
/// `#[mcp_server]` builds one with every linked tool, resource and prompt and hands it to `main` to
/// customise. Libraries and tests build one explicitly:
///
/// ```no_run
/// # use mcp_runtime::prelude::*;
/// /// Says hello.
/// #[mcp_tool]
/// async fn hello(name: String) -> String {
///     format!("Hello, {name}!")
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// Server::new("greeter", "1.0.0").tool(hello::SPEC).serve_stdio().await?;
/// # Ok(()) }
/// ```
pub struct Server {
    info: Implementation,
    instructions: Option<String>,
    tools: Vec<ToolSpec>,
    resources: Vec<ResourceSpec>,
    prompts: Vec<PromptSpec>,
    state: StateMap,
    layers: Vec<LayerFn>,
    config: Config,
    authenticator: Option<Arc<dyn Authenticator>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.info)
            .field("tools", &self.tools.iter().map(|t| t.name).collect::<Vec<_>>())
            .field("resources", &self.resources.iter().map(|r| r.uri).collect::<Vec<_>>())
            .field("prompts", &self.prompts.iter().map(|p| p.name).collect::<Vec<_>>())
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

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
        name: &'static str,
        /// Where it is defined.
        location: &'static str,
        /// The state type.
        type_name: &'static str,
    },
    /// A tool's input schema does not compile.
    #[error("the input schema of tool `{tool}` does not compile: {reason}")]
    Schema {
        /// The tool.
        tool: &'static str,
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
}

/// A checked server, taken apart for the pipeline.
pub(crate) struct Parts {
    pub(crate) app: App,
    pub(crate) layers: Vec<LayerFn>,
    pub(crate) config: Config,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
}

impl Server {
    /// A server with a name and version and no tools yet.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            info: Implementation { name: name.into(), version: version.into(), ..Implementation::default() },
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            prompts: Vec::new(),
            state: StateMap::default(),
            layers: Vec::new(),
            config: Config::default(),
            authenticator: None,
        }
    }

    /// Sets the display title.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Sets the description of the server.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.info.description = Some(description.into());
        self
    }

    /// Sets the instructions a client may give its model about this server.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds a tool: `server.tool(my_tool::SPEC)`.
    #[must_use]
    pub fn tool(mut self, spec: &ToolSpec) -> Self {
        self.tools.push(*spec);
        self
    }

    /// Adds a resource or resource template: `server.resource(my_resource::SPEC)`.
    #[must_use]
    pub fn resource(mut self, spec: &ResourceSpec) -> Self {
        self.resources.push(*spec);
        self
    }

    /// Adds a prompt: `server.prompt(my_prompt::SPEC)`.
    #[must_use]
    pub fn prompt(mut self, spec: &PromptSpec) -> Self {
        self.prompts.push(*spec);
        self
    }

    /// Adds every `#[mcp_tool]`, `#[mcp_resource]` and `#[mcp_prompt]` linked into the binary (what
    /// `#[mcp_server]` does).
    #[must_use]
    pub fn linked(mut self) -> Self {
        use crate::__private::{PROMPTS, RESOURCES, TOOLS};
        self.tools.extend(TOOLS.iter().map(|spec| **spec));
        self.resources.extend(RESOURCES.iter().map(|spec| **spec));
        self.prompts.extend(PROMPTS.iter().map(|spec| **spec));
        self
    }

    /// Adds every linked tool, resource and prompt.
    #[deprecated(since = "0.1.0", note = "renamed `Server::linked`: it collects resources and prompts too")]
    #[must_use]
    pub fn linked_tools(self) -> Self {
        self.linked()
    }

    /// Shares a value with tools that take `State<T>`.
    #[must_use]
    pub fn with_state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Wraps the corridor's inner part (validation and execution) in a tower layer of your own. It runs
    /// after the built-in authentication and authorization layers; the last layer added runs first.
    #[must_use]
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<McpService> + Send + 'static,
        L::Service: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
        <L::Service as Service<McpRequest>>::Future: Send + 'static,
    {
        self.layers.push(Box::new(move |inner| McpService::new(layer.layer(inner))));
        self
    }

    /// Authenticates every request with your own [`Authenticator`] instead of a configured strategy
    /// (`security.strategy` must then be `"none"`). Tool scopes are enforced against the principals it
    /// returns; an error or panic inside it denies the request.
    #[must_use]
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Replaces the configuration (`#[mcp_server]` loads it from `mcp.toml`, `MCP_*` and flags).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The configuration the server will run with.
    pub fn config_ref(&self) -> &Config {
        &self.config
    }

    /// The server's name and version.
    pub fn info(&self) -> &Implementation {
        &self.info
    }

    /// Checks and freezes the server: the registry, state requirements, capabilities.
    pub(crate) fn into_parts(self) -> Result<Parts, StartError> {
        if self.tools.is_empty() && self.resources.is_empty() && self.prompts.is_empty() {
            return Err(StartError::NothingToServe);
        }
        let registry = Registry::new(self.tools, self.config.tools.default_timeout)?;
        let resources = ResourceRegistry::new(self.resources)?;
        let prompts = PromptRegistry::new(self.prompts)?;
        let needs = registry
            .iter()
            .map(|t| ("tool", t.spec.name, t.spec.location, t.spec.state))
            .chain(resources.resources().iter().map(|r| ("resource", r.name, r.location, r.state)))
            .chain(resources.templates().iter().map(|t| ("resource", t.spec.name, t.spec.location, t.spec.state)))
            .chain(prompts.iter().map(|p| ("prompt", p.name, p.location, p.state)));
        for (kind, name, location, state) in needs {
            check_state(&self.state, kind, name, location, state)?;
        }
        // Only what is registered is advertised; `listChanged: false` because the sets are frozen.
        let capabilities = ServerCapabilities {
            tools: (!registry.is_empty()).then_some(ToolsCapability { list_changed: Some(false) }),
            resources: (!resources.is_empty())
                .then_some(ResourcesCapability { subscribe: Some(true), list_changed: Some(false) }),
            prompts: (!prompts.is_empty()).then_some(PromptsCapability { list_changed: Some(false) }),
            completions: (resources.has_completions() || prompts.has_completions()).then(serde_json::Map::new),
            logging: Some(serde_json::Map::new()),
            experimental: None,
        };
        let server_info_meta = json!({ meta::SERVER_INFO: &self.info });
        let app = App(Arc::new(AppInner {
            info: self.info,
            server_info_meta,
            capabilities,
            instructions: self.instructions,
            registry,
            resources,
            prompts,
            state: self.state,
            tools: self.config.tools.clone(),
        }));
        Ok(Parts { app, layers: self.layers, config: self.config, authenticator: self.authenticator })
    }
}

fn check_state(
    state: &StateMap,
    kind: &'static str,
    name: &'static str,
    location: &'static str,
    needs: &[StateRequirement],
) -> Result<(), StartError> {
    match needs.iter().find(|req| !state.contains((req.type_id)())) {
        Some(req) => Err(StartError::MissingState { kind, name, location, type_name: (req.type_name)() }),
        None => Ok(()),
    }
}

/// A checked, frozen server: what the corridor's layers and the router read. Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

struct AppInner {
    info: Implementation,
    server_info_meta: Value,
    capabilities: ServerCapabilities,
    instructions: Option<String>,
    registry: Registry,
    resources: ResourceRegistry,
    prompts: PromptRegistry,
    state: StateMap,
    tools: ToolsConfig,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("info", &self.0.info)
            .field("tools", &self.0.registry.len())
            .field("resources", &self.0.resources.resources().len())
            .field("resource_templates", &self.0.resources.templates().len())
            .field("prompts", &self.0.prompts.len())
            .finish_non_exhaustive()
    }
}

impl App {
    /// The server's name and version.
    pub fn info(&self) -> &Implementation {
        &self.0.info
    }

    /// The tools.
    pub fn registry(&self) -> &Registry {
        &self.0.registry
    }

    /// The resources and resource templates.
    pub fn resources(&self) -> &ResourceRegistry {
        &self.0.resources
    }

    /// The prompts.
    pub fn prompts(&self) -> &PromptRegistry {
        &self.0.prompts
    }

    /// What the server offers.
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.0.capabilities
    }

    pub(crate) fn instructions(&self) -> Option<&str> {
        self.0.instructions.as_deref()
    }

    pub(crate) fn state(&self) -> &StateMap {
        &self.0.state
    }

    pub(crate) fn tools_config(&self) -> &ToolsConfig {
        &self.0.tools
    }

    /// `{"io.modelcontextprotocol/serverInfo": {...}}`, for 2026-07-28 result `_meta`.
    pub(crate) fn server_info_meta(&self) -> &Value {
        &self.0.server_info_meta
    }
}
