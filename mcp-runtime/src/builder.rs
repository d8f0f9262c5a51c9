//! [`Server`]: the builder users hold. It sits above the layers it wires (it takes authenticators and
//! tower layers); once checked it comes apart into an [`App`] (what is served) and the pipeline's parts.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use tower::{Layer, Service};

use crate::auth::Authenticator;
use crate::config::Config;
use crate::protocol::Implementation;
use crate::request::{McpRequest, McpResponse, McpService};
use crate::server::app::AppParts;
use crate::server::input::seal::StateKeys;
use crate::server::live::Live;
use crate::server::state::StateMap;
use crate::server::{App, PromptSpec, ResourceSpec, ServerHandle, StartError, Tool};
use crate::tasks::{MemoryTaskStore, TaskStore, Tasks};

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
    tools: Vec<Tool>,
    resources: Vec<ResourceSpec>,
    prompts: Vec<PromptSpec>,
    state: StateMap,
    layers: Vec<LayerFn>,
    config: Config,
    authenticator: Option<Arc<dyn Authenticator>>,
    live: Arc<Live>,
    task_store: Option<Arc<dyn TaskStore>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.info)
            .field("tools", &self.tools.iter().map(Tool::name).collect::<Vec<_>>())
            .field("resources", &self.resources.iter().map(|r| r.uri).collect::<Vec<_>>())
            .field("prompts", &self.prompts.iter().map(|p| p.name).collect::<Vec<_>>())
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
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
            live: Arc::default(),
            task_store: None,
        }
    }

    /// The handle that changes what this server serves while it runs: add, remove, enable and disable
    /// tools, resources, templates and prompts, and say that a resource changed (see [`ServerHandle`]).
    /// Take it before serving and move it where the changes come from (a plugin loader, a database
    /// watcher). What it adds before the start is checked with the rest when the server starts.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle::new(Arc::clone(&self.live))
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

    /// Adds a tool: a `#[mcp_tool]`'s spec (`server.tool(my_tool::SPEC)`), or a [`Tool`] made at run time
    /// with [`Tool::builder`] (`server.tool(built)`). Both are served the same way.
    #[must_use]
    pub fn tool(mut self, tool: impl Into<Tool>) -> Self {
        self.tools.push(tool.into());
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
        self.tools.extend(TOOLS.iter().map(|spec| Tool::from(*spec)));
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

    /// Keeps tasks (tool calls made as tasks) in `store` instead of this process's memory: a store shared by
    /// several replicas lets any of them answer a task's polls. `[tasks]` still sets the ttl, the poll
    /// interval and the caps the store enforces.
    #[must_use]
    pub fn task_store(mut self, store: impl TaskStore) -> Self {
        self.task_store = Some(Arc::new(store));
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

    /// Checks the server: the catalogues, state requirements, capabilities.
    pub(crate) fn into_parts(self) -> Result<Parts, StartError> {
        let request_state =
            StateKeys::from_config(&self.config.request_state, self.config.security.allow_inline_secrets)
                .map_err(StartError::Security)?;
        if request_state.is_ephemeral() && self.config.transport.kind != crate::config::TransportKindConfig::Stdio {
            tracing::info!(
                "request_state.keys is empty: requestState is sealed with a key of this process's own, so a \
                 2026-07-28 retry after input_required must reach this process; give every replica the same keys"
            );
        }
        let app = App::new(AppParts {
            info: self.info,
            instructions: self.instructions,
            tools: self.tools,
            resources: self.resources,
            prompts: self.prompts,
            state: self.state,
            tools_config: self.config.tools.clone(),
            listen: self.config.listen.clone(),
            live: self.live,
            tasks: Tasks::new(
                self.config.tasks.clone(),
                self.task_store.unwrap_or_else(|| Arc::new(MemoryTaskStore::new())),
            ),
            request_state,
        })?;
        Ok(Parts { app, layers: self.layers, config: self.config, authenticator: self.authenticator })
    }
}
