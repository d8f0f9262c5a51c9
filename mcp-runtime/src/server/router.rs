//! The innermost service of the corridor: answers each MCP method.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use tower::Service;

use super::app::App;
use super::format::{Cache, answer, empty};
use super::handlers::{completion, lifecycle, listen, lists, prompts, resources, tasks, tools};
use crate::protocol::{ErrorObject, method};
use crate::request::{McpRequest, McpResponse, Outcome};

/// Answers `initialize`, `ping`, `logging/setLevel`, `server/discover`, the tool, resource and prompt
/// methods, `completion/complete`, `subscriptions/listen` and the task methods.
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
        Box::pin(async move { Ok(dispatch(&app, req, filter_tools).await) })
    }
}

pub(crate) async fn dispatch(app: &App, req: McpRequest, filter_tools: bool) -> McpResponse {
    let version = req.version;
    let stateless = version.is_stateless();
    // A method behind a capability the server does not advertise is an unknown method (−32601).
    let capabilities = app.capabilities();
    let (tools, resources, prompts) =
        (capabilities.tools.is_some(), capabilities.resources.is_some(), capabilities.prompts.is_some());
    match req.method.as_str() {
        method::TOOLS_CALL if tools => tools::call(app, req).await,
        method::TOOLS_LIST if tools => {
            let catalog = app.catalog();
            let all = catalog.tools().definitions(version);
            let scopes = || catalog.tools().iter().map(|t| t.tool.scopes());
            answer(lists::list_scoped(app, &req, "tools", all, scopes, filter_tools))
        }
        method::RESOURCES_LIST if resources => {
            let catalog = app.catalog();
            let scopes = || catalog.resources().resources().iter().map(|r| r.scopes);
            let all = catalog.resources().resource_definitions(version);
            answer(lists::list_scoped(app, &req, "resources", all, scopes, filter_tools))
        }
        method::RESOURCES_TEMPLATES_LIST if resources => {
            let catalog = app.catalog();
            let scopes = || catalog.resources().templates().iter().map(|t| t.spec.scopes);
            let all = catalog.resources().template_definitions(version);
            answer(lists::list_scoped(app, &req, "resourceTemplates", all, scopes, filter_tools))
        }
        method::RESOURCES_READ if resources => resources::read(app, req).await,
        // 2026-07-28 replaced these with `subscriptions/listen`; they live in a handshake session.
        method::RESOURCES_SUBSCRIBE if resources && !stateless => answer(resources::subscription(app, req, true)),
        method::RESOURCES_UNSUBSCRIBE if resources && !stateless => answer(resources::subscription(app, req, false)),
        method::PROMPTS_LIST if prompts => {
            let catalog = app.catalog();
            let scopes = || catalog.prompts().iter().map(|p| p.scopes);
            answer(lists::list_scoped(
                app,
                &req,
                "prompts",
                catalog.prompts().definitions(version),
                scopes,
                filter_tools,
            ))
        }
        method::PROMPTS_GET if prompts => prompts::get(app, req).await,
        method::COMPLETION_COMPLETE if capabilities.completions.is_some() => completion::complete(app, req).await,
        // Removed in 2026-07-28 with the handshake: a stateless `initialize` is an unknown method.
        method::INITIALIZE if !stateless => answer(lifecycle::initialize(app, &req)),
        method::SERVER_DISCOVER if stateless => answer(lifecycle::discover(app)),
        method::SUBSCRIPTIONS_LISTEN if stateless => listen::listen(app, req).await,
        method::TASKS_GET | method::TASKS_RESULT | method::TASKS_LIST | method::TASKS_CANCEL | method::TASKS_UPDATE => {
            tasks::handle(app, req).await
        }
        // Removed in 2026-07-28: liveness is the transport's business, the log level comes per request.
        method::PING if !stateless => answer(app.format().finish(version, &empty(), Cache::No)),
        method::LOGGING_SET_LEVEL if !stateless => answer(lifecycle::set_level(app, &req)),
        method => McpResponse::error(ErrorObject::method_not_found(method), Outcome::InvalidRequest),
    }
}
