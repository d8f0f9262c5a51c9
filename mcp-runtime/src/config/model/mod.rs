//! The configuration model: every key, its default, and what it means; one file per large section
//! (`audit.rs`, `throttling.rs`, `security.rs`), the small ones here.

mod audit;
mod request_state;
mod security;
mod tasks;
mod throttling;

pub use audit::{AuditArguments, AuditConfig, AuditFsync, AuditOnFull};
pub use request_state::RequestStateConfig;
pub use security::{
    ApiKeyEntry, ApiKeys, AuthStrategy, JwtConfig, OAuthConfig, ScanOnStart, SecurityConfig, ToolListing,
};
pub(crate) use security::{check_proxies, parse_cidr, parse_digest};
pub use tasks::TasksConfig;
pub use throttling::{OnRedisError, StoreConfig, ThrottlingConfig, ToolScope, ToolThrottle};

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
    /// Who may listen for change notifications, and how many at once.
    pub listen: ListenConfig,
    /// Tool calls made as tasks: how long they are kept, how often clients poll, how many run.
    pub tasks: TasksConfig,
    /// The keys that seal the `requestState` of requests that asked the client for input (2026-07-28).
    pub request_state: RequestStateConfig,
    /// How a running server notices that its configuration file changed.
    pub reload: ReloadConfig,
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
    /// Tools the server has but does not serve: unlisted, and unknown to `tools/call`. Re-read on `SIGHUP`
    /// and when the configuration file changes; clients are told the tool list changed.
    pub disabled: Vec<String>,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        Self {
            default_timeout: Duration::from_secs(60),
            page_size: 100,
            list_ttl: Duration::from_secs(300),
            disabled: Vec::new(),
        }
    }
}

/// `[listen]`: the 2026-07-28 `subscriptions/listen` streams of change notifications, capped so that no
/// caller can hold the server's memory (a handshake session's own listener is bounded by the session caps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    /// `subscriptions/listen` streams at once, in all; one more is refused (−32012, `data.limit =
    /// "listeners"`). A handshake session's own listener is not counted: the session caps bound those.
    pub max_listeners: usize,
    /// Listeners at once per caller (its principal, or its network when anonymous).
    pub max_listeners_per_caller: usize,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self { max_listeners: 1024, max_listeners_per_caller: 8 }
    }
}

/// `[reload]`: the configuration is read again on `SIGHUP`, and when the file named by `--config` or
/// `MCP_CONFIG` changes. `[tools] disabled` and `[throttling]` (all but `store`) apply at once; any other
/// key that changed is named in a warning and waits for a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReloadConfig {
    /// How often the configuration file's contents are compared with what was last read; `"0s"` checks
    /// only on `SIGHUP`.
    #[serde(with = "duration")]
    pub interval: Duration,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        Self { interval: Duration::from_secs(2) }
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

/// Durations as `"500ms"`, `"5s"`, `"2min"`, `"1h"` (or an integer number of seconds, in TOML or as text): read by
/// `mcp-grammar`, as `#[mcp_tool(timeout = ...)]` and `#[mcp_resource(ttl = ...)]` are.
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
            Raw::Text(t) => mcp_grammar::parse_duration(&t).map_err(serde::de::Error::custom),
        }
    }

    pub(crate) fn format_duration(d: Duration) -> String {
        let ms = d.as_millis();
        if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        #[derive(Debug, Deserialize)]
        struct Holder {
            #[serde(with = "duration")]
            d: Duration,
        }
        let d = |value: &str| toml::from_str::<Holder>(&format!("d = {value}")).map(|h| h.d).map_err(|e| e.to_string());
        assert_eq!(d("\"250ms\""), Ok(Duration::from_millis(250)));
        assert_eq!(d("\"5s\""), Ok(Duration::from_secs(5)));
        assert_eq!(d("\"2min\""), Ok(Duration::from_secs(120)));
        assert_eq!(d("\"1h\""), Ok(Duration::from_secs(3600)));
        assert_eq!(d("5"), Ok(Duration::from_secs(5)), "a TOML integer is seconds");
        assert_eq!(d("\"5\""), Ok(Duration::from_secs(5)), "and so is a bare number as text, in the macros too");
        assert!(d("\"5 fortnights\"").is_err_and(|e| e.contains("is not a duration")));
        assert!(d("\"\"").is_err());
        assert_eq!(duration::format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn defaults_are_secure() {
        let c = Config::default();
        assert!(c.transport.bind.ip().is_loopback());
        assert_eq!(c.transport.kind, TransportKindConfig::Stdio);
    }
}
