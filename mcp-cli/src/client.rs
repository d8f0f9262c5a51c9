//! `cargo mcp list` and `cargo mcp call`: a client over stdio or Streamable HTTP, for smoke tests, in
//! either era of the protocol (`--protocol`).
//!
//! - **2026-07-28** (stateless.rs, the CLI's own client): no handshake and no session; every request
//!   carries the revision, the client and its capabilities in `_meta`, and over HTTP the
//!   `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers. A `tools/call` answered
//!   `input_required` is answered (inputs.rs: `roots/list` with the current directory, `elicitation/create`
//!   asked on the terminal or declined) and called again, a bounded number of times.
//! - **The handshake era** (handshake.rs, rmcp's client): `initialize` under 2025-11-25, then
//!   `notifications/initialized`, request ids, the session and protocol-version headers, SSE answers, the
//!   `ping`s a server sends (answered) and its other requests (refused: the client declares no
//!   capabilities), the session's DELETE at the end.
//! - **`auto`** (the default) asks `server/discover` first and speaks 2026-07-28 when the server offers
//!   it, the handshake era otherwise (the specification's backward-compatibility rules: see stateless.rs).
//!
//! What is the CLI's own, in both eras:
//!
//! - over stdio it starts the server's command with the environment inherited (credentials travel in
//!   the server's environment, `MCP_CLIENT_KEY`) and its stderr let through, and keeps the process, to say
//!   how it exited when it stops answering (stdio.rs);
//! - over Streamable HTTP it uses the CLI's own HTTP client (streamable.rs is rmcp's transport on it): the
//!   `--header K:V` headers (credentials) on every request, no redirect followed (the headers would go
//!   along to wherever it points: the CLI's `http` module), and refusals (401, 403, other statuses)
//!   explained from their bodies and challenges;
//! - every answer is capped (16 MiB): a JSON body, an SSE event, a line of a stdio server's output; a
//!   server that sends more, or streams one answer forever, ends the command with an error naming the
//!   cap rather than growing the client without bound;
//! - each request waits at most `--timeout`;
//! - what it prints is the same in both eras (the 2026-07-28 `resultType` and the server's identity in
//!   `_meta` are left out of `--json`), so scripts that read it work with either.
//!
//! Exit codes: 0 success; 1 the server answered with an error (a JSON-RPC error, HTTP 401/403 or another
//! HTTP error status, a tool result with `isError: true`, a call that still asks for input after
//! [`MAX_INPUT_ROUNDS`] rounds); 2 the command could not run (bad arguments, a server that cannot be
//! started or reached, that exits or closes the connection, redirects elsewhere, answers beyond the cap,
//! does not answer in time, or does not speak the revision asked for).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::CallToolRequestParams;
use serde_json::{Map, Value, json};

mod error;
mod handshake;
mod inputs;
mod render;
mod stateless;
mod stdio;
mod streamable;

use self::error::ClientError;
use self::handshake::Connection;
use self::render::{Spinner, render_result, tools_table};
pub use self::stateless::MAX_INPUT_ROUNDS;
use self::stateless::{Probe, Stateless};
pub(crate) use self::streamable::{auth_param, error_detail};

/// The protocol revision the client asks for in `initialize` (the probes' too).
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// How long [`list_tools_at`] waits for each answer.
const LIST_AT_TIMEOUT: Duration = Duration::from_secs(30);

/// Pages of `tools/list` followed at most (a server whose cursors never end is cut off here).
const MAX_PAGES: usize = 1000;

/// Which revision of the protocol to speak (`--protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// Ask `server/discover` first: 2026-07-28 when the server offers it, else the handshake (2025-11-25).
    Auto,
    /// 2026-07-28 only: per-request `_meta`, no session; a server of the handshake era is an error.
    #[value(name = "2026-07-28")]
    Stateless,
    /// The handshake era only: `initialize` under 2025-11-25 and a session (what older servers speak).
    #[value(name = "2025-11-25")]
    Handshake,
}

/// Where the server is, a command to start it on stdio or a URL, and how to talk to it.
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
    /// The protocol revision: `auto` asks `server/discover` and speaks 2026-07-28 when the server offers
    /// it, else the handshake era (a stdio server silent to the probe is waited for up to --timeout).
    #[arg(long, value_enum, default_value_t = Protocol::Auto)]
    pub protocol: Protocol,
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
    let outcome = session(&target, args.target.protocol, timeout, false, async |c| c.list_tools().await);
    let tools = match runtime().block_on(outcome) {
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
    let outcome =
        session(&target, args.target.protocol, timeout, true, async |c| c.call_tool(&args.name, arguments).await);
    let result = match runtime().block_on(outcome) {
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

/// Connects to a Streamable HTTP endpoint with `headers` (`K:V`), runs the handshake (2025-11-25), lists
/// every tool (following `nextCursor`), ends the session and returns the tool definitions.
///
/// # Errors
/// A message saying what went wrong: bad headers, an unreachable server, HTTP 401/403, a JSON-RPC error,
/// no answer within 30 s.
pub async fn list_tools_at(url: &str, headers: &[String]) -> Result<Vec<Value>, String> {
    let target = Endpoint::Http { url: url.to_owned(), headers: parse_headers(headers)? };
    session(&target, Protocol::Handshake, LIST_AT_TIMEOUT, false, async |c| c.list_tools().await)
        .await
        .map_err(|e| e.to_string())
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

/// Opens a connection to `target` in the era `protocol` picks (`answers_input`: the command answers what
/// a 2026-07-28 server asks for, and declares it), runs `work`, and closes the connection whatever `work`
/// returned.
async fn session<T>(
    target: &Endpoint,
    protocol: Protocol,
    timeout: Duration,
    answers_input: bool,
    work: impl AsyncFnOnce(&mut Client) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut client = Client::open(target, protocol, timeout, answers_input).await?;
    let outcome = work(&mut client).await;
    // A server that stopped answering, or floods its output, is not waited for.
    client.close(!matches!(outcome, Err(ClientError::Timeout(..) | ClientError::TooLarge(..)))).await;
    outcome
}

/// A client of one server, in the era it speaks.
enum Client {
    /// 2026-07-28.
    Stateless(Stateless),
    /// The handshake era, on rmcp.
    Handshake(Connection),
}

impl Client {
    /// Reaches the server in the era `protocol` asks for; for `auto` and 2026-07-28 `server/discover`
    /// first.
    async fn open(
        target: &Endpoint,
        protocol: Protocol,
        timeout: Duration,
        answers_input: bool,
    ) -> Result<Self, ClientError> {
        if protocol == Protocol::Handshake {
            return Connection::open(target, timeout, None).await.map(Self::Handshake);
        }
        match Stateless::probe(target, timeout, answers_input).await? {
            Probe::Stateless(client) => Ok(Self::Stateless(client)),
            Probe::Handshake(why, stdio) if protocol == Protocol::Stateless => {
                if let Some((mut server, pipes)) = stdio {
                    drop(pipes);
                    server.close(true).await;
                }
                Err(ClientError::Era(format!(
                    "the server does not speak {} ({why}); try --protocol {PROTOCOL_VERSION} or auto",
                    stateless::VERSION
                )))
            }
            Probe::Handshake(_, stdio) => Connection::open(target, timeout, stdio).await.map(Self::Handshake),
        }
    }

    async fn list_tools(&mut self) -> Result<Vec<Value>, ClientError> {
        match self {
            Self::Stateless(client) => client.list_tools().await,
            Self::Handshake(connection) => connection.list_tools().await,
        }
    }

    /// Calls `name` with `arguments`; the result as the server sent it (without the 2026-07-28 envelope).
    async fn call_tool(&mut self, name: &str, arguments: Map<String, Value>) -> Result<Value, ClientError> {
        match self {
            Self::Stateless(client) => client.call_tool(name, arguments).await,
            Self::Handshake(connection) => {
                let spinner = Spinner::start(format!("calling {name}"));
                let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
                let result = connection.call_tool(params).await;
                spinner.stop();
                result
            }
        }
    }

    async fn close(self, graceful: bool) {
        match self {
            Self::Stateless(client) => client.close(graceful).await,
            Self::Handshake(connection) => connection.close(graceful).await,
        }
    }
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
            protocol: Protocol::Auto,
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
