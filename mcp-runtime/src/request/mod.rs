//! The corridor's vocabulary, on the ground floor: the transport-neutral request and response every layer
//! works on ([`McpRequest`], [`McpResponse`], [`McpService`]), how a request ended ([`Outcome`]), who is
//! calling ([`Principal`]), the client on the other side ([`ClientInfo`], [`Notifier`]) and the
//! handshake-era [`Session`] a request may belong to. It imports nothing of the crate but `protocol`.

mod client;
mod events;
mod network;
mod outcome;
mod peer;
mod principal;
mod session;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use tower::util::BoxCloneSyncService;

pub(crate) use self::client::LogGate;
pub use self::client::{ClientInfo, Notifier};
pub use self::events::{
    Audience, Bus, Change, Filter, ListenLimits, ListenRefused, Listener, MAX_SUBSCRIPTIONS, Pending, Subscriptions,
};
pub(crate) use self::network::client_network;
pub use self::outcome::{Decision, Outcome};
pub use self::peer::{PeerError, PendingRequests};
pub(crate) use self::principal::anonymous;
pub use self::principal::{AuthMethod, Principal};
pub use self::session::{Handshake, Session};
use crate::protocol::{ErrorObject, ProtocolVersion, RequestId, method};

/// Which transport a request arrived on (for logs and records; no layer branches on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// Newline-delimited JSON over stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http,
    /// Legacy HTTP+SSE (2024-11-05).
    Sse,
    /// Called in-process (tests, `--print-manifest`).
    InProcess,
}

impl TransportKind {
    /// The name used in logs and configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stdio => "stdio",
            Self::Http => "http",
            Self::Sse => "sse",
            Self::InProcess => "in-process",
        }
    }
}

/// One admitted request: method, parameters, `_meta`, the negotiated revision and the client.
///
/// Built by the transport (see `transport::admit`); every layer of the corridor sees this same type.
pub struct McpRequest {
    /// The JSON-RPC id; the answer carries it.
    pub id: RequestId,
    /// The method, e.g. `tools/call`.
    pub method: String,
    /// The parameters, without `_meta`.
    pub params: Map<String, Value>,
    /// The request's `_meta` (progress token, trace context, 2026-07-28 per-request fields).
    pub meta: Map<String, Value>,
    /// The revision the request is served under.
    pub version: ProtocolVersion,
    /// The client's name and capabilities.
    pub client: Arc<ClientInfo>,
    /// The handshake-era session the request belongs to (`None` for stateless 2026-07-28 requests).
    pub session: Option<Session>,
    /// Where notifications for this request go.
    pub notifier: Notifier,
    /// Cancelled when the client cancels the request.
    pub cancel: CancellationToken,
    /// The transport it arrived on.
    pub transport: TransportKind,
    /// Who is calling: anonymous until the transport has authenticated the request.
    pub principal: Arc<Principal>,
    /// The client's network address, when the transport has one (behind trusted proxies: the forwarded one).
    pub source: Option<std::net::IpAddr>,
    pub(crate) log: LogGate,
}

impl fmt::Debug for McpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("version", &self.version)
            .field("transport", &self.transport)
            .field("principal", &self.principal.id)
            .finish_non_exhaustive()
    }
}

impl McpRequest {
    /// For `tools/call`: the tool's name, when present and a string.
    pub fn tool_name(&self) -> Option<&str> {
        if self.method == method::TOOLS_CALL { self.params.get("name").and_then(Value::as_str) } else { None }
    }
}

/// The answer to one [`McpRequest`]: the serialized result or a JSON-RPC error, and how it ended.
#[derive(Debug, Clone)]
pub struct McpResponse {
    /// The result (serialized once) or the error.
    pub body: Result<Box<RawValue>, ErrorObject>,
    /// How the request ended.
    pub outcome: Outcome,
}

impl McpResponse {
    /// A JSON-RPC error answer.
    pub fn error(error: ErrorObject, outcome: Outcome) -> Self {
        Self { body: Err(error), outcome }
    }
}

/// The corridor as one boxed tower service. Layers wrap it; transports call it.
pub type McpService = BoxCloneSyncService<McpRequest, McpResponse, Infallible>;
