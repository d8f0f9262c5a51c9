//! [`Server`]: the builder users hold; [`App`]: what it freezes into once checked.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use serde_json::{Value, json};
use tower::{Layer, Service};

use super::registry::{Registry, RegistryError};
use super::request::{McpRequest, McpResponse, McpService};
use super::state::StateMap;
use super::tool::ToolSpec;
use crate::config::{Config, ToolsConfig};
use crate::protocol::{Implementation, ServerCapabilities, ToolsCapability, meta};

type LayerFn = Box<dyn FnOnce(McpService) -> McpService + Send>;

/// An MCP server being put together: identity, tools, state, extra layers and configuration.
///
/// `#[mcp_server]` builds one with every linked tool and hands it to `main` to customise. Libraries and
/// tests build one explicitly:
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
    state: StateMap,
    layers: Vec<LayerFn>,
    config: Config,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.info)
            .field("tools", &self.tools.iter().map(|t| t.name).collect::<Vec<_>>())
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

/// Why a server refuses to start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No tool was registered.
    #[error(
        "the server has no tools: annotate async functions with #[mcp_tool]; if they live in another crate, \
         make sure it is linked (refer to one of its items, e.g. `use my_tools as _;`), or add them with Server::tool"
    )]
    NoTools,
    /// Duplicate or invalid tools.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A tool takes `State<T>` that was never provided.
    #[error("tool `{tool}` (at {location}) takes State<{type_name}>, but the server has none: call Server::with_state")]
    MissingState {
        /// The tool.
        tool: &'static str,
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
        "refusing to serve on {0} without authentication: bind a loopback address (127.0.0.1, [::1]); \
         serving other interfaces needs an authentication strategy, which this version cannot configure yet"
    )]
    UnsafeBind(std::net::SocketAddr),
    /// The configured transport cannot be served by this build.
    #[error("transport `{0}` is not available in this version of mcp-runtime: use stdio")]
    TransportUnavailable(String),
}

impl Server {
    /// A server with a name and version and no tools yet.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            info: Implementation { name: name.into(), version: version.into(), ..Implementation::default() },
            instructions: None,
            tools: Vec::new(),
            state: StateMap::default(),
            layers: Vec::new(),
            config: Config::default(),
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

    /// Adds every `#[mcp_tool]` linked into the binary (what `#[mcp_server]` does).
    #[must_use]
    pub fn linked_tools(mut self) -> Self {
        self.tools.extend(crate::__private::TOOLS.iter().map(|spec| **spec));
        self
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
    pub(crate) fn into_parts(self) -> Result<(App, Vec<LayerFn>, Config), StartError> {
        if self.tools.is_empty() {
            return Err(StartError::NoTools);
        }
        let registry = Registry::new(self.tools, self.config.tools.default_timeout)?;
        for tool in registry.iter() {
            for req in tool.spec.state {
                if !self.state.contains((req.type_id)()) {
                    return Err(StartError::MissingState {
                        tool: tool.spec.name,
                        location: tool.spec.location,
                        type_name: (req.type_name)(),
                    });
                }
            }
        }
        let capabilities = ServerCapabilities {
            tools: Some(ToolsCapability { list_changed: Some(false) }),
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
            state: self.state,
            tools: self.config.tools.clone(),
        }));
        Ok((app, self.layers, self.config))
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
    state: StateMap,
    tools: ToolsConfig,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("info", &self.0.info).field("tools", &self.0.registry.len()).finish_non_exhaustive()
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
