//! The 2026-07-28 client: no handshake and no session. Every request carries in its `_meta` the
//! revision (`io.modelcontextprotocol/protocolVersion`), the client (`clientInfo`) and what it serves
//! (`clientCapabilities`), and over HTTP the headers `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`
//! (base64 when the name is not plain ASCII) and the `Mcp-Param-*` headers a tool's `x-mcp-header`
//! annotations ask for (params.rs).
//!
//! It starts with `server/discover`, which tells a 2026-07-28 server from one of the handshake era
//! ([`Stateless::probe`], the rules of the specification's "Backward Compatibility"): a discovery result
//! offering 2026-07-28 is a 2026-07-28 server; `UnsupportedProtocolVersionError` (−32022) naming a
//! handshake revision, any other JSON-RPC error, an HTTP 4xx without a 2026-07-28 error, and on stdio a
//! server that closes its output or stays silent until `--timeout`, are the handshake era. A server that
//! answered with an error keeps its process: the handshake goes on over the same pipes.
//!
//! Results carry `resultType`. `tools/list` is followed through `nextCursor`. A `tools/call` answered
//! `input_required` is called again, with new ids, carrying the `inputResponses` the CLI could give
//! (inputs.rs) and the `requestState` echoed as it came, at most [`MAX_INPUT_ROUNDS`] times.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

mod params;
mod wire;

use self::wire::{HttpWire, StdioWire, Wire};
use super::error::ClientError;
use super::render::Spinner;
use super::stdio::{StdioPipes, StdioServer};
use super::{Endpoint, MAX_PAGES, inputs};

/// The revision this client speaks.
pub(super) const VERSION: &str = "2026-07-28";

/// The handshake-era revisions rmcp's client can fall back to (what a −32022 or a discovery result must
/// name for the fallback to make sense).
const HANDSHAKE_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// Times a `tools/call` answered `input_required` is called again before the CLI gives up.
pub const MAX_INPUT_ROUNDS: usize = 8;

/// What the `server/discover` probe found.
pub(super) enum Probe {
    /// The server speaks 2026-07-28; requests go on over this client.
    Stateless(Stateless),
    /// The server is of the handshake era (why, for an explicit `--protocol 2026-07-28` to say); on stdio
    /// its process and pipes when it answered the probe and may take the handshake.
    Handshake(String, Option<(StdioServer, StdioPipes)>),
}

/// A 2026-07-28 client of one server.
pub(super) struct Stateless {
    wire: Wire,
    timeout: Duration,
    /// `clientCapabilities`: what this command answers when the server asks (inputs.rs).
    capabilities: Value,
    next_id: u64,
}

impl Stateless {
    /// Starts or reaches the server and asks `server/discover`.
    ///
    /// # Errors
    /// What the probe met that no fallback would mend: an unreachable server, HTTP 401/403, a redirect,
    /// an answer beyond the cap, a 2026-07-28 error, a server that speaks neither 2026-07-28 nor a
    /// handshake revision.
    pub(super) async fn probe(target: &Endpoint, timeout: Duration, answers_input: bool) -> Result<Probe, ClientError> {
        let wire = match target {
            Endpoint::Stdio(command) => {
                let (server, pipes) = StdioServer::spawn(command)?;
                Wire::Stdio(Box::new(StdioWire::new(server, pipes)))
            }
            Endpoint::Http { url, headers } => Wire::Http(HttpWire::new(url, headers.clone(), timeout)?),
        };
        let capabilities = if answers_input { inputs::capabilities() } else { json!({}) };
        let mut client = Self { wire, timeout, capabilities, next_id: 0 };
        let outcome = client.request("server/discover", Map::new(), &HeaderMap::new()).await;
        let stdio = matches!(client.wire, Wire::Stdio(_));
        match verdict(outcome, stdio) {
            Verdict::Stateless => Ok(Probe::Stateless(client)),
            Verdict::Handshake { why, keep } => {
                let parts = match client.wire {
                    Wire::Stdio(stdio) if keep => Some(stdio.into_parts()),
                    wire => {
                        wire.close(false).await;
                        None
                    }
                };
                Ok(Probe::Handshake(why, parts))
            }
            Verdict::Fail(error) => {
                client.close(!matches!(error, ClientError::Timeout(..) | ClientError::TooLarge(..))).await;
                Err(error)
            }
        }
    }

    /// One request: `params` with the 2026-07-28 `_meta`, over the wire with `headers` (HTTP), within
    /// `--timeout`; its result, or the JSON-RPC error it met.
    async fn request(
        &mut self,
        method: &str,
        mut params: Map<String, Value>,
        headers: &HeaderMap,
    ) -> Result<Map<String, Value>, ClientError> {
        self.next_id += 1;
        let id = json!(self.next_id);
        let meta = json!({
            "io.modelcontextprotocol/protocolVersion": VERSION,
            "io.modelcontextprotocol/clientInfo": {"name": "cargo-mcp", "version": env!("CARGO_PKG_VERSION")},
            "io.modelcontextprotocol/clientCapabilities": self.capabilities,
        });
        params.insert("_meta".to_owned(), meta);
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let answer = tokio::time::timeout(self.timeout, self.wire.exchange(&id, method, &message, headers))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout, method.to_owned()))??;
        if let Some(error) = answer.get("error") {
            return Err(ClientError::Rpc {
                code: error.get("code").and_then(Value::as_i64).unwrap_or_default(),
                message: error.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
                data: error.get("data").cloned(),
            });
        }
        match answer.get("result") {
            Some(Value::Object(result)) => Ok(result.clone()),
            _ => Err(ClientError::Protocol(format!("the result of `{method}` is not an object: {answer}"))),
        }
    }

    /// Every tool, following `nextCursor`, as the server defined them. Over HTTP a tool whose
    /// `x-mcp-header` annotations break the specification's rules is left out, with a warning: its calls
    /// could not carry the headers it asks for.
    pub(super) async fn list_tools(&mut self) -> Result<Vec<Value>, ClientError> {
        let tools = self.all_tools().await?;
        if !matches!(self.wire, Wire::Http(_)) {
            return Ok(tools);
        }
        Ok(tools
            .into_iter()
            .filter(|tool| match params::annotations(tool.get("inputSchema").unwrap_or(&Value::Null)) {
                Ok(_) => true,
                Err(why) => {
                    let name = tool.get("name").and_then(Value::as_str).unwrap_or("?");
                    eprintln!("warning: tool `{name}` left out: {why}");
                    false
                }
            })
            .collect())
    }

    async fn all_tools(&mut self) -> Result<Vec<Value>, ClientError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = Map::new();
            if let Some(cursor) = &cursor {
                params.insert("cursor".to_owned(), json!(cursor));
            }
            let page = complete("tools/list", self.request("tools/list", params, &HeaderMap::new()).await?)?;
            match page.get("tools") {
                Some(Value::Array(page_tools)) => tools.extend(page_tools.iter().cloned()),
                _ => return Err(ClientError::Protocol("a `tools/list` result has no `tools` list".to_owned())),
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) if cursor.as_deref() != Some(next) => cursor = Some(next.to_owned()),
                Some(next) => return Err(ClientError::Protocol(format!("tools/list repeats the cursor {next:?}"))),
                None => return Ok(tools),
            }
        }
        Err(ClientError::Protocol(format!("tools/list still has more after {MAX_PAGES} pages")))
    }

    /// Calls a tool, answering what the server asks for on the way (`input_required`); returns the final
    /// result without the 2026-07-28 envelope (`resultType`, the server's identity in `_meta`), in the
    /// form the handshake era prints.
    pub(super) async fn call_tool(&mut self, name: &str, arguments: Map<String, Value>) -> Result<Value, ClientError> {
        let headers = match self.wire {
            Wire::Http(_) => self.param_headers(name, &arguments).await?,
            Wire::Stdio(_) => HeaderMap::new(),
        };
        let mut params = Map::new();
        params.insert("name".to_owned(), json!(name));
        params.insert("arguments".to_owned(), Value::Object(arguments));
        let mut round = 0;
        loop {
            let spinner = Spinner::start(format!("calling {name}"));
            let result = self.request("tools/call", params.clone(), &headers).await;
            spinner.stop();
            let result = result?;
            if result.get("resultType").and_then(Value::as_str) != Some("input_required") {
                return complete("tools/call", result).map(|result| strip_envelope(Value::Object(result)));
            }
            if round == MAX_INPUT_ROUNDS {
                return Err(ClientError::Rounds(format!(
                    "`{name}` still asks for input after {MAX_INPUT_ROUNDS} rounds of answers; cargo mcp stops there"
                )));
            }
            let requests = result.get("inputRequests").and_then(Value::as_object);
            let state = result.get("requestState").and_then(Value::as_str);
            if requests.is_none() && state.is_none() {
                return Err(ClientError::Protocol(format!(
                    "`{name}` answered input_required with neither inputRequests nor requestState"
                )));
            }
            params.remove("inputResponses");
            params.remove("requestState");
            if let Some(requests) = requests {
                params.insert("inputResponses".to_owned(), Value::Object(inputs::answer(requests)?));
            }
            if let Some(state) = state {
                params.insert("requestState".to_owned(), json!(state));
            }
            round += 1;
        }
    }

    /// The `Mcp-Param-*` headers the tool's definition asks a call with `arguments` to carry. A server
    /// that refuses this caller the list gets none: the call goes on, and the server says whether it
    /// needed them (−32020).
    async fn param_headers(&mut self, name: &str, arguments: &Map<String, Value>) -> Result<HeaderMap, ClientError> {
        let tools = match self.all_tools().await {
            Ok(tools) => tools,
            Err(ClientError::Rpc { .. } | ClientError::Forbidden(_) | ClientError::Status(..)) => {
                return Ok(HeaderMap::new());
            }
            Err(error) => return Err(error),
        };
        let Some(tool) = tools.iter().find(|t| t.get("name").and_then(Value::as_str) == Some(name)) else {
            // The server says what it thinks of an unknown tool.
            return Ok(HeaderMap::new());
        };
        let annotations = params::annotations(tool.get("inputSchema").unwrap_or(&Value::Null))
            .map_err(|why| ClientError::Protocol(format!("tool `{name}` cannot be called: {why}")))?;
        params::headers(&annotations, arguments).map_err(ClientError::Protocol)
    }

    /// Lets a server process exit (`graceful`) or kills it.
    pub(super) async fn close(self, graceful: bool) {
        self.wire.close(graceful).await;
    }
}

/// How the probe ended.
enum Verdict {
    Stateless,
    /// `keep`: the process answered and may take the handshake.
    Handshake {
        why: String,
        keep: bool,
    },
    Fail(ClientError),
}

/// Reads the answer to `server/discover` as the specification's backward-compatibility rules say.
fn verdict(outcome: Result<Map<String, Value>, ClientError>, stdio: bool) -> Verdict {
    let offers = |versions: Option<&Value>| -> Vec<String> {
        versions.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    let handshake_or = |offered: &[String], fail: ClientError| {
        if offered.iter().any(|v| HANDSHAKE_VERSIONS.contains(&v.as_str())) {
            Verdict::Handshake { why: format!("it offers {}", offered.join(", ")), keep: stdio }
        } else {
            Verdict::Fail(fail)
        }
    };
    match outcome {
        Ok(result) => {
            let offered = offers(result.get("supportedVersions"));
            if result.get("supportedVersions").is_none() || offered.iter().any(|v| v == VERSION) {
                return Verdict::Stateless;
            }
            let neither = format!(
                "the server speaks {} (server/discover); cargo mcp speaks {VERSION} and {}",
                offered.join(", "),
                HANDSHAKE_VERSIONS.join(", ")
            );
            handshake_or(&offered, ClientError::Era(neither))
        }
        Err(ClientError::Rpc { code: -32022, message, data }) => {
            let offered = offers(data.as_ref().and_then(|d| d.get("supported")));
            handshake_or(&offered, ClientError::Rpc { code: -32022, message, data })
        }
        // The other errors 2026-07-28 defines: a 2026-07-28 server that refuses the request.
        Err(error @ ClientError::Rpc { code: -32021 | -32020, .. }) => Verdict::Fail(error),
        Err(ClientError::Rpc { code, message, .. }) => Verdict::Handshake {
            why: format!("it answered server/discover with JSON-RPC error {code}: {message}"),
            keep: stdio,
        },
        Err(ClientError::Status(status @ 400..=499, detail)) if !stdio => {
            Verdict::Handshake { why: format!("it answered server/discover with HTTP {status}: {detail}"), keep: false }
        }
        Err(error @ (ClientError::Closed(_) | ClientError::Timeout(..))) if stdio => {
            Verdict::Handshake { why: format!("server/discover: {error}"), keep: false }
        }
        Err(error) => Verdict::Fail(error),
    }
}

/// A result that must be complete (`resultType` absent or `complete`).
fn complete(method: &str, result: Map<String, Value>) -> Result<Map<String, Value>, ClientError> {
    match result.get("resultType").and_then(Value::as_str) {
        None | Some("complete") => Ok(result),
        Some(other) => Err(ClientError::Protocol(format!(
            "`{method}` answered with resultType {other:?}, which cargo mcp does not handle"
        ))),
    }
}

/// A result without what 2026-07-28 adds to every result (`resultType`, `ttlMs`, `cacheScope`, the
/// server's identity in `_meta`), so that scripts read the same JSON in both eras.
fn strip_envelope(mut result: Value) -> Value {
    if let Value::Object(fields) = &mut result {
        for key in ["resultType", "ttlMs", "cacheScope"] {
            fields.remove(key);
        }
        if let Some(Value::Object(meta)) = fields.get_mut("_meta") {
            meta.remove("io.modelcontextprotocol/serverInfo");
            if meta.is_empty() {
                fields.remove("_meta");
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    fn rpc(code: i64, data: Value) -> ClientError {
        ClientError::Rpc { code, message: "m".to_owned(), data: Some(data) }
    }

    #[test]
    fn the_probe_tells_the_eras_apart() {
        let modern = Ok(object(json!({"resultType": "complete", "supportedVersions": ["2026-07-28", "2025-11-25"]})));
        assert!(matches!(verdict(modern, true), Verdict::Stateless));
        let handshake_only = Ok(object(json!({"supportedVersions": ["2025-11-25"]})));
        assert!(matches!(verdict(handshake_only, false), Verdict::Handshake { .. }));
        let future_only = Ok(object(json!({"supportedVersions": ["2099-01-01"]})));
        assert!(matches!(verdict(future_only, false), Verdict::Fail(ClientError::Era(_))));

        let unsupported = Err(rpc(-32022, json!({"supported": ["2025-06-18"], "requested": "2026-07-28"})));
        assert!(matches!(verdict(unsupported, true), Verdict::Handshake { keep: true, .. }));
        let unsupported = Err(rpc(-32022, json!({"supported": ["2099-01-01"]})));
        assert!(matches!(verdict(unsupported, true), Verdict::Fail(ClientError::Rpc { code: -32022, .. })));
        assert!(matches!(verdict(Err(rpc(-32020, json!(null))), false), Verdict::Fail(_)));
        // The fallback is keyed to no one error code.
        for code in [-32601, -32602, -32600, -1] {
            assert!(matches!(verdict(Err(rpc(code, json!(null))), true), Verdict::Handshake { keep: true, .. }));
        }
        let bad_request = Err(ClientError::Status(400, "no session".to_owned()));
        assert!(matches!(verdict(bad_request, false), Verdict::Handshake { keep: false, .. }));
        let server_error = Err(ClientError::Status(500, "boom".to_owned()));
        assert!(matches!(verdict(server_error, false), Verdict::Fail(_)));
        assert!(matches!(verdict(Err(ClientError::Forbidden("x".to_owned())), false), Verdict::Fail(_)));

        let silent = || Err(ClientError::Timeout(Duration::from_secs(1), "server/discover".to_owned()));
        assert!(matches!(verdict(silent(), true), Verdict::Handshake { keep: false, .. }), "a silent stdio server");
        assert!(matches!(verdict(silent(), false), Verdict::Fail(_)), "HTTP says what it is");
        let exited = || Err(ClientError::Closed("exited".to_owned()));
        assert!(matches!(verdict(exited(), true), Verdict::Handshake { keep: false, .. }));
        assert!(matches!(verdict(exited(), false), Verdict::Fail(_)));
    }

    #[test]
    fn results_print_without_the_envelope() {
        let result = json!({
            "resultType": "complete",
            "content": [],
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s"}, "trace": 1},
        });
        assert_eq!(strip_envelope(result), json!({"content": [], "_meta": {"trace": 1}}));
        let result =
            json!({"resultType": "complete", "content": [], "_meta": {"io.modelcontextprotocol/serverInfo": {}}});
        assert_eq!(strip_envelope(result), json!({"content": []}));
        assert!(complete("tools/call", object(json!({"resultType": "task"}))).is_err());
        assert!(complete("tools/call", object(json!({"content": []}))).is_ok());
    }
}
