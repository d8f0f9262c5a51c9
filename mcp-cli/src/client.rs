//! `cargo mcp list` and `cargo mcp call`: rmcp's client over stdio or Streamable HTTP, for smoke tests.
//!
//! rmcp speaks the protocol: the handshake (`initialize` under 2025-11-25, then
//! `notifications/initialized`), request ids, the session and protocol-version headers, SSE answers, the
//! `ping`s a server sends (answered) and its other requests (refused: the client declares no
//! capabilities), the session's DELETE at the end. What is the CLI's own:
//!
//! - over stdio it starts the server's command with the environment inherited (credentials travel in
//!   the server's environment, `MCP_CLIENT_KEY`) and its stderr let through, and keeps the process, to say
//!   how it exited when it stops answering (stdio.rs);
//! - over Streamable HTTP, rmcp's transport runs on the CLI's own HTTP backend (streamable.rs): the
//!   `--header K:V` headers (credentials) on every request, no redirect followed (the headers would go
//!   along to wherever it points: the CLI's `http` module), and refusals (401, 403, other statuses)
//!   explained from their bodies and challenges;
//! - every answer is capped (16 MiB): a JSON body, an SSE event, a line of a stdio server's output; a
//!   server that sends more, or streams one answer forever, ends the command with an error naming the
//!   cap rather than growing the client without bound;
//! - each request waits at most `--timeout`.
//!
//! Exit codes: 0 success; 1 the server answered with an error (a JSON-RPC error, HTTP 401/403 or another
//! HTTP error status, a tool result with `isError: true`); 2 the command could not run (bad arguments, a
//! server that cannot be started or reached, that exits or closes the connection, redirects elsewhere,
//! answers beyond the cap, or does not answer in time).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, PaginatedRequestParams, ProtocolVersion,
};
use rmcp::service::RunningService;
use rmcp::{ClientCacheConfig, RoleClient, ServiceError, ServiceExt};
use serde_json::{Map, Value, json};

mod error;
mod render;
mod stdio;
mod streamable;

use self::error::{ClientError, Lost};
use self::render::{Spinner, render_result, tools_table};
use self::stdio::StdioServer;
use self::streamable::{Failures, HttpBackend};
pub(crate) use self::streamable::{auth_param, error_detail};

/// The protocol revision the client asks for in `initialize` (the probes' too).
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// How long [`list_tools_at`] waits for each answer.
const LIST_AT_TIMEOUT: Duration = Duration::from_secs(30);

/// Pages of `tools/list` followed at most (a server whose cursors never end is cut off here).
const MAX_PAGES: usize = 1000;

/// Where the server is: a URL, or a command to start it on stdio.
#[derive(Debug, Args)]
pub struct Target {
    /// A Streamable HTTP endpoint, e.g. `http://127.0.0.1:8080/mcp`. No redirect is followed (a 3xx ends
    /// the command, naming its Location) and no answer is read beyond 16 MiB.
    #[arg(long)]
    pub url: Option<String>,
    /// A header sent with every HTTP request (`Name: value`), e.g. credentials; repeatable.
    #[arg(long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// How long to wait for an answer, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// The server's command and arguments, served on stdio (after `--`).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `cargo mcp list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The server.
    #[command(flatten)]
    pub target: Target,
    /// Print the raw `tools/list` results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cargo mcp call` arguments.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The tool.
    pub name: String,
    /// Arguments: `key=value` pairs (values that parse as JSON are JSON, others strings), or one JSON object.
    pub arguments: Vec<String>,
    /// The server.
    #[command(flatten)]
    pub target: Target,
    /// Print the raw result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Lists the tools: a table of name, title and hints, the description's first line and the required
/// arguments, or with `--json` every tool definition (`{"tools": [...]}`, all pages).
pub fn list(args: &ListArgs) -> ExitCode {
    let target = match Endpoint::from_target(&args.target) {
        Ok(target) => target,
        Err(e) => return usage_error(&e),
    };
    let timeout = Duration::from_secs(args.target.timeout);
    let tools = match runtime().block_on(session(&target, timeout, async |c| c.list_tools().await)) {
        Ok(tools) => tools,
        Err(e) => return client_error(&e),
    };
    if args.json {
        println!("{}", pretty(&json!({ "tools": tools })));
    } else {
        print!("{}", tools_table(&tools));
    }
    ExitCode::SUCCESS
}

/// Calls a tool and prints its result: text content as it is, other content summarised, structured
/// content as pretty JSON; with `--json` the raw result. A result with `isError: true` exits 1.
pub fn call(args: &CallArgs) -> ExitCode {
    let target = match Endpoint::from_target(&args.target) {
        Ok(target) => target,
        Err(e) => return usage_error(&e),
    };
    let arguments = match parse_arguments(&args.arguments) {
        Ok(arguments) => arguments,
        Err(e) => return usage_error(&e),
    };
    let timeout = Duration::from_secs(args.target.timeout);
    let params = CallToolRequestParams::new(args.name.clone()).with_arguments(arguments);
    let result = runtime().block_on(session(&target, timeout, async |c| {
        let spinner = Spinner::start(format!("calling {}", args.name));
        let result = c.call_tool(params).await;
        spinner.stop();
        result
    }));
    let result = match result {
        Ok(result) => result,
        Err(e) => return client_error(&e),
    };
    let failed = result.get("isError").and_then(Value::as_bool).unwrap_or(false);
    if args.json {
        println!("{}", pretty(&result));
    } else if failed {
        eprintln!("error: tool `{}` failed:", args.name);
        eprint!("{}", render_result(&result));
    } else {
        print!("{}", render_result(&result));
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// Connects to a Streamable HTTP endpoint with `headers` (`K:V`), runs the handshake, lists every tool
/// (following `nextCursor`), ends the session and returns the tool definitions.
///
/// # Errors
/// A message saying what went wrong: bad headers, an unreachable server, HTTP 401/403, a JSON-RPC error,
/// no answer within 30 s.
pub async fn list_tools_at(url: &str, headers: &[String]) -> Result<Vec<Value>, String> {
    let target = Endpoint::Http { url: url.to_owned(), headers: parse_headers(headers)? };
    session(&target, LIST_AT_TIMEOUT, async |c| c.list_tools().await).await.map_err(|e| e.to_string())
}

/// A current-thread runtime for one command.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread runtime starts")
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn client_error(error: &ClientError) -> ExitCode {
    eprintln!("error: {error}");
    error.exit_code()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Opens a connection to `target` (the handshake included), runs `work`, and closes the connection
/// whatever `work` returned.
async fn session<T>(
    target: &Endpoint,
    timeout: Duration,
    work: impl AsyncFnOnce(&mut Connection) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut connection = Connection::open(target, timeout).await?;
    let outcome = work(&mut connection).await;
    // A server that stopped answering, or floods its output, is not waited for.
    connection.close(!matches!(outcome, Err(ClientError::Timeout(..) | ClientError::TooLarge(..)))).await;
    outcome
}

/// Where the server is, checked.
#[derive(Debug, Clone)]
enum Endpoint {
    /// A command served on stdio.
    Stdio(Vec<String>),
    /// A Streamable HTTP endpoint and the headers sent with every request.
    Http { url: String, headers: HeaderMap },
}

impl Endpoint {
    fn from_target(target: &Target) -> Result<Self, String> {
        match (&target.url, target.command.is_empty()) {
            (Some(_), false) => Err("give either --url URL or -- CMD…, not both".to_owned()),
            (None, true) => Err("which server? give --url URL (Streamable HTTP) or -- CMD… (stdio)".to_owned()),
            (None, false) if !target.headers.is_empty() => Err("--header is sent over HTTP only: over stdio \
                 the server reads its client's credentials from its environment (MCP_CLIENT_KEY)"
                .to_owned()),
            (None, false) => Ok(Self::Stdio(target.command.clone())),
            (Some(url), true) => {
                let parsed = reqwest::Url::parse(url).map_err(|e| format!("--url {url}: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!("--url {url}: expected an http:// or https:// URL"));
                }
                Ok(Self::Http { url: url.clone(), headers: parse_headers(&target.headers)? })
            }
        }
    }
}

/// Parses `K:V` headers (split on the first `:`, both sides trimmed). `Authorization` and other
/// credential-looking values are marked sensitive.
pub(crate) fn parse_headers(headers: &[String]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for raw in headers {
        let Some((name, value)) = raw.split_once(':') else {
            return Err(format!("header {raw:?}: expected NAME:VALUE"));
        };
        let (name, value) = (name.trim(), value.trim());
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("header {raw:?}: bad name {name:?}"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| format!("header {name}: the value is not valid"))?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

/// Parses `call` arguments: one JSON object, or `key=value` pairs whose values are JSON when they parse
/// as JSON (`3`, `true`, `{"a":1}`, `"quoted"`) and strings otherwise.
pub(crate) fn parse_arguments(arguments: &[String]) -> Result<Map<String, Value>, String> {
    if let [single] = arguments
        && single.trim_start().starts_with('{')
    {
        return match serde_json::from_str(single) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err("the arguments must be a JSON object".to_owned()),
            Err(e) => Err(format!("the arguments are not a JSON object: {e}")),
        };
    }
    let mut object = Map::new();
    for argument in arguments {
        let Some((key, value)) = argument.split_once('=') else {
            return Err(format!("argument {argument:?}: expected key=value (or one JSON object)"));
        };
        if key.is_empty() {
            return Err(format!("argument {argument:?}: the key is empty"));
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        if object.insert(key.to_owned(), value).is_some() {
            return Err(format!("argument `{key}` is given twice"));
        }
    }
    Ok(object)
}

/// The client's identity and what it asks for in `initialize`: 2025-11-25, no capabilities.
fn client_config() -> ClientConfig {
    ClientConfig::new(ClientCapabilities::default(), Implementation::new("cargo-mcp", env!("CARGO_PKG_VERSION")))
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

/// One open connection to a server: rmcp's client, and the side it runs on.
struct Connection {
    service: RunningService<RoleClient, ClientConfig>,
    side: Side,
    timeout: Duration,
}

/// What the CLI keeps of the server's side, to explain a failure rmcp only sees as a closed connection.
enum Side {
    /// The server's process.
    Stdio(StdioServer),
    /// The endpoint, and the failures the HTTP backend met.
    Http { url: String, failures: Failures },
}

impl Side {
    /// Why `method` failed: the server's error, else what this side saw (a process that exited, an HTTP
    /// refusal, an answer beyond the cap), else what rmcp said.
    async fn explain(&mut self, lost: Lost, method: &str) -> ClientError {
        if let Lost::Answered(error) = lost {
            return error;
        }
        match self {
            Self::Stdio(server) => {
                if let Some(error) = server.overflow() {
                    return error;
                }
                match lost {
                    Lost::Answered(error) => error,
                    Lost::Closed(_) => server.gone(&format!("closed its output before answering `{method}`")).await,
                    Lost::Protocol(detail) => ClientError::Protocol(detail),
                }
            }
            Self::Http { url, failures } => {
                if let Some(error) = streamable::take(failures) {
                    return error;
                }
                match lost {
                    Lost::Answered(error) => error,
                    Lost::Closed(detail) => ClientError::Closed(format!("`{method}` to {url} failed: {detail}")),
                    Lost::Protocol(detail) => ClientError::Protocol(detail),
                }
            }
        }
    }
}

impl Connection {
    /// Starts or reaches the server and runs the handshake, within `timeout`.
    async fn open(target: &Endpoint, timeout: Duration) -> Result<Self, ClientError> {
        let (mut side, started) = match target {
            Endpoint::Stdio(command) => {
                let (server, transport) = StdioServer::spawn(command)?;
                let started = tokio::time::timeout(timeout, client_config().serve(transport)).await;
                (Side::Stdio(server), started)
            }
            Endpoint::Http { url, headers } => {
                let (backend, failures) = HttpBackend::new(headers.clone(), timeout)?;
                let started = tokio::time::timeout(timeout, client_config().serve(backend.transport(url))).await;
                (Side::Http { url: url.clone(), failures }, started)
            }
        };
        match started {
            Ok(Ok(service)) => {
                service.set_response_cache_config(ClientCacheConfig::disabled()).await;
                Ok(Self { service, side, timeout })
            }
            Ok(Err(error)) => {
                let error = side.explain(error.into(), "initialize").await;
                side.close(!matches!(error, ClientError::TooLarge(..))).await;
                Err(error)
            }
            Err(_) => {
                side.close(false).await;
                Err(ClientError::Timeout(timeout, "initialize".to_owned()))
            }
        }
    }

    /// What a request came to: its result, or why it failed.
    async fn settle<T>(
        &mut self,
        method: &str,
        outcome: Result<Result<T, ServiceError>, tokio::time::error::Elapsed>,
    ) -> Result<T, ClientError> {
        match outcome {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(self.side.explain(error.into(), method).await),
            Err(_) => Err(ClientError::Timeout(self.timeout, method.to_owned())),
        }
    }

    /// Every tool, following `nextCursor`, as the server defined them.
    async fn list_tools(&mut self) -> Result<Vec<Value>, ClientError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.clone().map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
            self.side.reset();
            let outcome = tokio::time::timeout(self.timeout, self.service.list_tools(params)).await;
            let page = self.settle("tools/list", outcome).await?;
            tools.extend(page.tools.iter().map(to_json));
            match page.next_cursor {
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                Some(next) => return Err(ClientError::Protocol(format!("tools/list repeats the cursor {next:?}"))),
                None => return Ok(tools),
            }
        }
        Err(ClientError::Protocol(format!("tools/list still has more after {MAX_PAGES} pages")))
    }

    /// Calls a tool; returns its result as the server sent it.
    async fn call_tool(&mut self, params: CallToolRequestParams) -> Result<Value, ClientError> {
        self.side.reset();
        let outcome = tokio::time::timeout(self.timeout, self.service.call_tool(params)).await;
        self.settle("tools/call", outcome).await.map(|result| to_json(&result))
    }

    /// Ends the session: rmcp closes the server's stdin or DELETEs the HTTP session; a process is waited
    /// for (`graceful`, up to 5 s) or killed.
    async fn close(self, graceful: bool) {
        let Self { service, mut side, .. } = self;
        if graceful || matches!(side, Side::Http { .. }) {
            let _ = tokio::time::timeout(Duration::from_secs(6), service.cancel()).await;
        } else {
            drop(service);
        }
        side.close(graceful).await;
    }
}

impl Side {
    /// Forgets the failures of earlier requests.
    fn reset(&self) {
        if let Self::Http { failures, .. } = self {
            streamable::take(failures);
        }
    }

    /// Lets the server's process exit (`graceful`, up to 5 s) or kills it.
    async fn close(&mut self, graceful: bool) {
        if let Self::Stdio(server) = self {
            server.close(graceful).await;
        }
    }
}

/// One of rmcp's typed results as JSON, the form `render` and `--json` print.
fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments_are_json_when_they_parse_and_strings_otherwise() {
        let parsed =
            parse_arguments(&strings(&["sku=ABC123", "n=3", "ok=true", "o={\"a\":1}", "s=\"7\"", "z=007"])).unwrap();
        assert_eq!(
            Value::Object(parsed),
            json!({"sku": "ABC123", "n": 3, "ok": true, "o": {"a": 1}, "s": "7", "z": "007"})
        );
        let eq = parse_arguments(&strings(&["q=a=b"])).unwrap();
        assert_eq!(eq["q"], "a=b", "only the first = separates");
        let object = parse_arguments(&strings(&[r#"{"sku": "ABC123", "delta": -2}"#])).unwrap();
        assert_eq!(Value::Object(object), json!({"sku": "ABC123", "delta": -2}));
        assert!(parse_arguments(&[]).unwrap().is_empty());
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert!(parse_arguments(&strings(&["sku"])).unwrap_err().contains("key=value"));
        assert!(parse_arguments(&strings(&["=1"])).unwrap_err().contains("empty"));
        assert!(parse_arguments(&strings(&["a=1", "a=2"])).unwrap_err().contains("twice"));
        assert!(parse_arguments(&strings(&["{\"a\":"])).unwrap_err().contains("not a JSON object"));
    }

    #[test]
    fn headers_split_on_the_first_colon() {
        let headers = parse_headers(&strings(&["Authorization: Bearer a:b", " X-Key :v "])).unwrap();
        assert_eq!(headers["authorization"], "Bearer a:b");
        assert_eq!(headers["x-key"], "v");
        assert!(headers["authorization"].is_sensitive());
        assert!(parse_headers(&strings(&["no colon"])).unwrap_err().contains("NAME:VALUE"));
        assert!(parse_headers(&strings(&["bad name: v"])).is_err());
    }

    #[test]
    fn targets_are_one_of_url_or_command() {
        let target = |url: Option<&str>, headers: &[&str], command: &[&str]| Target {
            url: url.map(str::to_owned),
            headers: strings(headers),
            timeout: 60,
            command: strings(command),
        };
        assert!(matches!(Endpoint::from_target(&target(None, &[], &["srv"])), Ok(Endpoint::Stdio(c)) if c == ["srv"]));
        assert!(Endpoint::from_target(&target(Some("http://127.0.0.1:1/mcp"), &["A: b"], &[])).is_ok());
        assert!(Endpoint::from_target(&target(Some("http://x/mcp"), &[], &["srv"])).unwrap_err().contains("not both"));
        assert!(Endpoint::from_target(&target(None, &[], &[])).unwrap_err().contains("which server"));
        assert!(Endpoint::from_target(&target(None, &["A: b"], &["srv"])).unwrap_err().contains("MCP_CLIENT_KEY"));
        assert!(Endpoint::from_target(&target(Some("ftp://x"), &[], &[])).unwrap_err().contains("http://"));
    }
}
