//! [`AuthorizeLayer`]: scopes, checked on every request that names a tool, a resource or a prompt.

use serde_json::Value;
use tower::Layer;

use super::service::Authorize;
use crate::protocol::method;
use crate::request::McpRequest;
use crate::server::{App, Catalogs};

/// Refuses a request whose principal lacks a scope that what it names requires: `tools/call`
/// (`#[mcp_tool(scopes = [...])]`), `resources/read` and `resources/subscribe` (`#[mcp_resource(scopes =
/// [...])]`, the resource or the template that serves the URI), `prompts/get` (`#[mcp_prompt(scopes =
/// [...])]`) and `completion/complete` (the prompt or template it refers to). The answer is −32011 naming
/// every required and every missing scope (HTTP 403 `insufficient_scope`). Does nothing when the server
/// authenticates nobody. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthorizeLayer {
    pub(crate) app: App,
    pub(crate) enforce: bool,
}

/// What a request names that carries scopes: its kind (`tool`, `resource`, `prompt`), its name or URI, and
/// the scopes.
pub(crate) struct Required<'a> {
    pub(crate) kind: &'static str,
    pub(crate) name: &'a str,
    pub(crate) scopes: Vec<&'a str>,
}

impl AuthorizeLayer {
    /// The layer for a server's tools, resources and prompts; `enforce` is false when nobody is
    /// authenticated.
    pub fn new(app: &App, enforce: bool) -> Self {
        Self { app: app.clone(), enforce }
    }

    /// The scopes what `request` names requires in `catalog` (what is served now), if any. An unknown name
    /// requires none here: the handler answers it as unknown.
    pub(crate) fn required<'a>(request: &'a McpRequest, catalog: &'a Catalogs) -> Option<Required<'a>> {
        let param = |key: &str| request.params.get(key).and_then(Value::as_str);
        let required = match request.method.as_str() {
            method::TOOLS_CALL => {
                let name = request.tool_name()?;
                let scopes = catalog.tools().get(name)?.tool.scopes().iter().map(|s| &**s).collect();
                Required { kind: "tool", name, scopes }
            }
            method::RESOURCES_READ | method::RESOURCES_SUBSCRIBE => {
                let uri = param("uri")?;
                Required { kind: "resource", name: uri, scopes: catalog.resources().resolve(uri)?.spec.scopes.to_vec() }
            }
            method::PROMPTS_GET => {
                let name = param("name")?;
                Required { kind: "prompt", name, scopes: catalog.prompts().get(name)?.scopes.to_vec() }
            }
            method::COMPLETION_COMPLETE => {
                let reference = request.params.get("ref")?;
                let text = |key: &str| reference.get(key).and_then(Value::as_str);
                match text("type")? {
                    "ref/prompt" => {
                        let name = text("name")?;
                        Required { kind: "prompt", name, scopes: catalog.prompts().get(name)?.scopes.to_vec() }
                    }
                    "ref/resource" => {
                        let uri = text("uri")?;
                        Required {
                            kind: "resource",
                            name: uri,
                            scopes: catalog.resources().template(uri)?.spec.scopes.to_vec(),
                        }
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        (!required.scopes.is_empty()).then_some(required)
    }
}

impl<S> Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize { inner, layer: self.clone() }
    }
}
