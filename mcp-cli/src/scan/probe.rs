//! Live probes of a running server's endpoint (`--url`).
//!
//! Each probe sends real requests to the Streamable HTTP endpoint, with the `--header` credentials unless
//! it tests what happens without them, and reports what the server accepted that it should have refused:
//!
//! | rule | severity | what is accepted |
//! |---|---|---|
//! | `MCP301` | critical | `initialize` and `tools/list` without the given headers (no credentials) |
//! | `MCP302` | high | a credential read from `?access_token=` or `?api_key=` (found with a dummy value) |
//! | `MCP303` | high | `Host: attacker.example`, or `Origin: http://attacker.example` (DNS rebinding) |
//! | `MCP304` | medium | 50 concurrent `tools/call`s, every one served, none refused with 429 |
//! | `MCP305` | medium | session ids that are short, not hex/base64, repeated, patterned or low in entropy |
//! | `MCP306` | medium | error answers carrying panics, backtraces or source paths |
//!
//! The endpoint must first accept an `initialize` with the given headers; otherwise nothing is probed and a
//! note says why. A probe that cannot conclude (no credential to move to the query string, no tool to
//! burst, a server without sessions) is skipped with a note on stderr. Every session a probe opens is
//! DELETEd. The probes stay below the runtime's default failed-authentication budget (10 per address and
//! minute): they send 4 requests without valid credentials, one of them with a wrong one.
//!
//! The given credentials never leave the headers they were given in: no probe puts one in a URL (which
//! lands in access logs, proxies and histories), no redirect is followed (a 3xx is what the probe sees),
//! and no answer is read beyond 16 MiB (the CLI's `http` module).

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HOST, HeaderMap, HeaderValue, ORIGIN};
use serde_json::{Value, json};
use tokio::task::JoinSet;

mod reply;
mod session_ids;

use self::reply::{Reply, send};
use self::session_ids::weak_session_ids;
use super::{Finding, Location};
use crate::client::{PROTOCOL_VERSION, list_tools_at, parse_headers};
use crate::http;

/// How long one probe request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent calls of the burst probe.
const BURST: usize = 50;
/// Sessions the session-id probe opens.
const SESSIONS: usize = 20;
/// The value the query-credential probe sends where a credential would go: never the real one.
const DUMMY_CREDENTIAL: &str = "cargo-mcp-scan-dummy-credential";
/// The host and origin of the DNS-rebinding probe.
const ATTACKER_HOST: &str = "attacker.example";
/// Strings an error answer must not contain: panics, backtraces, source and home paths.
const LEAK_MARKERS: [&str; 7] = ["panicked at", "stack backtrace", "/home/", "/root/", "/usr/src", ".rs:", "at src/"];

/// Probes `url` with `headers` (`K:V`, the credentials of a legitimate client) and returns what it
/// found. `probe_tool` names the tool the burst probe calls (default: the first read-only tool without
/// required arguments).
pub async fn probe(url: &str, headers: &[String], probe_tool: Option<&str>) -> Vec<Finding> {
    let auth = match parse_headers(headers) {
        Ok(auth) => auth,
        Err(e) => {
            note(url, &format!("no live probes: {e}"));
            return Vec::new();
        }
    };
    let client = match http::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            note(url, &format!("no live probes: cannot build an HTTP client: {e}"));
            return Vec::new();
        }
    };
    let prober = Prober { client, url: url.to_owned(), auth, headers: headers.to_vec() };
    match prober.initialize(url, &prober.auth).await {
        Ok(reply) if reply.accepted() => prober.delete(url, &prober.auth, reply.session.as_deref()).await,
        Ok(Reply { redirect: Some(redirect), .. }) => {
            note(url, &format!("no live probes: initialize is answered with a redirect: {redirect}"));
            return Vec::new();
        }
        Ok(reply) => {
            let with = if headers.is_empty() { "without headers" } else { "with the given headers" };
            note(url, &format!("no live probes: initialize {with} is refused (HTTP {})", reply.status));
            return Vec::new();
        }
        Err(e) => {
            note(url, &format!("no live probes: {e}"));
            return Vec::new();
        }
    }
    let mut findings = Vec::new();
    let anonymous = prober.unauthenticated(&mut findings).await;
    prober.query_credential(&anonymous, &mut findings).await;
    prober.dns_rebinding(&mut findings).await;
    prober.burst(probe_tool, &mut findings).await;
    prober.session_ids(&mut findings).await;
    prober.error_leaks(&mut findings).await;
    findings
}

/// Says on stderr why a probe did not run.
fn note(url: &str, text: &str) {
    eprintln!("note: {url}: {text}");
}

/// The probes' shared state.
struct Prober {
    client: reqwest::Client,
    url: String,
    auth: HeaderMap,
    headers: Vec<String>,
}

/// How the endpoint answered an `initialize` without credentials.
enum Anonymous {
    /// It served it (and `tools/list`): MCP301.
    Served,
    /// It refused it, this way.
    Refused(Reply),
    /// It could not be told (unreachable, or an answer neither served nor refused).
    Unknown,
}

/// An open session: its id (none on a server without sessions) and protocol revision.
struct Session {
    id: Option<String>,
    version: String,
}

impl Prober {
    fn finding(&self, rule: &'static str, message: String) -> Finding {
        Finding::new(rule, message, Location::Url { url: self.url.clone() })
    }

    /// POSTs `body` to `url` with `headers`; reads the body until the end, or until an SSE stream carried a
    /// response (a stream may stay open afterwards).
    async fn post(&self, url: &str, headers: &HeaderMap, body: String) -> Result<Reply, String> {
        send(&self.client, url, headers, body).await
    }

    async fn initialize(&self, url: &str, headers: &HeaderMap) -> Result<Reply, String> {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "cargo-mcp-scan", "version": env!("CARGO_PKG_VERSION")},
        }});
        self.post(url, headers, body.to_string()).await
    }

    /// `initialize` then `notifications/initialized`; `None` when initialize is not accepted.
    async fn handshake(&self, url: &str, headers: &HeaderMap) -> Option<Session> {
        let reply = self.initialize(url, headers).await.ok()?;
        self.initialized(url, headers, reply).await
    }

    /// `notifications/initialized` after `reply`, the answer to `initialize`; `None` when it is not accepted.
    async fn initialized(&self, url: &str, headers: &HeaderMap, reply: Reply) -> Option<Session> {
        if !reply.accepted() {
            return None;
        }
        let version = reply
            .messages()
            .iter()
            .find_map(|m| m.pointer("/result/protocolVersion").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| PROTOCOL_VERSION.to_owned());
        let session = Session { id: reply.session, version };
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
        let _ = self.post(url, &session_headers(headers, &session), initialized).await;
        Some(session)
    }

    /// DELETEs a session (errors are ignored: the server may not support it).
    async fn delete(&self, url: &str, headers: &HeaderMap, session: Option<&str>) {
        let Some(id) = session.and_then(|s| HeaderValue::from_str(s).ok()) else { return };
        let _ = self.client.delete(url).headers(headers.clone()).header("mcp-session-id", id).send().await;
    }

    /// `MCP301` (critical): `initialize`, `notifications/initialized` and `tools/list` sent without any of
    /// the `--header` headers; a 2xx answer with a result to both `initialize` and `tools/list` is the
    /// finding. Returns how the endpoint answered that way (the query-credential probe compares with it).
    async fn unauthenticated(&self, findings: &mut Vec<Finding>) -> Anonymous {
        let none = HeaderMap::new();
        let Ok(reply) = self.initialize(&self.url, &none).await else { return Anonymous::Unknown };
        if !reply.accepted() {
            return Anonymous::Refused(reply);
        }
        let Some(session) = self.initialized(&self.url, &none, reply).await else { return Anonymous::Unknown };
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
        let listed = self.post(&self.url, &session_headers(&none, &session), list).await;
        self.delete(&self.url, &none, session.id.as_deref()).await;
        if !listed.is_ok_and(|r| r.accepted()) {
            return Anonymous::Unknown;
        }
        let given = if self.headers.is_empty() { " (the scan was given no --header)" } else { "" };
        findings.push(self.finding(
            "MCP301",
            format!("the endpoint answers initialize and tools/list without any credential{given}"),
        ));
        Anonymous::Served
    }

    /// `MCP302` (high): whether the server reads a credential from the query string, found without ever
    /// putting the real one in a URL. A dummy credential is sent three ways, each `initialize` alone: in
    /// the header that carries the real one (the credential's header: `Authorization`, else one whose name
    /// says key, token or auth), then as `?access_token=` and as `?api_key=` with no header. A server that
    /// ignores the query string answers those as it answered no credential at all (MCP301's request); one
    /// that reads it refuses the dummy there as it refuses the dummy in the header (the same status, the
    /// same challenge `error` code, the same message), or accepts it: either is the finding. Skipped when
    /// the endpoint answers without credentials anyway or no credential was given; inconclusive (a note)
    /// when the server answers a wrong credential as it answers none.
    async fn query_credential(&self, anonymous: &Anonymous, findings: &mut Vec<Finding>) {
        let none_reply = match anonymous {
            Anonymous::Served => return note(&self.url, "MCP302 skipped: the endpoint needs no credential at all"),
            Anonymous::Unknown => {
                return note(&self.url, "MCP302 skipped: how the endpoint answers no credential is unknown");
            }
            Anonymous::Refused(reply) => reply,
        };
        let Some(dummy) = dummy_header(&self.auth) else {
            note(&self.url, "MCP302 skipped: no credential among the --header headers");
            return;
        };
        let Ok(wrong) = self.initialize(&self.url, &dummy).await else { return };
        if wrong.refusal() == none_reply.refusal() {
            note(
                &self.url,
                "MCP302 inconclusive: a wrong credential is answered as no credential is, so a dummy one in the \
                 query string cannot show whether it is read there",
            );
            return;
        }
        let none = HeaderMap::new();
        for param in ["access_token", "api_key"] {
            let Ok(mut url) = reqwest::Url::parse(&self.url) else { return };
            url.query_pairs_mut().append_pair(param, DUMMY_CREDENTIAL);
            let Ok(reply) = self.initialize(url.as_str(), &none).await else { continue };
            let how = if reply.accepted() {
                self.delete(url.as_str(), &none, reply.session.as_deref()).await;
                "is accepted"
            } else if !wrong.accepted() && reply.refusal() == wrong.refusal() {
                "is refused as a wrong credential in the header is, not ignored"
            } else {
                continue;
            };
            findings.push(self.finding(
                "MCP302",
                format!("the credential is read from the query string (?{param}=…): a dummy value there {how}"),
            ));
        }
    }

    /// `MCP303` (high): `initialize` with the credentials and `Host: attacker.example`, then with the real
    /// host and `Origin: http://attacker.example`; a 2xx result to either is a finding (a browser page on
    /// a rebound domain could call the server).
    async fn dns_rebinding(&self, findings: &mut Vec<Finding>) {
        let origin = format!("http://{ATTACKER_HOST}");
        for (name, value, what) in [(HOST, ATTACKER_HOST, "Host"), (ORIGIN, origin.as_str(), "Origin")] {
            let mut headers = self.auth.clone();
            headers.insert(name, HeaderValue::from_str(value).expect("a valid header value"));
            let Ok(reply) = self.initialize(&self.url, &headers).await else { continue };
            if reply.accepted() {
                self.delete(&self.url, &headers, reply.session.as_deref()).await;
                findings.push(
                    self.finding("MCP303", format!("a request with `{what}: {value}` is served (DNS rebinding)")),
                );
            }
        }
    }

    /// `MCP304` (medium): 50 concurrent `tools/call`s of one tool (`--probe-tool`, else the first tool
    /// annotated read-only without required arguments) with the credentials, in one session, with empty
    /// arguments; every call served and none refused (HTTP 429 or −32012) is the finding. Lists are not
    /// probed: they are exempt from limits in this runtime. Skipped when no tool fits (one with required
    /// arguments would only fail validation, which spends no budget), and inconclusive (a note) when
    /// calls fail for other reasons.
    async fn burst(&self, probe_tool: Option<&str>, findings: &mut Vec<Finding>) {
        let tools = match list_tools_at(&self.url, &self.headers).await {
            Ok(tools) => tools,
            Err(e) => {
                note(&self.url, &format!("MCP304 skipped: cannot list the tools: {e}"));
                return;
            }
        };
        let tool = match burst_tool(&tools, probe_tool) {
            Ok(tool) => tool,
            Err(why) => {
                note(&self.url, &format!("MCP304 skipped: {why}"));
                return;
            }
        };
        let Some(session) = self.handshake(&self.url, &self.auth).await else {
            note(&self.url, "MCP304 skipped: cannot open a session");
            return;
        };
        let headers = session_headers(&self.auth, &session);
        let mut calls = JoinSet::new();
        for id in 0..BURST {
            let body = json!({"jsonrpc": "2.0", "id": id + 1, "method": "tools/call",
                              "params": {"name": tool, "arguments": {}}});
            let (client, url, headers) = (self.client.clone(), self.url.clone(), headers.clone());
            calls.spawn(async move { send(&client, &url, &headers, body.to_string()).await });
        }
        let (mut served, mut limited) = (0, 0);
        while let Some(done) = calls.join_next().await {
            if let Ok(Ok(reply)) = done {
                served += usize::from(reply.served_call());
                limited += usize::from(reply.rate_limited());
            }
        }
        self.delete(&self.url, &self.auth, session.id.as_deref()).await;
        if limited > 0 {
            return;
        }
        if served < BURST {
            note(
                &self.url,
                &format!(
                    "MCP304 inconclusive: {served} of {BURST} concurrent calls of `{tool}` were served, none limited"
                ),
            );
            return;
        }
        findings.push(self.finding(
            "MCP304",
            format!("{BURST} concurrent calls of `{tool}` were all served: no rate limit answered 429"),
        ));
    }

    /// `MCP305` (medium): 20 sessions opened with the credentials (and DELETEd); their ids must be at
    /// least 16 characters of hex or base64, all different, and carry at least 96 bits by a character-set
    /// estimate (the length of the part that varies between ids, times log2 of the characters seen there)
    /// without counting up. Skipped on a server without sessions.
    async fn session_ids(&self, findings: &mut Vec<Finding>) {
        let mut ids = Vec::new();
        for _ in 0..SESSIONS {
            if let Ok(reply) = self.initialize(&self.url, &self.auth).await
                && reply.accepted()
                && let Some(id) = reply.session
            {
                self.delete(&self.url, &self.auth, Some(&id)).await;
                ids.push(id);
            }
        }
        if ids.len() < 2 {
            note(&self.url, "MCP305 skipped: the server gave fewer than 2 session ids");
            return;
        }
        if let Some(why) = weak_session_ids(&ids) {
            findings.push(self.finding("MCP305", format!("session ids are guessable: {why} (e.g. {:?})", ids[0])));
        }
    }

    /// `MCP306` (medium): with the credentials and a session, five bad requests: malformed JSON, wrong
    /// parameter types, an unknown method, a 4096-digit id, and an `initialize` with wrong types; an answer
    /// body containing `panicked at`, `stack backtrace`, `/home/`, `/root/`, `/usr/src`, `.rs:` or
    /// `at src/` is a finding.
    async fn error_leaks(&self, findings: &mut Vec<Finding>) {
        let session = self.handshake(&self.url, &self.auth).await;
        let in_session = session.as_ref().map_or_else(|| self.auth.clone(), |s| session_headers(&self.auth, s));
        let huge_id = "9".repeat(4096);
        let probes = [
            ("malformed JSON", r#"{"jsonrpc": "2.0", "id": 1, "method": "#.to_owned(), &in_session),
            (
                "wrong parameter types",
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": ["x"], "arguments": "x"}})
                    .to_string(),
                &in_session,
            ),
            ("an unknown method", json!({"jsonrpc": "2.0", "id": 3, "method": "cargo-mcp/no-such-method"}).to_string(), &in_session),
            ("a huge id", format!(r#"{{"jsonrpc": "2.0", "id": {huge_id}, "method": "ping"}}"#), &in_session),
            (
                "initialize with wrong types",
                json!({"jsonrpc": "2.0", "id": 5, "method": "initialize", "params": {"protocolVersion": 42, "capabilities": []}})
                    .to_string(),
                &self.auth,
            ),
        ];
        for (what, body, headers) in probes {
            let Ok(reply) = self.post(&self.url, headers, body).await else { continue };
            if let Some(leak) = leak(&reply.body) {
                findings.push(self.finding(
                    "MCP306",
                    format!("the answer to {what} (HTTP {}) leaks internals: {leak}", reply.status),
                ));
            }
            if reply.session.is_some() && what.starts_with("initialize") {
                self.delete(&self.url, &self.auth, reply.session.as_deref()).await;
            }
        }
        if let Some(session) = session {
            self.delete(&self.url, &self.auth, session.id.as_deref()).await;
        }
    }
}

/// `headers` plus the session's id and protocol version.
fn session_headers(headers: &HeaderMap, session: &Session) -> HeaderMap {
    let mut headers = headers.clone();
    if let Some(id) = session.id.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
        headers.insert("mcp-session-id", id);
    }
    if let Ok(version) = HeaderValue::from_str(&session.version) {
        headers.insert("mcp-protocol-version", version);
    }
    headers
}

/// The credential's header among `headers`, alone, its value replaced by [`DUMMY_CREDENTIAL`]: the
/// `Authorization` header (keeping a `Bearer` scheme), else the first header whose name mentions a key, a
/// token or auth. `None` when no header carries a credential.
fn dummy_header(headers: &HeaderMap) -> Option<HeaderMap> {
    let (name, value) = headers.iter().find(|(name, _)| **name == AUTHORIZATION).or_else(|| {
        headers.iter().find(|(name, _)| {
            let name = name.as_str();
            name.contains("key") || name.contains("token") || name.contains("auth")
        })
    })?;
    let bearer = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    let dummy = if bearer { format!("Bearer {DUMMY_CREDENTIAL}") } else { DUMMY_CREDENTIAL.to_owned() };
    let mut only = HeaderMap::new();
    only.insert(name.clone(), HeaderValue::from_str(&dummy).expect("the dummy is a valid header value"));
    Some(only)
}

/// The arguments `tool` requires.
fn required(tool: &Value) -> Vec<&str> {
    tool.pointer("/inputSchema/required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The tool the burst calls with empty arguments: `named`, else the first tool annotated read-only without
/// required arguments. A tool that requires arguments is refused: its calls would fail validation, which
/// spends no rate budget, and prove nothing.
fn burst_tool(tools: &[Value], named: Option<&str>) -> Result<String, String> {
    let Some(name) = named else {
        let cheap = tools
            .iter()
            .find(|t| t.pointer("/annotations/readOnlyHint") == Some(&json!(true)) && required(t).is_empty());
        return cheap
            .and_then(|t| t["name"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| "no read-only tool without required arguments: name one with --probe-tool".to_owned());
    };
    let tool = tools.iter().find(|t| t["name"] == name).ok_or_else(|| format!("no tool is named `{name}`"))?;
    match required(tool).as_slice() {
        [] => Ok(name.to_owned()),
        args => Err(format!(
            "`{name}` requires arguments ({}); the burst sends none: name a tool without required arguments",
            args.join(", ")
        )),
    }
}

/// The first leak marker in `body`, with the text around it.
fn leak(body: &str) -> Option<String> {
    let (at, marker) = LEAK_MARKERS.iter().filter_map(|m| body.find(m).map(|at| (at, *m))).min_by_key(|(at, _)| *at)?;
    let mut start = at.saturating_sub(40);
    while !body.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + marker.len() + 60).min(body.len());
    while !body.is_char_boundary(end) {
        end += 1;
    }
    Some(format!("{marker:?} in …{}…", body[start..end].replace('\n', "\\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_are_found_with_their_context() {
        let body = r#"{"error":{"message":"thread 'main' panicked at src/main.rs:12:5: boom"}}"#;
        let found = leak(body).unwrap();
        assert!(found.starts_with("\"panicked at\""), "{found}");
        assert!(found.contains("src/main.rs:12"), "{found}");
        assert_eq!(leak(r#"{"error":{"code":-32700,"message":"parse error"}}"#), None);
        assert!(leak("see /root/app").unwrap().contains("/root/"));
    }

    #[test]
    fn the_dummy_goes_in_the_credential_header_alone_and_the_real_value_nowhere() {
        let headers = |list: &[&str]| parse_headers(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
        let dummy = |list: &[&str]| {
            dummy_header(&headers(list))
                .map(|h| h.iter().map(|(n, v)| format!("{n}: {}", v.to_str().unwrap())).collect::<Vec<_>>().join(", "))
        };
        let bearer = format!("authorization: Bearer {DUMMY_CREDENTIAL}");
        assert_eq!(dummy(&["X-Trace: 1", "Authorization: Bearer abc"]), Some(bearer));
        assert_eq!(dummy(&["X-Trace: 1", "X-Api-Key: k1"]), Some(format!("x-api-key: {DUMMY_CREDENTIAL}")));
        let basic = format!("authorization: {DUMMY_CREDENTIAL}");
        assert_eq!(dummy(&["Authorization: Basic dXNlcg=="]), Some(basic));
        assert_eq!(dummy(&["X-Trace: 1"]), None);
    }

    #[test]
    fn the_burst_picks_read_only_tools_without_required_arguments() {
        let tools = [
            json!({"name": "adjust", "annotations": {"destructiveHint": true}, "inputSchema": {"type": "object"}}),
            json!({"name": "lookup", "annotations": {"readOnlyHint": true}, "inputSchema": {"required": ["sku"]}}),
            json!({"name": "list", "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}}),
        ];
        assert_eq!(burst_tool(&tools, None).unwrap(), "list");
        assert_eq!(burst_tool(&tools, Some("adjust")).unwrap(), "adjust", "named, any tool without required arguments");
        assert!(burst_tool(&tools, Some("lookup")).unwrap_err().contains("requires arguments (sku)"));
        assert!(burst_tool(&tools, Some("nope")).unwrap_err().contains("no tool is named `nope`"));
        assert!(burst_tool(&tools[..2], None).unwrap_err().contains("--probe-tool"));
    }
}
