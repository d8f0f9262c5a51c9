//! Live probes of a running server's endpoint (`--url`).
//!
//! Each probe sends real requests to the Streamable HTTP endpoint, with the `--header` credentials unless
//! it tests what happens without them, and reports what the server accepted that it should have refused:
//!
//! | rule | severity | what is accepted |
//! |---|---|---|
//! | `MCP301` | critical | `initialize` and `tools/list` without the given headers (no credentials) |
//! | `MCP302` | high | the credential as `?access_token=` or `?api_key=` instead of a header |
//! | `MCP303` | high | `Host: attacker.example`, or `Origin: http://attacker.example` (DNS rebinding) |
//! | `MCP304` | medium | 50 concurrent `tools/call`s, every one served, none refused with 429 |
//! | `MCP305` | medium | session ids that are short, not hex/base64, repeated, patterned or low in entropy |
//! | `MCP306` | medium | error answers carrying panics, backtraces or source paths |
//!
//! The endpoint must first accept an `initialize` with the given headers; otherwise nothing is probed and a
//! note says why. A probe that cannot conclude (no credential to move to the query string, no tool to
//! burst, a server without sessions) is skipped with a note on stderr. Every session a probe opens is
//! DELETEd. The probes stay below the runtime's default failed-authentication budget (10 per address and
//! minute): they send 3 requests without valid credentials.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, ORIGIN};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Finding, Location};
use crate::client::{PROTOCOL_VERSION, SseParser, list_tools_at, parse_headers};

/// How long one probe request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent calls of the burst probe.
const BURST: usize = 50;
/// Sessions the session-id probe opens.
const SESSIONS: usize = 20;
/// The least entropy a session id should carry, in bits.
const MIN_SESSION_BITS: f64 = 96.0;
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
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            note(url, &format!("no live probes: cannot build an HTTP client: {e}"));
            return Vec::new();
        }
    };
    let prober = Prober { client, url: url.to_owned(), auth, headers: headers.to_vec() };
    match prober.initialize(url, &prober.auth).await {
        Ok(reply) if reply.accepted() => prober.delete(url, &prober.auth, reply.session.as_deref()).await,
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
    let open = prober.unauthenticated(&mut findings).await;
    prober.query_credential(open, &mut findings).await;
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

/// What the server answered to one POST.
#[derive(Debug)]
struct Reply {
    status: u16,
    session: Option<String>,
    body: String,
}

impl Reply {
    /// The JSON-RPC messages of the body: one JSON value (an object or a batch), or SSE events.
    fn messages(&self) -> Vec<Value> {
        match serde_json::from_str::<Value>(&self.body) {
            Ok(Value::Array(batch)) => batch,
            Ok(one) => vec![one],
            Err(_) => {
                let mut parser = SseParser::default();
                let mut events = parser.feed(self.body.as_bytes());
                events.extend(parser.finish());
                events.iter().filter_map(|e| serde_json::from_str(e).ok()).collect()
            }
        }
    }

    /// A 2xx answer carrying a JSON-RPC result.
    fn accepted(&self) -> bool {
        (200..300).contains(&self.status) && self.messages().iter().any(|m| m.get("result").is_some())
    }

    /// HTTP 429, or the runtime's rate-limit error (−32012).
    fn rate_limited(&self) -> bool {
        self.status == 429 || self.messages().iter().any(|m| m.pointer("/error/code") == Some(&json!(-32012)))
    }

    /// A 2xx tool result that is not an error.
    fn served_call(&self) -> bool {
        (200..300).contains(&self.status)
            && self.messages().iter().any(|m| m.get("result").is_some_and(|r| r.get("isError") != Some(&json!(true))))
    }
}

/// The probes' shared state.
struct Prober {
    client: reqwest::Client,
    url: String,
    auth: HeaderMap,
    headers: Vec<String>,
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
        let reply = self.initialize(url, headers).await.ok().filter(Reply::accepted)?;
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
    /// finding. Returns whether the endpoint is open that way (the query-credential probe is then moot).
    async fn unauthenticated(&self, findings: &mut Vec<Finding>) -> bool {
        let none = HeaderMap::new();
        let Some(session) = self.handshake(&self.url, &none).await else { return false };
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
        let listed = self.post(&self.url, &session_headers(&none, &session), list).await;
        self.delete(&self.url, &none, session.id.as_deref()).await;
        if !listed.is_ok_and(|r| r.accepted()) {
            return false;
        }
        let given = if self.headers.is_empty() { " (the scan was given no --header)" } else { "" };
        findings.push(self.finding(
            "MCP301",
            format!("the endpoint answers initialize and tools/list without any credential{given}"),
        ));
        true
    }

    /// `MCP302` (high): the credential of the `--header` headers (the token of `Authorization: Bearer X`,
    /// else the value of a header whose name says key, token or auth) sent as `?access_token=X` and as
    /// `?api_key=X` with no header; a 2xx `initialize` result is the finding. Skipped when the endpoint
    /// answers without credentials anyway, or no credential was given.
    async fn query_credential(&self, open: bool, findings: &mut Vec<Finding>) {
        if open {
            note(&self.url, "MCP302 skipped: the endpoint needs no credential at all");
            return;
        }
        let Some(credential) = credential(&self.auth) else {
            note(&self.url, "MCP302 skipped: no credential among the --header headers");
            return;
        };
        for param in ["access_token", "api_key"] {
            let Ok(mut url) = reqwest::Url::parse(&self.url) else { return };
            url.query_pairs_mut().append_pair(param, &credential);
            let none = HeaderMap::new();
            let Ok(reply) = self.initialize(url.as_str(), &none).await else { continue };
            if reply.accepted() {
                self.delete(url.as_str(), &none, reply.session.as_deref()).await;
                findings.push(
                    self.finding("MCP302", format!("the credential is accepted in the query string (?{param}=…)")),
                );
            }
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

/// POSTs `body`; reads the answer until the body ends, or until an SSE event carried a response.
async fn send(client: &reqwest::Client, url: &str, headers: &HeaderMap, body: String) -> Result<Reply, String> {
    let mut response = client
        .post(url)
        .headers(headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    let session = response.headers().get("mcp-session-id").and_then(|s| s.to_str().ok()).map(str::to_owned);
    let sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
    let mut bytes = Vec::new();
    let mut parser = SseParser::default();
    while let Ok(Some(chunk)) = response.chunk().await {
        bytes.extend_from_slice(&chunk);
        let answered = sse
            && parser.feed(&chunk).iter().any(|event| {
                serde_json::from_str::<Value>(event)
                    .is_ok_and(|m| m.get("result").is_some() || m.get("error").is_some())
            });
        if answered {
            break;
        }
    }
    Ok(Reply { status, session, body: String::from_utf8_lossy(&bytes).into_owned() })
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

/// The credential among the headers: the token of `Authorization: Bearer X` (or its whole value), else
/// the value of the first header whose name mentions a key, a token or auth.
fn credential(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(reqwest::header::AUTHORIZATION).or_else(|| {
        headers.iter().find_map(|(name, value)| {
            let name = name.as_str();
            (name.contains("key") || name.contains("token") || name.contains("auth")).then_some(value)
        })
    })?;
    let value = value.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    };
    (!token.is_empty()).then(|| token.to_owned())
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

/// Why these session ids are guessable, if they are.
fn weak_session_ids(ids: &[String]) -> Option<String> {
    let mut reasons = Vec::new();
    let shortest = ids.iter().map(|id| id.chars().count()).min().unwrap_or(0);
    if shortest < 16 {
        reasons.push(format!("only {shortest} characters"));
    }
    let encoded = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_');
    if !ids.iter().all(|id| id.chars().all(encoded)) {
        reasons.push("not hex or base64".to_owned());
    }
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    sorted.dedup();
    if sorted.len() < ids.len() {
        reasons.push("the same id given twice".to_owned());
    }
    // The part that varies: without the prefix and suffix every id shares.
    let chars: Vec<Vec<char>> = ids.iter().map(|id| id.chars().collect()).collect();
    let common = |at: &dyn Fn(&[char], usize) -> Option<char>| {
        (0..shortest).take_while(|&i| chars.iter().all(|c| at(c, i) == at(&chars[0], i))).count()
    };
    let prefix = common(&|c: &[char], i| c.get(i).copied());
    let suffix = common(&|c: &[char], i| c.len().checked_sub(i + 1).map(|j| c[j])).min(shortest - prefix);
    let varying: Vec<&[char]> = chars.iter().map(|c| &c[prefix..c.len() - suffix]).collect();
    let mut alphabet: Vec<char> = varying.iter().flat_map(|v| v.iter().copied()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let length = varying.iter().map(|v| v.len()).min().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)] // lengths and alphabets are small
    let bits = length as f64 * (alphabet.len().max(1) as f64).log2();
    if bits < MIN_SESSION_BITS {
        reasons.push(format!(
            "about {bits:.0} bits of entropy ({length} varying characters of {} seen), fewer than {MIN_SESSION_BITS}",
            alphabet.len()
        ));
    }
    let numbers: Option<Vec<u128>> = varying
        .iter()
        .map(|v| (v.len() <= 32).then(|| u128::from_str_radix(&v.iter().collect::<String>(), 16).ok()).flatten())
        .collect();
    if let Some(mut numbers) = numbers {
        numbers.sort_unstable();
        if numbers.last().zip(numbers.first()).is_some_and(|(max, min)| max - min < 1 << 32) {
            reasons.push("they count up".to_owned());
        }
    }
    if prefix + suffix > 0 && prefix + suffix >= shortest / 2 {
        reasons.push(format!("{} of {shortest} characters are the same in every id", prefix + suffix));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
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

    fn ids(items: impl IntoIterator<Item = String>) -> Vec<String> {
        items.into_iter().collect()
    }

    #[test]
    fn random_hex_and_base64_session_ids_pass() {
        // 20 ids of 48 hex characters drawn from a fixed sequence of a good generator (SplitMix64).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let hex = ids((0..20).map(|_| format!("{:016x}{:016x}{:016x}", next(), next(), next())));
        assert_eq!(weak_session_ids(&hex), None, "{hex:?}");
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b64 = ids((0..20).map(|_| (0..22).map(|_| char::from(alphabet[(next() % 64) as usize])).collect()));
        assert_eq!(weak_session_ids(&b64), None, "{b64:?}");
    }

    #[test]
    fn guessable_session_ids_are_named() {
        let sequential = ids((1..=20).map(|n| format!("session-{n:012}")));
        let why = weak_session_ids(&sequential).unwrap();
        assert!(
            why.contains("bits of entropy") && why.contains("count up") && why.contains("same in every id"),
            "{why}"
        );
        let short = ids((0..20).map(|n| format!("{:08x}", 0x1234_5678_u32.wrapping_mul(n + 7))));
        assert!(weak_session_ids(&short).unwrap().contains("only 8 characters"));
        let repeated = ids((0..20).map(|_| "0123456789abcdef0123456789abcdef".to_owned()));
        assert!(weak_session_ids(&repeated).unwrap().contains("twice"));
        let odd = ids((0..20).map(|n| format!("{n:02}!{}", "ab".repeat(40))));
        assert!(weak_session_ids(&odd).unwrap().contains("not hex or base64"));
    }

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
    fn credentials_come_from_the_authorization_header_or_a_key_header() {
        let headers = |list: &[&str]| parse_headers(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
        assert_eq!(credential(&headers(&["Authorization: Bearer abc"])).as_deref(), Some("abc"));
        assert_eq!(credential(&headers(&["X-Trace: 1", "X-Api-Key: k1"])).as_deref(), Some("k1"));
        assert_eq!(credential(&headers(&["Authorization: Basic dXNlcg=="])).as_deref(), Some("Basic dXNlcg=="));
        assert_eq!(credential(&headers(&["X-Trace: 1"])), None);
    }

    #[test]
    fn replies_are_read_as_json_or_sse() {
        let json = Reply { status: 200, session: None, body: r#"{"jsonrpc":"2.0","id":0,"result":{}}"#.to_owned() };
        assert!(json.accepted() && !json.rate_limited());
        let sse = Reply {
            status: 200,
            session: None,
            body: "id: 0\ndata:\n\ndata: {\"id\":1,\"result\":{\"isError\":true}}\n\n".to_owned(),
        };
        assert!(sse.accepted() && !sse.served_call());
        let limited = Reply {
            status: 200,
            session: None,
            body: r#"{"id":1,"error":{"code":-32012,"message":"slow down"}}"#.to_owned(),
        };
        assert!(limited.rate_limited() && !limited.accepted());
        let refused = Reply { status: 401, session: None, body: r#"{"id":null,"result":{}}"#.to_owned() };
        assert!(!refused.accepted());
        assert!(Reply { status: 429, session: None, body: String::new() }.rate_limited());
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
