//! [`App`]: a checked server as plain data — its identity, capabilities and registries — that the router,
//! the handlers and the layers read. The `Server` builder (`crate::builder`) makes one.

use std::fmt;
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::format::Format;
use super::inject::StateRequirement;
use super::prompt::PromptSpec;
use super::registry::{PromptRegistry, Registry, ResourceRegistry};
use super::resource::ResourceSpec;
use super::start::StartError;
use super::state::StateMap;
use super::tool::Tool;
use crate::config::ToolsConfig;
use crate::protocol::{
    Implementation, PromptsCapability, ProtocolVersion, ResourcesCapability, ServerCapabilities, ToolsCapability, meta,
};

/// What an [`App`] is made of, before it is checked.
pub(crate) struct AppParts {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) tools: Vec<Tool>,
    pub(crate) resources: Vec<ResourceSpec>,
    pub(crate) prompts: Vec<PromptSpec>,
    pub(crate) state: StateMap,
    pub(crate) tools_config: ToolsConfig,
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
    /// Checks and freezes what a server serves: the registries (names, schemas), each handler's state
    /// requirements against `state`, and the capabilities to advertise.
    ///
    /// # Errors
    /// Nothing to serve, duplicate or invalid entries, missing state.
    pub(crate) fn new(parts: AppParts) -> Result<Self, StartError> {
        if parts.tools.is_empty() && parts.resources.is_empty() && parts.prompts.is_empty() {
            return Err(StartError::NothingToServe);
        }
        let registry = Registry::new(parts.tools, parts.tools_config.default_timeout)?;
        let resources = ResourceRegistry::new(parts.resources)?;
        let prompts = PromptRegistry::new(parts.prompts)?;
        let needs = registry
            .iter()
            .map(|t| ("tool", t.tool.name(), t.tool.location(), t.tool.state()))
            .chain(resources.resources().iter().map(|r| ("resource", r.name, r.location, r.state)))
            .chain(resources.templates().iter().map(|t| ("resource", t.spec.name, t.spec.location, t.spec.state)))
            .chain(prompts.iter().map(|p| ("prompt", p.name, p.location, p.state)));
        for (kind, name, location, state) in needs {
            check_state(&parts.state, kind, name, location, state)?;
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
        let server_info_meta = json!({ meta::SERVER_INFO: &parts.info });
        Ok(App(Arc::new(AppInner {
            info: parts.info,
            server_info_meta,
            capabilities,
            instructions: parts.instructions,
            registry,
            resources,
            prompts,
            state: parts.state,
            tools: parts.tools_config,
        })))
    }

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

fn check_state(
    state: &StateMap,
    kind: &'static str,
    name: &str,
    location: &str,
    needs: &[StateRequirement],
) -> Result<(), StartError> {
    match needs.iter().find(|req| !state.contains((req.type_id)())) {
        Some(req) => Err(StartError::MissingState {
            kind,
            name: name.into(),
            location: location.into(),
            type_name: (req.type_name)(),
        }),
        None => Ok(()),
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
        let values = |all: &[Box<RawValue>]| -> Vec<Value> {
            all.iter().map(|raw| serde_json::from_str(raw.get()).expect("rendered JSON")).collect()
        };
        let mut manifest = serde_json::json!({ "tools": values(self.registry().definitions(v)) });
        let extra = [
            ("resources", self.resources().resource_definitions(v)),
            ("resourceTemplates", self.resources().template_definitions(v)),
            ("prompts", self.prompts().definitions(v)),
        ];
        for (key, all) in extra {
            if !all.is_empty() {
                manifest[key] = Value::Array(values(all));
            }
        }
        let limits: serde_json::Map<String, Value> = self
            .registry()
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
