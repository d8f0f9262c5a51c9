//! `cargo mcp list` and `cargo mcp call`: a small MCP client over stdio or Streamable HTTP, for smoke tests.
//!
//! The client speaks the handshake era (`initialize` under 2025-11-25, then `notifications/initialized`):
//!
//! - over stdio it starts the server's command with the environment inherited (credentials travel in
//!   the server's environment, `MCP_CLIENT_KEY`), writes one JSON-RPC message per line on its stdin, reads
//!   its stdout line by line and lets its stderr through;
//! - over Streamable HTTP it POSTs each message with `Accept: application/json, text/event-stream`, reads
//!   the answer as JSON or from an SSE stream (`data:` lines until the response with the request's id),
//!   keeps the `Mcp-Session-Id` `initialize` gave, sends it with `MCP-Protocol-Version` afterwards and
//!   DELETEs the session at the end; `--header K:V` adds headers (credentials) to every request. It
//!   follows no redirect: the headers would go along to wherever it points (the CLI's `http` module).
//!
//! Every answer is capped (16 MiB): a JSON body, an SSE event, a line of a stdio
//! server's output; a server that sends more, or streams one answer forever, ends the command with an
//! error naming the cap rather than growing the client without bound.
//!
//! Requests the server sends meanwhile are answered (`ping`) or refused (−32601: the client declares no
//! capabilities); notifications are ignored.
//!
//! Exit codes: 0 success; 1 the server answered with an error (a JSON-RPC error, HTTP 401/403 or another
//! HTTP error status, a tool result with `isError: true`); 2 the command could not run (bad arguments, a
//! server that cannot be started or reached, that exits or closes the connection, redirects elsewhere,
//! answers beyond the cap, or does not answer in time).

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

mod render;
mod stdio;
mod streamable;

use self::render::{Spinner, render_result, tools_table};
use self::stdio::StdioPeer;
use self::streamable::HttpPeer;
pub(crate) use self::streamable::{auth_param, error_detail};
use crate::http::TooLarge;

/// The protocol revision the client asks for in `initialize`.
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
    let params = json!({ "name": args.name, "arguments": arguments });
    let result = runtime().block_on(session(&target, timeout, async |c| {
        let spinner = Spinner::start(format!("calling {}", args.name));
        let result = c.request("tools/call", Some(params)).await;
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

/// Opens a connection to `target`, runs the handshake, runs `work`, and closes the connection whatever
/// `work` returned.
async fn session<T>(
    target: &Endpoint,
    timeout: Duration,
    work: impl AsyncFnOnce(&mut Connection) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut connection = Connection::open(target, timeout).await?;
    let outcome = match connection.initialize().await {
        Ok(()) => work(&mut connection).await,
        Err(e) => Err(e),
    };
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

/// Why a request failed.
#[derive(Debug)]
enum ClientError {
    /// The server answered with a JSON-RPC error.
    Rpc { code: i64, message: String, data: Option<Value> },
    /// HTTP 401: no credentials, or refused ones.
    Unauthorized(String),
    /// HTTP 403: a Host/Origin refused, or a missing scope.
    Forbidden(String),
    /// Another HTTP error status.
    Status(u16, String),
    /// The server could not be started or reached.
    Unreachable(String),
    /// The server exited or closed the connection before it answered.
    Closed(String),
    /// No answer within `--timeout`.
    Timeout(Duration, String),
    /// The server said something that is not MCP.
    Protocol(String),
    /// The server answered with a redirect, which is not followed (the message names where it points).
    Redirected(String),
    /// An answer (to the request named) outgrew the cap.
    TooLarge(String, TooLarge),
}

impl ClientError {
    /// 1 when the server answered with a refusal or an error, 2 when it could not be talked to.
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::Rpc { .. } | Self::Unauthorized(_) | Self::Forbidden(_) | Self::Status(..) => ExitCode::FAILURE,
            Self::Unreachable(_)
            | Self::Closed(_)
            | Self::Timeout(..)
            | Self::Protocol(_)
            | Self::Redirected(_)
            | Self::TooLarge(..) => ExitCode::from(2),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpc { code, message, data } => {
                write!(f, "the server answered with JSON-RPC error {code}: {message}")?;
                match data {
                    Some(data) if !data.is_null() => write!(f, " (data: {data})"),
                    _ => Ok(()),
                }
            }
            Self::Unauthorized(detail) => write!(f, "HTTP 401 Unauthorized: {detail}"),
            Self::Forbidden(detail) => write!(f, "HTTP 403 Forbidden: {detail}"),
            Self::Status(status, detail) => write!(f, "HTTP {status}: {detail}"),
            Self::Unreachable(detail) | Self::Closed(detail) | Self::Redirected(detail) => f.write_str(detail),
            Self::TooLarge(what, too_large) => write!(f, "{what} is {too_large}"),
            Self::Timeout(timeout, method) => {
                write!(f, "no answer to `{method}` within {}s (--timeout)", timeout.as_secs_f64())
            }
            Self::Protocol(detail) => write!(f, "the server's answer is not MCP: {detail}"),
        }
    }
}

/// What a message read from the server is, relative to the request waiting for its answer.
#[derive(Debug, PartialEq)]
enum Incoming {
    /// The answer to the request with this id.
    Answer(Result<Value, (i64, String, Option<Value>)>),
    /// A request from the server, with the answer to send back.
    Request(Value),
    /// A notification, or an answer to another id.
    Other,
}

/// Sorts `message` out for the request `id`.
fn classify(message: &Value, id: i64) -> Incoming {
    let has_method = message.get("method").is_some();
    match message.get("id") {
        Some(got) if !has_method && got == &json!(id) => {
            if let Some(error) = message.get("error") {
                let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
                let text = error.get("message").and_then(Value::as_str).unwrap_or("(no message)").to_owned();
                Incoming::Answer(Err((code, text, error.get("data").cloned())))
            } else {
                Incoming::Answer(Ok(message.get("result").cloned().unwrap_or(Value::Null)))
            }
        }
        Some(request_id) if has_method => {
            let answer = if message["method"] == "ping" {
                json!({"jsonrpc": "2.0", "id": request_id, "result": {}})
            } else {
                json!({"jsonrpc": "2.0", "id": request_id,
                       "error": {"code": -32601, "message": "cargo mcp declares no client capabilities"}})
            };
            Incoming::Request(answer)
        }
        _ => Incoming::Other,
    }
}

fn answer_to_result(answer: Result<Value, (i64, String, Option<Value>)>) -> Result<Value, ClientError> {
    answer.map_err(|(code, message, data)| ClientError::Rpc { code, message, data })
}

/// One open connection to a server.
struct Connection {
    peer: Peer,
    next_id: i64,
    timeout: Duration,
}

enum Peer {
    Stdio(StdioPeer),
    Http(HttpPeer),
}

impl Connection {
    async fn open(target: &Endpoint, timeout: Duration) -> Result<Self, ClientError> {
        let peer = match target {
            Endpoint::Stdio(command) => Peer::Stdio(StdioPeer::spawn(command)?),
            Endpoint::Http { url, headers } => Peer::Http(HttpPeer::new(url, headers.clone(), timeout)?),
        };
        Ok(Self { peer, next_id: 0, timeout })
    }

    /// `initialize`, then `notifications/initialized`.
    async fn initialize(&mut self) -> Result<(), ClientError> {
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "cargo-mcp", "version": env!("CARGO_PKG_VERSION")},
        });
        let result = self.request("initialize", Some(params)).await?;
        let Some(version) = result.get("protocolVersion").and_then(Value::as_str) else {
            return Err(ClientError::Protocol(format!(
                "the initialize result has no protocolVersion: {}",
                shorten(&result.to_string(), 200)
            )));
        };
        if let Peer::Http(http) = &mut self.peer {
            http.version = Some(version.to_owned());
        }
        self.notify("notifications/initialized").await
    }

    /// Every tool, following `nextCursor`.
    async fn list_tools(&mut self) -> Result<Vec<Value>, ClientError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.as_ref().map(|c| json!({ "cursor": c }));
            let page = self.request("tools/list", params).await?;
            let Some(listed) = page.get("tools").and_then(Value::as_array) else {
                return Err(ClientError::Protocol(format!(
                    "the tools/list result has no tools array: {}",
                    shorten(&page.to_string(), 200)
                )));
            };
            tools.extend(listed.iter().cloned());
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) if cursor.as_deref() != Some(next) => cursor = Some(next.to_owned()),
                Some(next) => return Err(ClientError::Protocol(format!("tools/list repeats the cursor {next:?}"))),
                None => return Ok(tools),
            }
        }
        Err(ClientError::Protocol(format!("tools/list still has more after {MAX_PAGES} pages")))
    }

    /// Sends a request and waits (at most `timeout`) for its answer.
    async fn request(&mut self, method: &str, params: Option<Value>) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if let Some(params) = params {
            message["params"] = params;
        }
        let timeout = self.timeout;
        let exchange = async {
            match &mut self.peer {
                Peer::Stdio(stdio) => stdio.request(&message, id, method).await,
                Peer::Http(http) => http.request(&message, id, method).await,
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(ClientError::Timeout(timeout, method.to_owned())),
        }
    }

    async fn notify(&mut self, method: &str) -> Result<(), ClientError> {
        let message = json!({"jsonrpc": "2.0", "method": method});
        let timeout = self.timeout;
        let send = async {
            match &mut self.peer {
                Peer::Stdio(stdio) => stdio.send(&message).await,
                Peer::Http(http) => http.notify(&message).await,
            }
        };
        tokio::time::timeout(timeout, send)
            .await
            .unwrap_or_else(|_| Err(ClientError::Timeout(timeout, method.to_owned())))
    }

    /// Ends the session: closes the server's stdin and waits for it to exit (`graceful`) or kills it, or
    /// DELETEs the HTTP session.
    async fn close(self, graceful: bool) {
        match self.peer {
            Peer::Stdio(stdio) => stdio.close(graceful).await,
            Peer::Http(http) => http.close().await,
        }
    }
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

    #[test]
    fn messages_are_sorted_out_by_id() {
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": 3, "result": {"x": 1}}), 3),
            Incoming::Answer(Ok(json!({"x": 1})))
        );
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "bad"}}), 3),
            Incoming::Answer(Err((-32602, "bad".to_owned(), None)))
        );
        assert_eq!(classify(&json!({"jsonrpc": "2.0", "id": 2, "result": {}}), 3), Incoming::Other);
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {}}), 3),
            Incoming::Other
        );
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}), 3),
            Incoming::Request(json!({"jsonrpc": "2.0", "id": 3, "result": {}})),
            "a server request with the same id is not the answer"
        );
        let Incoming::Request(refusal) = classify(&json!({"jsonrpc": "2.0", "id": "s1", "method": "roots/list"}), 3)
        else {
            panic!("a request")
        };
        assert_eq!(refusal["error"]["code"], -32601);
        assert_eq!(refusal["id"], "s1");
    }
}
