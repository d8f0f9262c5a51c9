//! Runtime configuration: `mcp.toml`, `MCP_*` environment variables and command-line flags.
//!
//! Precedence, lowest first: built-in secure defaults, the configuration bundled at compile time, the file
//! named by `--config` or `MCP_CONFIG` (a file in the working directory is never read unless named),
//! the environment, the flags. Relative paths in a file resolve against that file's folder. An unknown
//! key is an error that names the key and where it was found; secrets are given only by reference
//! ([`SecretRef`]).
//!
//! ```toml
//! [transport]
//! kind = "stdio"                # stdio | http | sse
//! bind = "127.0.0.1:8080"       # network transports only
//! path = "/mcp"
//! max_message_bytes = 4194304   # a longer stdio line or HTTP body is refused
//! max_in_flight = 256           # concurrent requests per connection
//! shutdown_grace = "10s"        # time in-flight requests get at EOF or SIGTERM
//!
//! [http]                        # Streamable HTTP and legacy SSE only
//! allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]                     # else 403
//! allowed_origins = ["http://localhost", "http://127.0.0.1", "http://[::1]"] # else 403
//! cors_origins = []             # browser origins answered with CORS headers; never "*"
//! max_sessions = 1024           # initialize beyond it: 503
//! max_sessions_per_caller = 128 # one caller's share (principal, or address when anonymous): beyond it 429
//! max_streams_per_caller = 32   # GET / legacy /sse streams one caller holds open: beyond it 429
//! session_idle_timeout = "600s"
//! max_connections = 1024
//! header_read_timeout = "10s"   # slowloris
//! body_read_timeout = "30s"
//! replay_events = 256           # per SSE stream, for Last-Event-ID
//! keep_alive = "15s"            # SSE comment on idle streams
//!
//! [tools]
//! default_timeout = "60s"       # for tools without #[mcp_tool(timeout = ...)]
//! page_size = 100               # tools per tools/list page
//! list_ttl = "300s"             # ttlMs of 2026-07-28 list results
//! disabled = []                 # tools not served (unlisted, unknown to tools/call); reloaded live
//!
//! [listen]                      # listeners of change notifications (session streams, subscriptions/listen)
//! max_listeners = 1024          # in all; one more is refused (-32012, data.limit = "listeners")
//! max_listeners_per_caller = 8  # per principal (per network when anonymous)
//!
//! [request_state]               # 2026-07-28 requests that ask the client for input (input_required)
//! keys = ["${env:MCP_STATE_KEY}"]  # ≥32 bytes each; the first seals, all open (rotation). Default: none,
//!                               # a random key of the process's own (retries must reach that process)
//! ttl = "10m"                   # a state older than this is refused (the client starts over)
//! max_bytes = 65536             # the longest state issued or accepted
//!
//! [reload]                      # SIGHUP, or a change of the --config / MCP_CONFIG file, re-reads everything:
//! interval = "2s"               # how often the file is compared ("0s": on SIGHUP only). [tools] disabled and
//!                               # [throttling] (not store) apply live; other keys wait for a restart (a warning)
//!
//! [throttling]                  # GCRA limits; a call refused earlier (auth, scopes, schema) spends none; live
//! global = "1000/min"           # every caller together (unset: no limit)
//! per_principal = "120/min"     # each caller (its address when unauthenticated)
//! default_tool = "60/min"       # tools whose #[mcp_tool] sets no rate
//! tools = { lookup_stock = "30/min", adjust_stock = { rate = "10/min", burst = 2, max_concurrent = 4 } }
//! tool_scope = "principal"      # principal: each caller has its own budget per tool; global: one shared
//! methods = ["tools/call"]      # also resources/read, prompts/get
//! store = { kind = "memory" }   # or { kind = "redis", url = "${env:REDIS_URL}", on_error = "local", timeout = "100ms" }
//! retain_interval = "60s"       # idle limiter state dropped this often
//!
//! [audit]                       # one JSON record per request, whatever ended it
//! destination = "auto"          # auto (stdout; stderr over stdio) | stdout | stderr | file:PATH | tracing | none
//! redact_fields = ["password", "passwd", "passphrase", "secret", "token", "api_key", "private_key",
//!                  "credential", "authorization", "cookie", "session_id"]   # words of names: token hides access_token
//! redact_key = "${env:AUDIT_HMAC_KEY}"   # redacted values become hmac-sha256:<hex>; without it, removed
//! arguments = "redacted"        # redacted | hash-only | none
//! results = false
//! queue = 10000                 # records waiting for the writer
//! on_full = "block"             # block (block_timeout, then 503) | reject (503) | drop (counted)
//! block_timeout = "1s"
//! fsync = "interval"            # always | interval | never (file sink)
//! max_file_bytes = 104857600    # rotation (file sink), keep_files = 5
//! hash_chain = false            # keyed prev_hash + hash on every record, signed checkpoints; --verify-audit FILE
//! chain_key = "${env:AUDIT_CHAIN_KEY}"   # the chain's HMAC key (default: redact_key; neither: unkeyed SHA-256)
//!
//! [tracing]                     # OpenTelemetry
//! exporter = "none"             # none | otlp
//! protocol = "http"             # http (HTTP/protobuf, :4318) | grpc (:4317)
//! endpoint = "http://127.0.0.1:4318"
//! service_name = "inventory-gateway"   # default: the server's name
//! trust_incoming = false        # continue the client's traceparent (header or params._meta)
//! sample_ratio = 1.0
//! export_interval = "1s"        # spans are exported this often (sooner when 512 wait)
//! level = "info"                # info: request + tool spans | debug: also one per corridor stage
//!
//! [metrics]                     # Prometheus text format, and OTLP when tracing.exporter = "otlp"
//! prometheus = true             # serve `path` (on the HTTP listener, behind its authentication)
//! path = "/metrics"
//! bind = "127.0.0.1:9464"       # or a listener of its own, unauthenticated (stdio servers need it),
//!                               # behind the same Host/Origin guard, header timeout and connection cap
//! scope = "mcp:metrics"         # what a caller needs to scrape on the HTTP listener ("": any authenticated)
//! otlp = true
//! export_interval = "60s"
//!
//! [security]
//! strategy = "none"             # none | api-key | jwt | oauth; a non-loopback bind needs one
//! header = "Authorization"      # "Bearer <credential>"; another header holds the credential itself
//! keys = []                     # [{ id, hash = "sha256:<hex>", scopes }] or "${file:PATH}" (reloaded)
//! keys_reload_interval = "2s"
//! scope_implies = {}            # { "inventory:admin" = ["inventory:write"] }: a broader scope implies narrower ones
//! list_tools = "allowed"        # allowed | all: what tools/list shows a caller
//! max_failures = 10             # failed authentications per source and window, then 429
//! failure_window = "60s"
//!
//! [security.jwt]
//! public_key = "${env:JWT_PUBLIC_KEY}"   # PEM, by reference; or secret = "${env:..}" for HS256
//! jwks_uri = "https://issuer.example/.well-known/jwks.json"   # https, or http to a loopback host
//! issuer = "https://issuer.example"      # required
//! audience = ["mcp-gateway"]             # required (under oauth: security.oauth.resource)
//! leeway = "30s"
//! jwks_refresh = "60s"          # at most one JWKS fetch per interval
//! jwks_max_stale = "3600s"      # cached keys serve this long while the JWKS endpoint fails
//! principal_claim = "sub"       # names the principal (tokens and introspection); absent: refused
//! required_typ = "at+jwt"       # unset by default; when set, the header's typ must match (RFC 9068)
//!
//! [security.oauth]
//! resource = "https://mcp.example.com/mcp"             # canonical URI = required audience
//! authorization_servers = ["https://auth.example.com"]
//! introspection_endpoint = "https://auth.example.com/introspect"   # opaque tokens
//! client_id = "mcp-gateway"
//! client_secret = "${env:INTROSPECTION_SECRET}"
//! introspection_cache = "30s"
//!
//! [log]
//! level = "info"                # a tracing filter; logs always go to stderr
//! format = "text"               # text | json
//! ```
//!
//! Every key can be set from the environment: `MCP_TRANSPORT__KIND=stdio`, `MCP_TOOLS__PAGE_SIZE=50`.

mod load;
mod model;
mod secret;

pub(crate) use load::toml_error;
pub use load::{Bundled, Cli, ConfigError, ENV_PREFIX};
pub(crate) use model::parse_cidr;
pub(crate) use model::parse_digest;
pub use model::{
    ApiKeyEntry, ApiKeys, AuditArguments, AuditConfig, AuditFsync, AuditOnFull, AuthStrategy, Config, HttpConfig,
    JwtConfig, ListenConfig, LogConfig, LogFormat, MetricsConfig, OAuthConfig, OnRedisError, OtlpProtocol,
    ReloadConfig, RequestStateConfig, ScanOnStart, SecurityConfig, SpanLevel, StoreConfig, TasksConfig,
    ThrottlingConfig, ToolListing, ToolScope, ToolThrottle, ToolsConfig, TraceExporter, TracingConfig, TransportConfig,
    TransportKindConfig,
};
pub use secret::{Secret, SecretError, SecretRef};
