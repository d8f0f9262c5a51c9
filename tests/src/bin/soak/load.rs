//! The load: closed-loop clients, each sending its next request when the last one is answered, and what
//! each request got.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};

use crate::keys::Keys;
use crate::tasks::{TaskClient, TaskSeen};

/// How long a client waits for an answer before it counts the request as hung (above [`HANG_LIMIT`], so a
/// hang is measured rather than cut short).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);
/// What an attacker waits between its requests (about 50 a second each).
const ATTACKER_PAUSE: Duration = Duration::from_millis(20);
/// The seeded SKUs of the inventory example, and its warehouses.
const SKUS: &[&str] = &["ABC123", "WIDGET9", "GADGET42", "SPROCKET7", "BOLT00001"];
const WAREHOUSES: &[&str] = &["WH-EAST", "WH-WEST"];

pub(crate) struct Shared {
    pub(crate) started: Instant,
    pub(crate) next_id: AtomicU64,
    /// Set when the identity provider rotated to `k2`: half the well-behaved clients switch to it.
    pub(crate) rotated: AtomicBool,
    pub(crate) stop: AtomicBool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// 2026-07-28 requests, each complete in itself.
    Stateless,
    /// A handshake-era (2025-11-25) session.
    Session,
    /// A 2025-11-25 session that runs `recount_warehouse` as tasks, one after the other (`tasks.rs`).
    Tasker,
    /// No token or a forged one, from an address of its own.
    Attacker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Initialize,
    Lookup,
    Adjust,
    List,
    BadArguments,
    UnknownTool,
    NoToken,
    ForgedToken,
    /// `recount_warehouse` with `task: {}`.
    TaskCreate,
    TaskGet,
    TaskCancel,
    TaskResult,
}

/// What a request got, as the client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Outcome {
    Ok,
    ToolError,
    InvalidParams,
    Unauthenticated,
    /// 503 with −32010: the signing keys could not be fetched and nothing fresh enough is cached.
    AuthUnavailable,
    Forbidden,
    RateLimited,
    /// 503 with −32014: the audit queue is full (a request refused before it ran, so it has no record).
    AuditFull,
    StoreUnavailable,
    OtherError(i64),
    Http(u16),
    /// No answer: the connection was refused or closed (only allowed once SIGTERM was sent).
    Transport,
    /// No answer within [`CLIENT_TIMEOUT`].
    Hung,
}

impl Outcome {
    pub(crate) fn name(self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::ToolError => "tool_error".into(),
            Outcome::InvalidParams => "invalid_params".into(),
            Outcome::Unauthenticated => "unauthenticated".into(),
            Outcome::AuthUnavailable => "auth_unavailable".into(),
            Outcome::Forbidden => "forbidden".into(),
            Outcome::RateLimited => "rate_limited".into(),
            Outcome::AuditFull => "audit_queue_full".into(),
            Outcome::StoreUnavailable => "store_unavailable".into(),
            Outcome::OtherError(code) => format!("error {code}"),
            Outcome::Http(status) => format!("http {status}"),
            Outcome::Transport => "no_answer".into(),
            Outcome::Hung => "hung".into(),
        }
    }

    /// The audit reasons a record of a request with this outcome may carry.
    pub(crate) fn audit_reasons(self, kind: Kind) -> &'static [&'static str] {
        match (self, kind) {
            (Outcome::Ok, _) => &["ok"],
            // −32602: the result of a cancelled task (it has none), the cancel of a task that ended first, a
            // poll of one dropped at its ttl.
            (Outcome::InvalidParams, Kind::TaskResult | Kind::TaskCancel | Kind::TaskGet) => &["invalid_request"],
            // Revision 2025-11-25 reports invalid arguments as a tool error the model can read.
            (Outcome::ToolError, Kind::BadArguments) => &["invalid_arguments"],
            (Outcome::ToolError, Kind::UnknownTool) => &["unknown_tool"],
            (Outcome::ToolError, _) => &["tool_error"],
            (Outcome::InvalidParams, Kind::UnknownTool) => &["unknown_tool"],
            (Outcome::InvalidParams, _) => &["invalid_arguments"],
            (Outcome::Unauthenticated | Outcome::AuthUnavailable, _) => &["unauthenticated"],
            (Outcome::Forbidden, _) => &["forbidden"],
            (Outcome::RateLimited, _) => &["rate_limited"],
            (Outcome::StoreUnavailable, _) => &["rate_limited"],
            _ => &[],
        }
    }
}

pub(crate) struct Sample {
    pub(crate) id: u64,
    /// The client's address (`X-Forwarded-For`), which the audit record names as its source.
    pub(crate) source: Arc<str>,
    pub(crate) kind: Kind,
    pub(crate) role: Role,
    /// Uses the rotated key `k2`.
    pub(crate) k2: bool,
    pub(crate) sent: Duration,
    pub(crate) latency: Duration,
    pub(crate) outcome: Outcome,
}

pub(crate) struct LoadClient {
    index: usize,
    role: Role,
    url: String,
    http: reqwest::Client,
    k1: String,
    k2: String,
    forged: String,
    /// Switches to `k2` once the identity provider rotates (half the well-behaved clients).
    follows_rotation: bool,
    forwarded_for: String,
    source: Arc<str>,
    shared: Arc<Shared>,
    rng: u64,
    session: Option<String>,
    tasks: TaskClient,
}

impl LoadClient {
    pub(crate) fn new(index: usize, role: Role, url: String, keys: &Keys, shared: Arc<Shared>) -> Result<Self> {
        let subject = format!("agent-{index}");
        Ok(Self {
            index,
            role,
            url,
            http: reqwest::Client::builder().timeout(CLIENT_TIMEOUT).pool_max_idle_per_host(1).build()?,
            k1: keys.k1_token(&subject),
            k2: keys.k2_token(&subject),
            forged: keys.forged_token(&subject),
            follows_rotation: index.is_multiple_of(2),
            forwarded_for: format!("10.0.{}.{}", index / 250, index % 250 + 1),
            source: format!("10.0.{}.{}", index / 250, index % 250 + 1).into(),
            shared,
            rng: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
            session: None,
            tasks: TaskClient::default(),
        })
    }

    fn random(&mut self, below: u64) -> u64 {
        // xorshift64*: the same run of requests every time.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
    }

    fn next_kind(&mut self) -> Kind {
        if self.role == Role::Attacker {
            return if self.random(2) == 0 { Kind::NoToken } else { Kind::ForgedToken };
        }
        if matches!(self.role, Role::Session | Role::Tasker) && self.session.is_none() {
            return Kind::Initialize;
        }
        if self.role == Role::Tasker {
            return self.tasks.next_kind();
        }
        match self.random(100) {
            0..80 => Kind::Lookup,
            80..86 => Kind::Adjust,
            86..92 => Kind::List,
            92..97 => Kind::BadArguments,
            _ => Kind::UnknownTool,
        }
    }

    /// Sends requests until told to stop: what each got, and the tasks this client was given.
    pub(crate) async fn run(mut self) -> (Vec<Sample>, Vec<TaskSeen>) {
        let mut samples = Vec::new();
        while !self.shared.stop.load(Ordering::SeqCst) {
            let kind = self.next_kind();
            let id = self.shared.next_id.fetch_add(1, Ordering::SeqCst);
            let k2 = self.follows_rotation && self.shared.rotated.load(Ordering::SeqCst);
            let sent = self.shared.started.elapsed();
            let started = Instant::now();
            let (outcome, result) = self.send(kind, id, k2).await;
            let latency = started.elapsed();
            // A quarter of the tasks are cancelled: at once, or after one or two polls.
            let cancel_after = (kind == Kind::TaskCreate && self.random(4) == 0).then(|| self.random(3) as u32);
            let pause = self.tasks.answered(kind, id, outcome, result.as_ref(), cancel_after);
            samples.push(Sample {
                id,
                source: Arc::clone(&self.source),
                kind,
                role: self.role,
                k2,
                sent,
                latency,
                outcome,
            });
            if outcome == Outcome::Transport {
                // The server is gone (SIGTERM): do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            } else if self.role == Role::Attacker {
                // Refusals are cheap: unpaced, two attackers would be most of the load.
                tokio::time::sleep(ATTACKER_PAUSE).await;
            } else if !pause.is_zero() {
                // A task is polled at the interval the server asks for.
                tokio::time::sleep(pause).await;
            }
        }
        (samples, self.tasks.seen)
    }

    /// Sends one request: what it got, and its result when it has one.
    async fn send(&mut self, kind: Kind, id: u64, k2: bool) -> (Outcome, Option<Value>) {
        let (method, name, params) = match kind {
            Kind::Initialize => (
                "initialize",
                None,
                json!({"protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": format!("soak-{}", self.index), "version": "1"}}),
            ),
            Kind::List => ("tools/list", None, json!({})),
            Kind::Lookup | Kind::NoToken | Kind::ForgedToken => {
                let sku = SKUS[self.random(SKUS.len() as u64) as usize];
                let arguments = match self.random(3) {
                    0 => json!({"sku": sku}),
                    n => json!({"sku": sku, "warehouse_id": WAREHOUSES[n as usize - 1]}),
                };
                ("tools/call", Some("lookup_stock"), json!({"name": "lookup_stock", "arguments": arguments}))
            }
            Kind::Adjust => {
                let sku = SKUS[self.random(SKUS.len() as u64) as usize];
                let arguments = json!({"sku": sku, "warehouse_id": "WH-EAST", "delta": 1});
                ("tools/call", Some("adjust_stock"), json!({"name": "adjust_stock", "arguments": arguments}))
            }
            Kind::BadArguments => {
                ("tools/call", Some("lookup_stock"), json!({"name": "lookup_stock", "arguments": {"sku": "not a sku"}}))
            }
            Kind::UnknownTool => ("tools/call", Some("drop_tables"), json!({"name": "drop_tables", "arguments": {}})),
            Kind::TaskCreate | Kind::TaskGet | Kind::TaskCancel | Kind::TaskResult => {
                let warehouse = WAREHOUSES[self.random(WAREHOUSES.len() as u64) as usize];
                self.tasks.request(kind, warehouse)
            }
        };
        let mut params = params;
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-forwarded-for", &self.forwarded_for);
        match &self.session {
            Some(session) if matches!(self.role, Role::Session | Role::Tasker) => {
                request = request
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-session-id", session)
                    .header("mcp-protocol-version", "2025-11-25");
            }
            _ if kind == Kind::Initialize => {
                request = request.header("accept", "application/json, text/event-stream");
            }
            _ => {
                params["_meta"] = json!({
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {"name": format!("soak-{}", self.index), "version": "1"}
                });
                request = request
                    .header("accept", "application/json")
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", method);
                if let Some(name) = name {
                    request = request.header("mcp-name", name);
                }
            }
        }
        let token = match kind {
            Kind::NoToken => None,
            Kind::ForgedToken => Some(&self.forged),
            _ if k2 => Some(&self.k2),
            _ => Some(&self.k1),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = match request.body(body.to_string()).send().await {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return (Outcome::Hung, None),
            Err(_) => return (Outcome::Transport, None),
        };
        let status = response.status().as_u16();
        let session = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let text = match response.text().await {
            Ok(text) => text,
            Err(e) if e.is_timeout() => return (Outcome::Hung, None),
            Err(_) => return (Outcome::Transport, None),
        };
        let answer = if sse {
            text.split("\n\n")
                .filter_map(|event| {
                    let data: Vec<&str> =
                        event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                    serde_json::from_str::<Value>(&data.join("\n")).ok()
                })
                .find(|m| m["id"] == id)
        } else {
            serde_json::from_str::<Value>(&text).ok()
        };
        if status == 404 && matches!(self.role, Role::Session | Role::Tasker) {
            self.session = None;
        }
        let Some(answer) = answer else { return (Outcome::Http(status), None) };
        if let Some(error) = answer.get("error") {
            let outcome = match error["code"].as_i64().unwrap_or(0) {
                -32602 => Outcome::InvalidParams,
                -32010 if status == 503 => Outcome::AuthUnavailable,
                -32010 => Outcome::Unauthenticated,
                -32011 => Outcome::Forbidden,
                -32012 => Outcome::RateLimited,
                -32013 => Outcome::StoreUnavailable,
                -32014 => Outcome::AuditFull,
                code => Outcome::OtherError(code),
            };
            return (outcome, None);
        }
        if kind == Kind::Initialize && status == 200 {
            self.session = session;
            let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
            if let Some(session) = &self.session {
                let _ = self
                    .http
                    .post(&self.url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("x-forwarded-for", &self.forwarded_for)
                    .header("mcp-session-id", session)
                    .header("mcp-protocol-version", "2025-11-25")
                    .bearer_auth(&self.k1)
                    .body(initialized)
                    .send()
                    .await;
            }
        }
        let outcome = match answer.get("result") {
            Some(result) if result["isError"] == true => Outcome::ToolError,
            Some(_) => Outcome::Ok,
            None => Outcome::Http(status),
        };
        (outcome, answer.get("result").cloned())
    }
}
