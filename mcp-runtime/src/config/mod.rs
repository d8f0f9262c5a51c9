//! Runtime configuration: `mcp.toml`, `MCP_*` environment variables and command-line flags.
//!
//! Precedence, lowest first: built-in secure defaults, the file, the environment, the flags. An unknown
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
//! [tools]
//! default_timeout = "60s"       # for tools without #[mcp_tool(timeout = ...)]
//! page_size = 100               # tools per tools/list page
//! list_ttl = "300s"             # ttlMs of 2026-07-28 list results
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

pub use load::{Cli, ConfigError, ENV_PREFIX};
pub use model::{Config, LogConfig, LogFormat, ToolsConfig, TransportConfig, TransportKindConfig};
pub use secret::{Secret, SecretError, SecretRef};
