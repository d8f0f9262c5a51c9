//! [`App`]: a checked server as plain data — its identity, capabilities and live catalogues — that the
//! router, the handlers and the layers read. The `Server` builder (`crate::builder`) makes one.

use std::fmt;
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::format::Format;
use super::handle::ServerHandle;
use super::live::{Catalogs, Live};
use super::prompt::PromptSpec;
use super::resource::ResourceSpec;
use super::start::StartError;
use super::state::StateMap;
use super::tool::Tool;
use crate::config::{ListenConfig, ToolsConfig};
use crate::protocol::{
    Implementation, PromptsCapability, ProtocolVersion, ResourcesCapability, ServerCapabilities, ToolsCapability, meta,
};
use crate::request::{Bus, ListenLimits};
use crate::server::input::seal::StateKeys;
use crate::tasks::{TaskSupport, Tasks, wire};

/// What an [`App`] is made of, before it is checked.
pub(crate) struct AppParts {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) tools: Vec<Tool>,
    pub(crate) resources: Vec<ResourceSpec>,
    pub(crate) prompts: Vec<PromptSpec>,
    pub(crate) state: StateMap,
    pub(crate) tools_config: ToolsConfig,
    pub(crate) listen: ListenConfig,
    /// The catalogues the builder's handle may have changed already.
    pub(crate) live: Arc<Live>,
    /// Where tool calls made as tasks are kept.
    pub(crate) tasks: Tasks,
    /// The keys that seal the `requestState` of 2026-07-28 requests that asked the client for input.
    pub(crate) request_state: StateKeys,
}

/// A checked server: what the corridor's layers and the router read. Its identity and capabilities are
/// fixed at start; what it serves is live ([`App::catalog`]). Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

struct AppInner {
    info: Implementation,
    server_info_meta: Value,
    capabilities: ServerCapabilities,
    /// What a 2025-11-25 session is offered: the capabilities and, when a tool may run as a task, `tasks`.
    capabilities_2025_11: ServerCapabilities,
    /// What a 2026-07-28 client is offered: the capabilities and, when a tool may run as a task, the
    /// tasks extension.
    capabilities_2026: ServerCapabilities,
    tasks: Tasks,
    request_state: StateKeys,
    instructions: Option<String>,
    live: ServerHandle,
    state: StateMap,
    tools: ToolsConfig,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let catalog = self.catalog();
        f.debug_struct("App")
            .field("info", &self.0.info)
            .field("tools", &catalog.tools().len())
            .field("resources", &catalog.resources().resources().len())
            .field("resource_templates", &catalog.resources().templates().len())
            .field("prompts", &catalog.prompts().len())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Checks what a server serves — the builder's entries and those its handle added before the start:
    /// names, schemas, each handler's state requirements against `state` — and the capabilities to
    /// advertise: each kind held at start, with `listChanged` (and resource `subscribe`), since changes are
    /// announced on every transport.
    ///
    /// # Errors
    /// Nothing to serve, duplicate or invalid entries, missing state.
    pub(crate) fn new(parts: AppParts) -> Result<Self, StartError> {
        let live = parts.live;
        let held =
            live.start(parts.tools, parts.resources, parts.prompts, &parts.state, &parts.tools_config.disabled)?;
        if !held {
            return Err(StartError::NothingToServe);
        }
        parts.tasks.publish_on(live.bus().clone());
        live.bus().set_limits(ListenLimits {
            max_total: parts.listen.max_listeners,
            max_per_caller: parts.listen.max_listeners_per_caller,
        });
        let (tools, resources, prompts) = live.held_kinds();
        let catalog = live.catalogs();
        let completions = catalog.resources().has_completions() || catalog.prompts().has_completions();
        let capabilities = ServerCapabilities {
            tools: tools.then_some(ToolsCapability { list_changed: Some(true) }),
            resources: resources.then_some(ResourcesCapability { subscribe: Some(true), list_changed: Some(true) }),
            prompts: prompts.then_some(PromptsCapability { list_changed: Some(true) }),
            completions: completions.then(serde_json::Map::new),
            logging: Some(serde_json::Map::new()),
            experimental: None,
            tasks: None,
            extensions: None,
        };
        // Tasks are offered when a tool held at start may run as one (like `listChanged`, fixed at start).
        let task_tools = catalog.tools().iter().any(|t| t.tool.task_support() != TaskSupport::Forbidden);
        let mut capabilities_2025_11 = capabilities.clone();
        let mut capabilities_2026 = capabilities.clone();
        if task_tools {
            capabilities_2025_11.tasks =
                Some(json!({ "list": {}, "cancel": {}, "requests": { "tools": { "call": {} } } }));
            capabilities_2026.extensions = Some(serde_json::Map::from_iter([(wire::EXTENSION.to_owned(), json!({}))]));
        }
        let server_info_meta = json!({ meta::SERVER_INFO: &parts.info });
        Ok(App(Arc::new(AppInner {
            info: parts.info,
            server_info_meta,
            capabilities,
            capabilities_2025_11,
            capabilities_2026,
            tasks: parts.tasks,
            request_state: parts.request_state,
            instructions: parts.instructions,
            live: ServerHandle::new(live),
            state: parts.state,
            tools: parts.tools_config,
        })))
    }

    /// The server's name and version.
    pub fn info(&self) -> &Implementation {
        &self.0.info
    }

    /// What is served now: the enabled tools, resources, templates and prompts, one consistent snapshot
    /// (a request reads one from its start to its answer).
    pub fn catalog(&self) -> Arc<Catalogs> {
        self.0.live.catalogs()
    }

    /// [`App::catalog`] for a look that does not cross an `.await`: what the layers use on every call.
    pub(crate) fn glance(&self) -> arc_swap::Guard<Arc<Catalogs>> {
        self.0.live.glance()
    }

    /// The handle that changes what is served.
    pub fn handle(&self) -> &ServerHandle {
        &self.0.live
    }

    /// The change-event bus the transports' listeners are on.
    pub fn bus(&self) -> &Bus {
        self.0.live.bus()
    }

    /// What the server offers, whatever the revision (what gates the methods).
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.0.capabilities
    }

    /// What a client of `version` is told the server offers: [`App::capabilities`], plus tasks from
    /// 2025-11-25 on (`tasks` in the handshake era, the extension under 2026-07-28) when a tool held at
    /// start may run as one.
    pub fn capabilities_for(&self, version: ProtocolVersion) -> &ServerCapabilities {
        if version.is_stateless() {
            &self.0.capabilities_2026
        } else if version >= ProtocolVersion::V2025_11_25 {
            &self.0.capabilities_2025_11
        } else {
            &self.0.capabilities
        }
    }

    /// Whether a client of `version` was offered tasks.
    pub(crate) fn offers_tasks(&self, version: ProtocolVersion) -> bool {
        let offered = self.capabilities_for(version);
        offered.tasks.is_some() || offered.extensions.is_some()
    }

    /// The server's tasks.
    pub fn tasks(&self) -> &Tasks {
        &self.0.tasks
    }

    /// The keys `requestState` is sealed and opened with.
    pub(crate) fn request_state(&self) -> &StateKeys {
        &self.0.request_state
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

    /// The timeout of resource reads, prompts and completions: `tools.default_timeout`.
    pub(crate) fn handler_timeout(&self) -> std::time::Duration {
        self.0.tools.default_timeout
    }

    /// What the format step needs of the server: its identity for 2026-07-28 `_meta` and the lifetime of
    /// public (cacheable) results.
    pub(crate) fn format(&self) -> Format<'_> {
        Format { server_info: &self.0.server_info_meta, list_ttl: self.0.tools.list_ttl }
    }
}

impl App {
    /// Every definition as the list methods show them under 2025-11-25, in one object: `tools`, and
    /// `resources`, `resourceTemplates` and `prompts` when there are any (what `--print-manifest` prints
    /// and what `cargo mcp scan` reads). `x-mcp-runtime.tools` adds what the definitions do not carry:
    /// each tool's rate limit, burst and scopes from its attribute (`{"rate": "30/min" | null, "burst":
    /// n | null, "scopes": [...]}`), before any `[throttling]` override of the configuration.
    pub fn manifest(&self) -> Value {
        let v = ProtocolVersion::LATEST_HANDSHAKE;
        let catalog = self.catalog();
        let values = |all: &[Box<RawValue>]| -> Vec<Value> {
            all.iter().map(|raw| serde_json::from_str(raw.get()).expect("rendered JSON")).collect()
        };
        let mut manifest = serde_json::json!({ "tools": values(catalog.tools().definitions(v)) });
        let extra = [
            ("resources", catalog.resources().resource_definitions(v)),
            ("resourceTemplates", catalog.resources().template_definitions(v)),
            ("prompts", catalog.prompts().definitions(v)),
        ];
        for (key, all) in extra {
            if !all.is_empty() {
                manifest[key] = Value::Array(values(all));
            }
        }
        let limits: serde_json::Map<String, Value> = catalog
            .tools()
            .iter()
            .map(|entry| {
                let tool = &entry.tool;
                let limit = serde_json::json!({
                    "rate": tool.rate().map(|rate| rate.to_string()),
                    "burst": tool.burst(),
                    "scopes": tool.scopes().iter().map(|s| &**s).collect::<Vec<_>>(),
                });
                (tool.name().to_owned(), limit)
            })
            .collect();
        manifest["x-mcp-runtime"] = serde_json::json!({ "tools": limits });
        manifest
    }
}
