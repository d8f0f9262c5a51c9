//! The echo tool on rmcp, the Rust SDK: `--mode stateless` (2026-07-28 requests, JSON answers, no
//! session), `--mode session` (handshake-era sessions) or `--mode stdio` (`stdio_pipes`, its faster stdio). Built the way rmcp's examples
//! build servers, with the router made once and shared, on the same accept loop as the other servers.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};

mcp_runtime::__mcp_default_allocator!();

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// What to repeat.
    #[schemars(length(max = 64))]
    message: String,
}

#[derive(Clone)]
struct Echo {
    tool_router: Arc<ToolRouter<Echo>>,
}

#[tool_router]
impl Echo {
    /// Repeats the message back.
    #[tool]
    async fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        args.message
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Echo {}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let echo = Echo { tool_router: Arc::new(Echo::tool_router()) };
    let mode = mcp_bench::arg("--mode").unwrap_or_else(|| "stateless".to_owned());
    if mode == "stdio" {
        // rmcp's faster stdio: non-blocking pipes on the reactor rather than the blocking pool.
        echo.serve(rmcp::transport::stdio_pipes()).await?.waiting().await?;
        return Ok(());
    }
    let bind = mcp_bench::arg("--bind").unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = mcp_bench::listen(&bind).await?;
    let factory = move || Ok(echo.clone());
    match mode.as_str() {
        "stateless" => {
            let config = StreamableHttpServerConfig::default().with_legacy_session_mode(false).with_json_response(true);
            let service = StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), config);
            mcp_bench::serve(listener, hyper_util::service::TowerToHyperService::new(service)).await;
        }
        "session" => {
            let config = StreamableHttpServerConfig::default();
            let service = StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config);
            mcp_bench::serve(listener, hyper_util::service::TowerToHyperService::new(service)).await;
        }
        other => anyhow::bail!("--mode {other}: stateless, session or stdio"),
    }
    Ok(())
}
