//! The configuration model: every key, its default, and what it means.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The whole runtime configuration (`mcp.toml`, `MCP_*` variables, flags). Every field has a secure default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How the server is reached.
    pub transport: TransportConfig,
    /// The network transports' protections and limits.
    pub http: HttpConfig,
    /// How tools run and are listed.
    pub tools: ToolsConfig,
    /// Who may call the server, and what each caller may do.
    pub security: SecurityConfig,
    /// How often each caller and each tool may be called.
    pub throttling: ThrottlingConfig,
    /// One structured record per request.
    pub audit: AuditConfig,
    /// OpenTelemetry traces.
    pub tracing: TracingConfig,
    /// Counters and latency histograms: Prometheus and OTLP.
    pub metrics: MetricsConfig,
    /// The server's own diagnostics on stderr.
    pub log: LogConfig,
}

/// `[transport]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransportConfig {
    /// `stdio`, `http` (Streamable HTTP) or `sse` (legacy HTTP+SSE).
    pub kind: TransportKindConfig,
    /// The socket address the network transports bind (loopback by default).
    pub bind: SocketAddr,
    /// The endpoint path of the network transports.
    pub path: String,
    /// The largest message accepted, in bytes (a stdio line, an HTTP body).
    pub max_message_bytes: usize,
    /// How many requests of one connection run at once; reading pauses beyond it.
    pub max_in_flight: usize,
    /// How long in-flight requests may finish after stdin closes or a shutdown signal arrives.
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            kind: TransportKindConfig::Stdio,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            path: "/mcp".to_owned(),
            max_message_bytes: 4 * 1024 * 1024,
            max_in_flight: 256,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// `transport.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKindConfig {
    /// Newline-delimited JSON on stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http,
    /// Legacy HTTP+SSE (protocol 2024-11-05).
    Sse,
}

impl FromStr for TransportKindConfig {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stdio" => Ok(Self::Stdio),
            "http" => Ok(Self::Http),
            "sse" => Ok(Self::Sse),
            other => Err(format!("unknown transport `{other}`: expected stdio, http or sse")),
        }
    }
}

impl fmt::Display for TransportKindConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stdio => "stdio",
            Self::Http => "http",
            Self::Sse => "sse",
        })
    }
}

/// `[http]`: what the Streamable HTTP and legacy SSE transports accept, and how much of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `Host` values accepted (with or without a port). Anything else gets 403 (DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted (`scheme://host[:port]`; a port-less entry allows any port). A request
    /// with another `Origin` gets 403; a request without one passes on to the `Host` check.
    pub allowed_origins: Vec<String>,
    /// Origins answered with CORS headers (browser clients). Empty: no CORS. `*` is refused.
    pub cors_origins: Vec<String>,
    /// Open handshake-era sessions at most; `initialize` beyond it gets 503.
    pub max_sessions: usize,
    /// Open sessions one caller (a principal; its address when nobody is authenticated) may hold;
    /// `initialize` beyond it gets 429, so one caller cannot take every session.
    pub max_sessions_per_caller: usize,
    /// Open SSE streams that are not a request's answer (Streamable HTTP GET, legacy `GET /sse`) one
    /// caller may hold; beyond it 429, so one caller cannot hold every connection.
    pub max_streams_per_caller: usize,
    /// A session unused this long is closed.
    #[serde(with = "duration")]
    pub session_idle_timeout: Duration,
    /// Concurrent TCP connections at most; accepting waits beyond it.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (slowloris protection).
    #[serde(with = "duration")]
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body.
    #[serde(with = "duration")]
    pub body_read_timeout: Duration,
    /// Events kept per SSE stream for `Last-Event-ID` resumption.
    pub replay_events: usize,
    /// Interval of SSE keep-alive comments on idle streams.
    #[serde(with = "duration")]
    pub keep_alive: Duration,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed: the client's address is then
    /// the last one in it that is not a trusted proxy. Empty: the peer's address is the client's.
    pub trusted_proxies: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned()],
            allowed_origins: vec![
                "http://localhost".to_owned(),
                "http://127.0.0.1".to_owned(),
                "http://[::1]".to_owned(),
            ],
            cors_origins: Vec::new(),
            max_sessions: 1024,
            max_sessions_per_caller: 128,
            max_streams_per_caller: 32,
            session_idle_timeout: Duration::from_secs(600),
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            replay_events: 256,
            keep_alive: Duration::from_secs(15),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[tools]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolsConfig {
    /// How long a call may run when its tool sets no `timeout`; also the timeout of resource reads,
    /// prompts and completions.
    #[serde(with = "duration")]
    pub default_timeout: Duration,
    /// Entries per page of every list method (`tools/list`, `resources/list`, `resources/templates/list`,
    /// `prompts/list`).
    pub page_size: usize,
    /// How long 2026-07-28 clients may cache list and `server/discover` results (`ttlMs`).
    #[serde(with = "duration")]
    pub list_ttl: Duration,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        Self { default_timeout: Duration::from_secs(60), page_size: 100, list_ttl: Duration::from_secs(300) }
    }
}

/// `[log]`: the server's own logs, always on stderr (stdout belongs to the protocol on stdio).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter: `info`, `mcp_runtime=debug,warn`, …
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".to_owned(), format: LogFormat::Text }
    }
}

/// `log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[tracing]`: OpenTelemetry traces, exported over OTLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// `none` or `otlp`.
    pub exporter: TraceExporter,
    /// `http` (OTLP over HTTP/protobuf, port 4318) or `grpc` (port 4317).
    pub protocol: OtlpProtocol,
    /// The collector; `/v1/traces` is appended for `http`. Default: `http://127.0.0.1:4318` (`:4317` for grpc).
    pub endpoint: Option<String>,
    /// `service.name` (default: the server's name).
    pub service_name: Option<String>,
    /// Continue the client's trace (W3C `traceparent` from the HTTP header or `params._meta`). Off: every
    /// request starts a trace of its own, whatever the client claims.
    pub trust_incoming: bool,
    /// The share of new traces sampled (a continued trace follows its parent's decision).
    pub sample_ratio: f64,
    /// How often finished spans are exported (sooner when 512 are waiting).
    #[serde(with = "duration")]
    pub export_interval: Duration,
    /// Which spans are exported: `info` (the request's span and the tool's) or `debug` (also one per
    /// corridor stage: `mcp.authorize`, `mcp.validate`, `mcp.throttle`; each costs CPU on every call).
    pub level: SpanLevel,
}

impl Default for TracingConfig {
    fn default() -> Self {
        Self {
            exporter: TraceExporter::None,
            protocol: OtlpProtocol::Http,
            endpoint: None,
            service_name: None,
            trust_incoming: false,
            sample_ratio: 1.0,
            export_interval: Duration::from_secs(1),
            level: SpanLevel::Info,
        }
    }
}

/// `[metrics]`: request counts and latency histograms, scraped by Prometheus and exported over OTLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve the Prometheus text format at `path`.
    pub prometheus: bool,
    /// Where Prometheus scrapes.
    pub path: String,
    /// A listener of its own for `path`, unauthenticated (keep it on loopback or an internal network).
    /// Unset: `path` is served on the HTTP transport's listener behind the same authentication as the MCP
    /// endpoint; over stdio, metrics are then only exported over OTLP.
    pub bind: Option<SocketAddr>,
    /// The scope a caller needs to scrape `path` on the HTTP transport's listener (when the server
    /// authenticates); empty: any authenticated caller. Metrics name every tool and how each fares, which a
    /// tool-calling key has no need to read.
    pub scope: String,
    /// Export the same metrics over OTLP (endpoint and protocol of `[tracing]`) when `tracing.exporter = "otlp"`.
    pub otlp: bool,
    /// How often metrics are exported over OTLP.
    #[serde(with = "duration")]
    pub export_interval: Duration,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            prometheus: true,
            path: "/metrics".to_owned(),
            bind: None,
            scope: "mcp:metrics".to_owned(),
            otlp: true,
            export_interval: Duration::from_secs(60),
        }
    }
}

/// `tracing.exporter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceExporter {
    /// Spans stay in the process (a subscriber of your own may still read them).
    None,
    /// OTLP to a collector.
    Otlp,
}

/// `tracing.level`: the least severe `tracing` level whose spans are exported, whatever `log.level` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanLevel {
    /// Spans at info and above: each request's span, the tool's, and the tool's own at info.
    Info,
    /// Also debug spans: the corridor's stages and the tool's own at debug.
    Debug,
    /// Every span.
    Trace,
}

/// `tracing.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    /// HTTP/protobuf.
    Http,
    /// gRPC.
    Grpc,
}

/// `[audit]`: one JSON record per request, whatever ended it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// `auto` (stdout for network transports, stderr over stdio), `stdout`, `stderr`, `file:PATH`,
    /// `tracing` (an event of target `mcp_audit` for your own subscriber) or `none`.
    pub destination: String,
    /// Argument (and result) fields replaced wherever they appear. Names are normalised (lowercase, `_` and
    /// `-` removed) and match the words of a field's name: `token` hides `access_token` and `refreshToken`,
    /// not `token_count` (a field with a measuring word is kept). The list replaces the defaults.
    pub redact_fields: Vec<String>,
    /// The HMAC key redacted values are hashed with (by reference), so equal values can be joined without
    /// being revealed. Without it redacted values are removed.
    pub redact_key: Option<super::SecretRef>,
    /// `redacted` (arguments with redacted fields replaced), `hash-only` (only `arguments_sha256`, an HMAC
    /// under `redact_key`: nothing without a key) or `none`.
    pub arguments: AuditArguments,
    /// Record tool results too (redacted the same way).
    pub results: bool,
    /// Records queued for the writer at most.
    pub queue: usize,
    /// When the queue is full: `block` (wait up to `block_timeout`, then refuse the request with 503),
    /// `reject` (refuse at once) or `drop` (serve it unrecorded, counted and logged).
    pub on_full: AuditOnFull,
    /// How long `block` waits for room.
    #[serde(with = "duration")]
    pub block_timeout: Duration,
    /// File sink: `always` (fsync every batch), `interval` (at most once a second) or `never`.
    pub fsync: AuditFsync,
    /// File sink: rotate past this size (`audit.log` → `audit.log.1` …).
    pub max_file_bytes: u64,
    /// File sink: rotated files kept.
    pub keep_files: usize,
    /// Chain records: each carries `prev_hash` and `hash = HMAC-SHA256(k, prev_hash || record)`, and a
    /// signed checkpoint (record count and last hash) closes each file at rotation and at shutdown; an
    /// edited, removed or reordered record, a cut head or tail breaks it (`--verify-audit FILE`, `cargo mcp
    /// audit verify`). `k` comes from `chain_key`, else `redact_key`; without either the chain is plain
    /// SHA-256 and detects accidental edits only.
    pub hash_chain: bool,
    /// The key the hash chain and its checkpoints are computed with (by reference, like `redact_key`);
    /// unset, the chain uses `redact_key`.
    pub chain_key: Option<super::SecretRef>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            destination: "auto".to_owned(),
            redact_fields: [
                "password",
                "passwd",
                "passphrase",
                "secret",
                "token",
                "api_key",
                "private_key",
                "credential",
                "authorization",
                "cookie",
                "session_id",
            ]
            .map(str::to_owned)
            .to_vec(),
            redact_key: None,
            arguments: AuditArguments::Redacted,
            results: false,
            queue: 10_000,
            on_full: AuditOnFull::Block,
            block_timeout: Duration::from_secs(1),
            fsync: AuditFsync::Interval,
            max_file_bytes: 100 * 1024 * 1024,
            keep_files: 5,
            hash_chain: false,
            chain_key: None,
        }
    }
}

impl AuditConfig {
    pub(crate) fn check(&self, transport: TransportKindConfig) -> Result<(), String> {
        match self.destination.as_str() {
            "auto" | "stderr" | "tracing" | "none" => {}
            "stdout" if transport == TransportKindConfig::Stdio => {
                return Err("audit.destination = \"stdout\" is impossible over stdio (stdout carries the \
                            protocol): use stderr, file:PATH or tracing"
                    .to_owned());
            }
            "stdout" => {}
            other if other.strip_prefix("file:").is_some_and(|p| !p.is_empty()) => {}
            other => {
                return Err(format!(
                    "audit.destination `{other}`: use auto, stdout, stderr, file:PATH, tracing or none"
                ));
            }
        }
        if self.queue == 0 {
            return Err("audit.queue must be above zero".to_owned());
        }
        Ok(())
    }
}

/// `audit.arguments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditArguments {
    /// The arguments, redacted.
    Redacted,
    /// Only their SHA-256.
    HashOnly,
    /// Nothing of them.
    None,
}

/// `audit.on_full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOnFull {
    /// Wait for room up to `block_timeout`, then refuse the request (503) before it runs.
    Block,
    /// Refuse the request (503) before it runs.
    Reject,
    /// Serve the request without a record; counted and logged.
    Drop,
}

/// `audit.fsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditFsync {
    /// After every write.
    Always,
    /// At most once a second.
    Interval,
    /// Never (the OS decides).
    Never,
}

/// `[throttling]`: GCRA rate limits, checked after authentication, authorization and validation, so a refused
/// call spends no quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlingConfig {
    /// Every caller's calls together (`"1000/min"`).
    pub global: Option<String>,
    /// Each caller's calls (the principal; its address when unauthenticated).
    pub per_principal: Option<String>,
    /// The rate of tools whose attribute sets none.
    pub default_tool: Option<String>,
    /// Per tool: `"30/min"`, or `{ rate = "30/min", burst = 5, max_concurrent = 4 }`; overrides the attribute.
    pub tools: std::collections::BTreeMap<String, ToolThrottle>,
    /// Whose budget a tool's rate is: `principal` (each caller has its own) or `global` (all share one).
    pub tool_scope: ToolScope,
    /// The methods that spend quota: `tools/call` (always), `resources/read`, `prompts/get`.
    pub methods: Vec<String>,
    /// Where the limiter state lives.
    pub store: StoreConfig,
    /// How often idle limiter state is dropped from memory.
    #[serde(with = "duration")]
    pub retain_interval: Duration,
}

impl Default for ThrottlingConfig {
    fn default() -> Self {
        Self {
            global: None,
            per_principal: None,
            default_tool: None,
            tools: std::collections::BTreeMap::new(),
            tool_scope: ToolScope::Principal,
            methods: vec!["tools/call".to_owned()],
            store: StoreConfig::Memory,
            retain_interval: Duration::from_secs(60),
        }
    }
}

impl ThrottlingConfig {
    pub(crate) fn check(&self) -> Result<(), String> {
        let rates =
            [("global", &self.global), ("per_principal", &self.per_principal), ("default_tool", &self.default_tool)];
        for (key, rate) in rates {
            if let Some(rate) = rate {
                rate.parse::<crate::server::Rate>().map_err(|e| format!("throttling.{key}: {e}"))?;
            }
        }
        for (tool, limit) in &self.tools {
            let (rate, burst, max_concurrent) = match limit {
                ToolThrottle::Rate(rate) => (Some(rate), None, None),
                ToolThrottle::Detailed { rate, burst, max_concurrent } => (rate.as_ref(), *burst, *max_concurrent),
            };
            if let Some(rate) = rate {
                rate.parse::<crate::server::Rate>().map_err(|e| format!("throttling.tools.{tool}: {e}"))?;
            }
            if burst == Some(0) || max_concurrent == Some(0) {
                return Err(format!("throttling.tools.{tool}: burst and max_concurrent must be above zero"));
            }
        }
        for method in &self.methods {
            if !matches!(method.as_str(), "tools/call" | "resources/read" | "prompts/get") {
                return Err(format!(
                    "throttling.methods: `{method}` cannot be throttled: use tools/call, resources/read or prompts/get"
                ));
            }
        }
        if let StoreConfig::Redis { timeout, .. } = &self.store
            && timeout.is_zero()
        {
            return Err("throttling.store.timeout must be above zero".to_owned());
        }
        Ok(())
    }
}

/// `throttling.tools.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolThrottle {
    /// `"30/min"`.
    Rate(String),
    /// `{ rate = "30/min", burst = 5, max_concurrent = 4 }`.
    Detailed {
        /// The steady rate.
        #[serde(default)]
        rate: Option<String>,
        /// Calls allowed at once above the steady rate's budget.
        #[serde(default)]
        burst: Option<u32>,
        /// Calls running at once at most; more are refused at once, not queued.
        #[serde(default)]
        max_concurrent: Option<usize>,
    },
}

/// `throttling.tool_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolScope {
    /// A tool's rate is each caller's budget: two callers of a `30/min` tool get 30 calls a minute each.
    Principal,
    /// A tool's rate is one budget every caller shares (it protects the system behind the tool).
    Global,
}

/// `throttling.store`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// In this process's memory.
    Memory,
    /// In Redis, shared by every replica.
    Redis {
        /// `redis://host:6379/0` (`rediss://` for TLS); by reference (`${env:REDIS_URL}`) when it holds a password.
        url: super::SecretRef,
        /// What a call gets when Redis fails or is slower than `timeout`: `open` admits it, `closed` refuses it
        /// (503), `local` decides with this process's own limiter.
        #[serde(default)]
        on_error: OnRedisError,
        /// The longest a call waits for Redis.
        #[serde(default = "default_redis_timeout", with = "duration")]
        timeout: Duration,
        /// The prefix of every key the limiter writes.
        #[serde(default = "default_redis_prefix")]
        prefix: String,
    },
}

fn default_redis_timeout() -> Duration {
    Duration::from_millis(100)
}

fn default_redis_prefix() -> String {
    "mcp:rl:".to_owned()
}

/// `throttling.store.on_error`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnRedisError {
    /// Admit the call.
    Open,
    /// Refuse the call (503).
    Closed,
    /// Decide with this process's in-memory limiter.
    #[default]
    Local,
}

/// `[security]`: authentication of every request and per-tool authorization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// `none`, `api-key`, `jwt` or `oauth`.
    pub strategy: AuthStrategy,
    /// The request header that carries the credential. `Authorization` (the default) is read as
    /// `Bearer <credential>`; any other header (`X-Enterprise-Token`) holds the credential itself.
    pub header: String,
    /// API keys (strategy `api-key`): inline SHA-256 digests, or `${file:PATH}` naming a TOML file of
    /// `[[keys]]` tables, reloaded on SIGHUP and when it changes.
    pub keys: ApiKeys,
    /// How often the key file is checked for changes.
    #[serde(with = "duration")]
    pub keys_reload_interval: Duration,
    /// JSON Web Tokens (strategy `jwt`, and JWT access tokens under `oauth`).
    pub jwt: JwtConfig,
    /// The OAuth 2.1 resource server (strategy `oauth`).
    pub oauth: OAuthConfig,
    /// What the list methods show a caller: `allowed` (the tools, resources, templates and prompts its
    /// scopes allow) or `all`.
    pub list_tools: ToolListing,
    /// Failed authentications one source may make per `failure_window` before it gets 429.
    pub max_failures: u32,
    /// The window `max_failures` counts in, and how long a throttled source waits.
    #[serde(with = "duration")]
    pub failure_window: Duration,
    /// `--dev`: inline secrets are accepted (with a warning).
    #[serde(skip)]
    pub allow_inline_secrets: bool,
    /// `--insecure-no-auth`: a non-loopback bind without authentication is allowed.
    #[serde(skip)]
    pub insecure_no_auth: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            strategy: AuthStrategy::None,
            header: "Authorization".to_owned(),
            keys: ApiKeys::default(),
            keys_reload_interval: Duration::from_secs(2),
            jwt: JwtConfig::default(),
            oauth: OAuthConfig::default(),
            list_tools: ToolListing::Allowed,
            max_failures: 10,
            failure_window: Duration::from_secs(60),
            allow_inline_secrets: false,
            insecure_no_auth: false,
        }
    }
}

impl SecurityConfig {
    /// Fail closed: a strategy without what it needs to check a credential is refused at start.
    pub(crate) fn check(&self) -> Result<(), String> {
        if axum::http::HeaderName::from_bytes(self.header.as_bytes()).is_err() {
            return Err(format!("security.header {:?} is not a valid HTTP header name", self.header));
        }
        if let ApiKeys::Inline(keys) = &self.keys {
            for key in keys {
                parse_digest(&key.hash).map_err(|e| format!("security.keys `{}`: {e}", key.id))?;
            }
        }
        let jwt = &self.jwt;
        let key_sources = [jwt.public_key.is_some(), jwt.secret.is_some(), jwt.jwks_uri.is_some()];
        if key_sources.iter().filter(|s| **s).count() > 1 {
            return Err("security.jwt: give one of public_key, secret or jwks_uri".to_owned());
        }
        let validates_jwts = key_sources.iter().any(|s| *s);
        if jwt.principal_claim.trim().is_empty() {
            return Err("security.jwt.principal_claim must name a claim (default: sub)".to_owned());
        }
        for (key, url) in [
            ("security.jwt.jwks_uri", &jwt.jwks_uri),
            ("security.oauth.resource", &self.oauth.resource),
            ("security.oauth.introspection_endpoint", &self.oauth.introspection_endpoint),
        ] {
            if let Some(url) = url {
                check_url(key, url)?;
            }
        }
        match self.strategy {
            AuthStrategy::None => {}
            AuthStrategy::ApiKey => {
                if matches!(&self.keys, ApiKeys::Inline(keys) if keys.is_empty()) {
                    return Err("security.strategy = \"api-key\" needs security.keys: inline \
                                [{ id, hash = \"sha256:<hex>\", scopes }] or \"${file:PATH}\""
                        .to_owned());
                }
            }
            AuthStrategy::Jwt => {
                if !validates_jwts {
                    return Err("security.strategy = \"jwt\" needs a key: security.jwt.public_key, \
                                security.jwt.secret or security.jwt.jwks_uri"
                        .to_owned());
                }
                if jwt.issuer.is_none() || jwt.audience.is_empty() {
                    return Err("security.strategy = \"jwt\" needs security.jwt.issuer and security.jwt.audience: \
                                tokens without the expected iss and aud are refused"
                        .to_owned());
                }
            }
            AuthStrategy::Oauth => {
                if self.oauth.resource.is_none() || self.oauth.authorization_servers.is_empty() {
                    return Err("security.strategy = \"oauth\" needs security.oauth.resource (this server's \
                                canonical URI) and security.oauth.authorization_servers"
                        .to_owned());
                }
                if !validates_jwts && self.oauth.introspection_endpoint.is_none() {
                    return Err("security.strategy = \"oauth\" needs a way to check tokens: a key in \
                                [security.jwt] (public_key or jwks_uri) or security.oauth.introspection_endpoint"
                        .to_owned());
                }
                if validates_jwts && jwt.issuer.is_none() {
                    return Err(
                        "security.strategy = \"oauth\" with JWT access tokens needs security.jwt.issuer".to_owned()
                    );
                }
                if self.oauth.introspection_endpoint.is_some() && self.oauth.client_id.is_none() {
                    return Err("security.oauth.introspection_endpoint needs security.oauth.client_id".to_owned());
                }
            }
        }
        Ok(())
    }

    /// Whether requests are authenticated at all.
    pub fn authenticates(&self) -> bool {
        self.strategy != AuthStrategy::None
    }
}

/// `sha256:<64 hex digits>` → the digest.
pub(crate) fn parse_digest(text: &str) -> Result<[u8; 32], String> {
    let hex = text
        .strip_prefix("sha256:")
        .ok_or_else(|| "the hash must look like sha256:<64 hex digits> (print one with --hash-key)".to_owned())?;
    if hex.len() != 64 {
        return Err(format!("a SHA-256 digest has 64 hex digits, this one has {}", hex.len()));
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte =
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| "the digest is not hexadecimal".to_owned())?;
    }
    Ok(digest)
}

/// `10.0.0.0/8`, `2001:db8::/32` or a single address → (network, prefix length).
pub(crate) fn parse_cidr(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    let (addr, len) = text.split_once('/').map_or((text, None), |(a, l)| (a, Some(l)));
    let addr: std::net::IpAddr =
        addr.trim().parse().map_err(|_| format!("`{text}` is not an address or CIDR block"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("`{text}` has a bad prefix length"))?,
    };
    Ok((addr, len))
}

pub(crate) fn check_proxies(proxies: &[String]) -> Result<(), String> {
    for proxy in proxies {
        parse_cidr(proxy).map_err(|e| format!("http.trusted_proxies: {e}"))?;
    }
    Ok(())
}

/// Outbound URLs are `https`, or `http` to a loopback host (a local identity provider, tests).
///
/// The URL is parsed as reqwest parses it (the WHATWG rules of the `url` crate), and the host judged is the
/// one the connection goes to: in `http://evil.example\@127.0.0.1/` a backslash ends the authority, so the
/// host is `evil.example`, whatever a naive split on `@` finds.
fn check_url(key: &str, text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{key} {text:?} is not an absolute URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("{key} {text:?} must be an https:// URL (http:// only to a loopback host)")),
    }
}

/// `security.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthStrategy {
    /// No authentication: every caller is anonymous and tool scopes are not enforced. Loopback only.
    None,
    /// API keys, compared by SHA-256 digest.
    ApiKey,
    /// Signed JWTs checked against a configured key or a JWKS.
    Jwt,
    /// An OAuth 2.1 resource server: JWT access tokens and/or RFC 7662 introspection, RFC 9728 metadata.
    Oauth,
}

/// `security.list_tools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolListing {
    /// Each caller sees only the tools its scopes allow it to call.
    Allowed,
    /// Every caller sees every tool (calls are still checked).
    All,
}

/// `security.keys`: the keys inline, or a reference to a file holding them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApiKeys {
    /// `keys = [{ id = "ops", hash = "sha256:<hex>", scopes = ["inventory:read"] }]`.
    Inline(Vec<ApiKeyEntry>),
    /// `keys = "${file:/run/secrets/mcp-api-keys}"`: a TOML file of `[[keys]]` tables.
    Reference(super::SecretRef),
}

impl Default for ApiKeys {
    fn default() -> Self {
        Self::Inline(Vec::new())
    }
}

/// One API key: who it identifies, its digest (never the key), and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyEntry {
    /// The principal the key identifies (`ops`, `ci-bot`).
    pub id: String,
    /// `sha256:<64 hex digits>` of the key (`--hash-key` prints it).
    pub hash: String,
    /// The scopes the key grants.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `[security.jwt]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// A PEM public key by reference (`${env:JWT_PUBLIC_KEY}`): RSA (RS256), EC P-256 (ES256) or Ed25519
    /// (EdDSA). The key's type pins the algorithm.
    pub public_key: Option<super::SecretRef>,
    /// A shared secret by reference, for HS256.
    pub secret: Option<super::SecretRef>,
    /// Pins another algorithm of the key's family (`RS512`, `ES384`, `HS384`, `PS256`).
    pub algorithm: Option<String>,
    /// Where the signing keys are published (`https://issuer/.well-known/jwks.json`).
    pub jwks_uri: Option<String>,
    /// The required `iss`.
    pub issuer: Option<String>,
    /// Accepted `aud` values (under `oauth`, `security.oauth.resource` is the audience).
    pub audience: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(with = "duration")]
    pub leeway: Duration,
    /// The JWKS is fetched at most once per interval (on an unknown `kid`, or when older than this).
    #[serde(with = "duration")]
    pub jwks_refresh: Duration,
    /// While the JWKS endpoint fails, cached keys serve until they are this old; then tokens are refused.
    #[serde(with = "duration")]
    pub jwks_max_stale: Duration,
    /// The claim that names the principal, in tokens and in introspection answers. A token without it is
    /// refused; no other claim stands in for it (a `client_id` or `azp` names the client, not the subject).
    pub principal_claim: String,
    /// The `typ` header every token must carry (`at+jwt` for RFC 9068 access tokens), compared
    /// case-insensitively, with or without `application/`. Unset: `typ` is not checked.
    pub required_typ: Option<String>,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            public_key: None,
            secret: None,
            algorithm: None,
            jwks_uri: None,
            issuer: None,
            audience: Vec::new(),
            leeway: Duration::from_secs(30),
            jwks_refresh: Duration::from_secs(60),
            jwks_max_stale: Duration::from_secs(3600),
            principal_claim: "sub".to_owned(),
            required_typ: None,
        }
    }
}

/// `[security.oauth]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// This server's canonical URI (`https://mcp.example.com/mcp`): the RFC 9728 `resource` and the
    /// audience every token must carry (RFC 8707).
    pub resource: Option<String>,
    /// The authorization servers that issue tokens for it.
    pub authorization_servers: Vec<String>,
    /// Scopes advertised in the metadata (default: every scope a tool requires).
    pub scopes_supported: Vec<String>,
    /// RFC 7662 endpoint for opaque tokens.
    pub introspection_endpoint: Option<String>,
    /// The client id this server introspects with.
    pub client_id: Option<String>,
    /// Its secret, by reference.
    pub client_secret: Option<super::SecretRef>,
    /// How long an introspection answer is reused (never past the token's `exp`).
    #[serde(with = "duration")]
    pub introspection_cache: Duration,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            resource: None,
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            introspection_endpoint: None,
            client_id: None,
            client_secret: None,
            introspection_cache: Duration::from_secs(30),
        }
    }
}

/// Durations as `"500ms"`, `"5s"`, `"2min"`, `"1h"` (or an integer number of seconds).
pub(crate) mod duration {
    use super::{Deserialize, Deserializer, Duration, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
        }
    }

    /// Parses `"250ms"`, `"5s"`, `"2min"`, `"1h"`.
    pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a duration like 500ms, 5s, 2min or 1h"))?;
        let ms = match unit.trim() {
            "ms" => Some(n),
            "s" | "" => n.checked_mul(1000),
            "m" | "min" => n.checked_mul(60_000),
            "h" => n.checked_mul(3_600_000),
            _ => return Err(format!("`{text}` has an unknown unit: use ms, s, min or h")),
        };
        ms.map(Duration::from_millis).ok_or_else(|| format!("`{text}` is too long a duration"))
    }

    pub(crate) fn format_duration(d: Duration) -> String {
        let ms = d.as_millis();
        if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
    }
}

#[cfg(test)]
mod tests {
    use super::duration::parse_duration;
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5 fortnights").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn outbound_urls_are_judged_by_the_host_reqwest_connects_to() {
        for ok in [
            "https://idp.example.com/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://127.8.9.10/x",
            "http://[::1]:9/x",
            "http://LOCALHOST/x",
        ] {
            assert!(check_url("k", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example\\@127.0.0.1/",
            "http://evil.example\\@localhost/",
            "http://evil.example/@127.0.0.1",
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil.example/",
            "http://user@evil.example/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "idp.example.com/jwks",
            "https://",
        ] {
            assert!(check_url("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_are_secure() {
        let c = Config::default();
        assert!(c.transport.bind.ip().is_loopback());
        assert_eq!(c.transport.kind, TransportKindConfig::Stdio);
    }
}
