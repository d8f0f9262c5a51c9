//! The innermost service of the corridor: answers each MCP method.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use tower::Service;

use super::builder::App;
use super::format::{Cache, empty};
use super::pagination::page;
use crate::protocol::{ErrorObject, InitializeParams, InitializeResult, LogLevel, ProtocolVersion, ServerCapabilities};
use crate::request::ClientInfo;
use crate::request::Handshake;
use crate::request::{McpRequest, McpResponse, Outcome};

/// Answers `initialize`, `ping`, `logging/setLevel`, `server/discover`, the tool, resource and prompt
/// methods, and `completion/complete`.
#[derive(Debug, Clone)]
pub struct Router {
    app: App,
    filter_tools: bool,
}

impl Router {
    /// A router over a frozen server.
    pub fn new(app: App) -> Self {
        Self { app, filter_tools: false }
    }

    /// Every list shows each caller only the tools, resources, templates and prompts its scopes allow
    /// (`security.list_tools = "allowed"`).
    #[must_use]
    pub fn filter_tools(mut self, filter: bool) -> Self {
        self.filter_tools = filter;
        self
    }
}

impl Service<McpRequest> for Router {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        let app = self.app.clone();
        let filter_tools = self.filter_tools;
        Box::pin(async move { Ok(app.dispatch(req, filter_tools).await) })
    }
}

/// A result body (or error) as the corridor's response.
pub(crate) fn answer(body: Result<Box<RawValue>, ErrorObject>) -> McpResponse {
    let outcome = if body.is_ok() { Outcome::Ok } else { Outcome::InvalidRequest };
    McpResponse { body, outcome }
}

impl App {
    async fn dispatch(&self, req: McpRequest, filter_tools: bool) -> McpResponse {
        let version = req.version;
        let stateless = version.is_stateless();
        // A method behind a capability the server does not advertise is an unknown method (−32601).
        let capabilities = self.capabilities();
        let (tools, resources, prompts) =
            (capabilities.tools.is_some(), capabilities.resources.is_some(), capabilities.prompts.is_some());
        match req.method.as_str() {
            "tools/call" if tools => self.call_tool(req).await,
            "tools/list" if tools => {
                let scopes = || self.registry().iter().map(|t| t.spec.scopes);
                answer(self.list_scoped(&req, "tools", self.registry().definitions(version), scopes, filter_tools))
            }
            "resources/list" if resources => {
                let scopes = || self.resources().resources().iter().map(|r| r.scopes);
                let all = self.resources().resource_definitions(version);
                answer(self.list_scoped(&req, "resources", all, scopes, filter_tools))
            }
            "resources/templates/list" if resources => {
                let scopes = || self.resources().templates().iter().map(|t| t.spec.scopes);
                let all = self.resources().template_definitions(version);
                answer(self.list_scoped(&req, "resourceTemplates", all, scopes, filter_tools))
            }
            "resources/read" if resources => self.read_resource(req).await,
            // 2026-07-28 replaced these with `subscriptions/listen`; they live in a handshake session.
            "resources/subscribe" if resources && !stateless => answer(self.subscription(req, true)),
            "resources/unsubscribe" if resources && !stateless => answer(self.subscription(req, false)),
            "prompts/list" if prompts => {
                let scopes = || self.prompts().iter().map(|p| p.scopes);
                answer(self.list_scoped(&req, "prompts", self.prompts().definitions(version), scopes, filter_tools))
            }
            "prompts/get" if prompts => self.get_prompt(req).await,
            "completion/complete" if capabilities.completions.is_some() => self.complete(req).await,
            "initialize" => answer(self.initialize(&req)),
            "server/discover" if stateless => answer(self.discover()),
            // Removed in 2026-07-28: liveness is the transport's business, the log level comes per request.
            "ping" if !stateless => answer(self.finish(version, &empty(), Cache::No)),
            "logging/setLevel" if !stateless => answer(self.set_level(&req)),
            method => McpResponse::error(ErrorObject::method_not_found(method), Outcome::InvalidRequest),
        }
    }

    fn initialize(&self, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
        let Some(session) = &req.session else {
            return Err(ErrorObject::method_not_found("initialize"));
        };
        let params = InitializeParams::deserialize(Value::Object(req.params.clone()))
            .map_err(|e| ErrorObject::invalid_params(format_args!("initialize: {e}")))?;
        let version = ProtocolVersion::negotiate(&params.protocol_version);
        let client = ClientInfo { implementation: Some(params.client_info), capabilities: params.capabilities };
        session.open(Handshake { version, client: Arc::new(client) })?;
        tracing::debug!(requested = %params.protocol_version, negotiated = %version, "session initialized");
        self.finish(
            version,
            &InitializeResult {
                protocol_version: version.as_str(),
                capabilities: self.capabilities(),
                server_info: self.info(),
                instructions: self.instructions(),
            },
            Cache::No,
        )
    }

    fn discover(&self) -> Result<Box<RawValue>, ErrorObject> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Discover<'a> {
            supported_versions: Vec<&'static str>,
            capabilities: &'a ServerCapabilities,
            #[serde(skip_serializing_if = "Option::is_none")]
            instructions: Option<&'a str>,
        }
        let body = Discover {
            supported_versions: ProtocolVersion::supported_strings(),
            capabilities: self.capabilities(),
            instructions: self.instructions(),
        };
        self.finish(ProtocolVersion::LATEST, &body, Cache::Public)
    }

    fn set_level(&self, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
        let level = req.params.get("level").and_then(|l| LogLevel::deserialize(l).ok()).ok_or_else(|| {
            ErrorObject::invalid_params(
                "logging/setLevel needs a `level`: debug, info, notice, warning, error, critical, alert or emergency",
            )
        })?;
        if let Some(session) = &req.session {
            session.set_log_level(level);
        }
        self.finish(req.version, &empty(), Cache::No)
    }

    /// A list method's page: every entry, or (when filtering) those whose scopes the caller holds.
    /// `scopes` gives the entries' scopes, in the order of `all`. Tools are listed per caller whenever
    /// filtering is on; resources, templates and prompts only when some of them has scopes, so a server
    /// without any keeps their lists cacheable by anyone.
    fn list_scoped<I: Iterator<Item = &'static [&'static str]>>(
        &self,
        req: &McpRequest,
        key: &'static str,
        all: &[Box<RawValue>],
        scopes: impl Fn() -> I,
        filter: bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let hidden = |scopes: &[&str]| !req.principal.missing_scopes(scopes).is_empty();
        if !filter || (key != "tools" && scopes().all(<[&str]>::is_empty)) {
            return self.list(req, key, all);
        }
        // What a caller sees depends on its scopes: 2026-07-28 clients may cache it only privately.
        let private = Cache::Private(self.tools_config().list_ttl);
        if !scopes().any(hidden) {
            return self.page(req, key, all, private);
        }
        let allowed: Vec<&RawValue> = scopes().zip(all).filter(|(s, _)| !hidden(s)).map(|(_, d)| &**d).collect();
        self.page(req, key, &allowed, private)
    }

    /// One page of a list method's result (`{<key>: [...], nextCursor?}`), cacheable by anyone.
    fn list(&self, req: &McpRequest, key: &'static str, all: &[Box<RawValue>]) -> Result<Box<RawValue>, ErrorObject> {
        self.page(req, key, all, Cache::Public)
    }

    fn page<T: Serialize>(
        &self,
        req: &McpRequest,
        key: &'static str,
        all: &[T],
        cache: Cache,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let page = page(&req.method, &req.params, all.len(), self.tools_config().page_size)?;
        let body = Page { key, items: &all[page.range], next_cursor: page.next_cursor };
        self.finish(req.version, &body, cache)
    }
}

/// A list page: the key differs per method (`tools`, `resources`, `resourceTemplates`, `prompts`).
struct Page<'a, T> {
    key: &'static str,
    items: &'a [T],
    next_cursor: Option<String>,
}

impl<T: Serialize> Serialize for Page<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.key, self.items)?;
        if let Some(cursor) = &self.next_cursor {
            map.serialize_entry("nextCursor", cursor)?;
        }
        map.end()
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
            .map(|tool| {
                let spec = &tool.spec;
                let limit = serde_json::json!({
                    "rate": spec.rate.map(|rate| rate.to_string()),
                    "burst": spec.burst,
                    "scopes": spec.scopes,
                });
                (spec.name.to_owned(), limit)
            })
            .collect();
        manifest["x-mcp-runtime"] = serde_json::json!({ "tools": limits });
        manifest
    }
}
