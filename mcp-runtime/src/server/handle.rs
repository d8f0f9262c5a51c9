//! [`ServerHandle`]: what an application holds to change what its server serves while it runs.

use std::fmt;
use std::sync::Arc;

use super::live::{Catalogs, Live};
use super::prompt::PromptSpec;
use super::registry::RegistryError;
use super::resource::ResourceSpec;
use super::tool::Tool;
use crate::request::Bus;

/// Adds, removes, enables and disables the tools, resources, resource templates and prompts of a server
/// while it runs, and says that a resource changed. Cheap to clone; get one from
/// [`Server::handle`](crate::Server::handle) (before or after the server starts) or, inside a tool,
/// from [`Context::server`](super::Context::server).
///
/// Every change is checked as the start checks (names, schemas, duplicates, `State<T>`), takes effect for
/// the requests that start after it (a request in flight keeps the set it started with), and is announced
/// to the clients listening (`notifications/tools/list_changed`, …; 2026-07-28 `subscriptions/listen`) —
/// to those among them that may see what changed. The announcements are level triggers: many changes in a
/// row reach a slow client as one.
///
/// A disabled entry is kept but not served: unlisted, and unknown to calls. Removing it forgets it.
///
/// ```no_run
/// use mcp_runtime::prelude::*;
/// use mcp_runtime::server::Tool;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::new("plugins", "1.0.0").linked();
/// let handle = server.handle();
/// tokio::spawn(async move {
///     // e.g. when a plugin is loaded
///     let tool = Tool::builder("plugin.echo")
///         .description("Says the text back.")
///         .handler(|arguments, _ctx: Context| async move { serde_json::Value::Object(arguments).to_string() })
///         .build()
///         .expect("a valid tool");
///     handle.add_tool(tool).expect("a new name");
/// });
/// server.serve_stdio().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ServerHandle {
    live: Arc<Live>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle").field("tools", &self.live.catalogs().tools().len()).finish_non_exhaustive()
    }
}

impl ServerHandle {
    pub(crate) fn new(live: Arc<Live>) -> Self {
        Self { live }
    }

    /// Adds a tool: a `#[mcp_tool]`'s spec (`my_tool::SPEC`) or a [`Tool`] from [`Tool::builder`]. Served at
    /// once (unless `[tools] disabled` names it).
    ///
    /// # Errors
    /// An invalid name or schema, a name already held, or (once the server runs) a `State<T>` it lacks.
    pub fn add_tool(&self, tool: impl Into<Tool>) -> Result<(), RegistryError> {
        self.live.add_tool(tool.into())
    }

    /// Removes the tool with this name; `false` when there is none.
    pub fn remove_tool(&self, name: &str) -> bool {
        self.live.remove_tool(name)
    }

    /// Serves the tool again after [`ServerHandle::disable_tool`]; `false` when there is no such tool or it
    /// was not disabled. A tool `[tools] disabled` names stays unserved until the configuration lets it go.
    pub fn enable_tool(&self, name: &str) -> bool {
        self.live.set_tool_enabled(name, true)
    }

    /// Stops serving the tool, keeping it for [`ServerHandle::enable_tool`]; `false` when there is no such
    /// tool or it was disabled already.
    pub fn disable_tool(&self, name: &str) -> bool {
        self.live.set_tool_enabled(name, false)
    }

    /// The names of the tools served now, sorted.
    pub fn tool_names(&self) -> Vec<String> {
        self.live.tool_names()
    }

    /// Adds a resource or resource template (`my_resource::SPEC`; a URI with `{variables}` is a template).
    ///
    /// # Errors
    /// A malformed URI template or name, a URI already held, or (once the server runs) a missing `State<T>`.
    pub fn add_resource(&self, spec: &ResourceSpec) -> Result<(), RegistryError> {
        self.live.add_resource(*spec)
    }

    /// Removes the resource or template with this URI (a template as written: `stock://{sku}`); `false`
    /// when there is none.
    pub fn remove_resource(&self, uri: &str) -> bool {
        self.live.remove_resource(uri)
    }

    /// Serves the resource or template again; `false` when there is none or it was not disabled.
    pub fn enable_resource(&self, uri: &str) -> bool {
        self.live.set_resource_enabled(uri, true)
    }

    /// Stops serving the resource or template, keeping it; `false` when there is none or it was disabled.
    pub fn disable_resource(&self, uri: &str) -> bool {
        self.live.set_resource_enabled(uri, false)
    }

    /// Tells the clients subscribed to `uri` (`resources/subscribe`, or a 2026-07-28 listen's
    /// `resourceSubscriptions`) that it changed: they read it again. Never waits for a client.
    pub fn notify_resource_updated(&self, uri: &str) {
        self.live.resource_updated(uri);
    }

    /// Adds a prompt (`my_prompt::SPEC`).
    ///
    /// # Errors
    /// A malformed prompt, a name already held, or (once the server runs) a missing `State<T>`.
    pub fn add_prompt(&self, spec: &PromptSpec) -> Result<(), RegistryError> {
        self.live.add_prompt(*spec)
    }

    /// Removes the prompt with this name; `false` when there is none.
    pub fn remove_prompt(&self, name: &str) -> bool {
        self.live.remove_prompt(name)
    }

    /// Serves the prompt again; `false` when there is none or it was not disabled.
    pub fn enable_prompt(&self, name: &str) -> bool {
        self.live.set_prompt_enabled(name, true)
    }

    /// Stops serving the prompt, keeping it; `false` when there is none or it was disabled.
    pub fn disable_prompt(&self, name: &str) -> bool {
        self.live.set_prompt_enabled(name, false)
    }

    /// What is served now: one consistent snapshot of every catalogue.
    pub fn catalogs(&self) -> Arc<Catalogs> {
        self.live.catalogs()
    }

    pub(crate) fn glance(&self) -> arc_swap::Guard<Arc<Catalogs>> {
        self.live.glance()
    }

    /// The server's change-event bus (what the transports' listeners hear).
    pub fn bus(&self) -> &Bus {
        self.live.bus()
    }

    /// Replaces the configuration's `[tools] disabled` (a reload); returns the names that are no tool of
    /// this server. Tools whose served state changes are announced.
    pub(crate) fn set_config_disabled(&self, names: &[String]) -> Vec<String> {
        self.live.set_config_disabled(names)
    }
}
