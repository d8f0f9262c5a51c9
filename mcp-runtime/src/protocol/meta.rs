//! Reserved `_meta` keys.
//!
//! Under 2026-07-28 every request carries its revision and the client's capabilities in `_meta`, and
//! every result may name the server there.

/// Request `_meta`: the revision the request is made under (required under 2026-07-28).
pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// Request `_meta`: the client's capabilities (required under 2026-07-28; `{}` for none).
pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// Request `_meta`: the client's name and version.
pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// Request `_meta`: the least severe log level the client wants as `notifications/message`.
pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// Result `_meta`: the server's name and version.
pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Request `_meta`: the token progress notifications refer to.
pub const PROGRESS_TOKEN: &str = "progressToken";
/// `_meta` of every message on a `subscriptions/listen` stream (2026-07-28): the listen request's id.
pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
