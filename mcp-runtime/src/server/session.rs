//! Lifecycle: the handshake-era session of a connection, and admission of each request into the corridor
//! under the right revision.
//!
//! A connection serves both eras at once, as the 2026-07-28 revision allows: a request carrying
//! `io.modelcontextprotocol/protocolVersion` in `_meta` is served statelessly under that revision; any
//! other request belongs to the connection's handshake session, opened by `initialize`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::context::{ClientInfo, LogGate, Notifier};
use super::request::{McpRequest, TransportKind};
use crate::protocol::{ErrorCode, ErrorObject, Implementation, LogLevel, ProtocolVersion, Request, meta};

/// A connection's handshake state (stdio: the process; HTTP: one `Mcp-Session-Id`). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Session {
    inner: Arc<SessionState>,
}

#[derive(Debug)]
struct SessionState {
    id: Option<Arc<str>>,
    handshake: OnceLock<Handshake>,
    initialized: AtomicBool,
    log_level: Arc<AtomicU8>,
    subscriptions: Mutex<BTreeSet<String>>,
}

impl Default for SessionState {
    fn default() -> Self {
        Self {
            id: None,
            handshake: OnceLock::new(),
            initialized: AtomicBool::new(false),
            log_level: Arc::new(AtomicU8::new(LogLevel::Info as u8)),
            subscriptions: Mutex::default(),
        }
    }
}

/// At most this many resource subscriptions per session: the client chooses the URIs, and state a client
/// can grow must be bounded.
pub const MAX_SUBSCRIPTIONS: usize = 1024;

/// What `initialize` settled.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The negotiated revision.
    pub version: ProtocolVersion,
    /// The client's name and capabilities.
    pub client: Arc<ClientInfo>,
}

impl Session {
    /// A new, not yet initialized session.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new session the transport knows by `id` (HTTP: its `Mcp-Session-Id`), reported on spans as
    /// `mcp.session.id`.
    pub fn with_id(id: &str) -> Self {
        Self { inner: Arc::new(SessionState { id: Some(Arc::from(id)), ..SessionState::default() }) }
    }

    /// The transport's id for the session, when it has one.
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The handshake, once `initialize` succeeded.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.inner.handshake.get()
    }

    /// Records the outcome of `initialize`.
    ///
    /// # Errors
    /// When the session was already initialized (the specification allows one `initialize`).
    pub(crate) fn open(&self, handshake: Handshake) -> Result<(), ErrorObject> {
        self.inner
            .handshake
            .set(handshake)
            .map_err(|_| ErrorObject::invalid_request("the session is already initialized"))
    }

    /// Records `notifications/initialized`.
    pub fn mark_initialized(&self) {
        self.inner.initialized.store(true, Ordering::Relaxed);
    }

    /// Whether the client sent `notifications/initialized`.
    pub fn is_initialized(&self) -> bool {
        self.inner.initialized.load(Ordering::Relaxed)
    }

    /// Sets the least severe level sent as `notifications/message` (`logging/setLevel`).
    pub fn set_log_level(&self, level: LogLevel) {
        self.inner.log_level.store(level as u8, Ordering::Relaxed);
    }

    /// Records `resources/subscribe`.
    ///
    /// # Errors
    /// −32602 when the session already holds [`MAX_SUBSCRIPTIONS`] other subscriptions.
    pub(crate) fn subscribe(&self, uri: String) -> Result<(), ErrorObject> {
        let mut subscriptions = self.inner.subscriptions.lock().unwrap_or_else(PoisonError::into_inner);
        if subscriptions.len() >= MAX_SUBSCRIPTIONS && !subscriptions.contains(&uri) {
            return Err(ErrorObject::invalid_params(format_args!(
                "this session already holds {MAX_SUBSCRIPTIONS} resource subscriptions: unsubscribe first"
            )));
        }
        subscriptions.insert(uri);
        Ok(())
    }

    /// Records `resources/unsubscribe` (of a URI never subscribed to: nothing to do).
    pub(crate) fn unsubscribe(&self, uri: &str) {
        self.inner.subscriptions.lock().unwrap_or_else(PoisonError::into_inner).remove(uri);
    }

    /// Whether the client subscribed to updates of `uri`.
    pub fn is_subscribed(&self, uri: &str) -> bool {
        self.inner.subscriptions.lock().unwrap_or_else(PoisonError::into_inner).contains(uri)
    }

    /// The URIs the client subscribed to, sorted.
    pub fn subscriptions(&self) -> Vec<String> {
        self.inner.subscriptions.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    /// The revision this session's requests are served under, if any was negotiated.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.handshake().map(|h| h.version)
    }

    /// Admits a decoded request: picks its revision (per-request `_meta` or this session's handshake),
    /// checks the per-request fields 2026-07-28 requires, and builds the corridor's request.
    ///
    /// # Errors
    /// The JSON-RPC error to answer with: −32022 for an unsupported revision (with the supported ones in
    /// `data`), −32602 for missing or malformed per-request fields or a request before `initialize`.
    pub fn admit(
        &self,
        request: Request,
        notifier: Notifier,
        cancel: CancellationToken,
        transport: TransportKind,
    ) -> Result<McpRequest, ErrorObject> {
        let Request { id, method, mut params } = request;
        let meta = match params.remove("_meta") {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(ErrorObject::invalid_params("_meta must be an object")),
        };
        let (version, client, session, log) = if method != "initialize" && meta.contains_key(meta::PROTOCOL_VERSION) {
            let stateless = Stateless::read(&meta)?;
            (stateless.version, Arc::new(stateless.client), None, LogGate::Fixed(stateless.log_level))
        } else if let Some(h) = self.handshake() {
            (h.version, Arc::clone(&h.client), Some(self.clone()), LogGate::Session(Arc::clone(&self.inner.log_level)))
        } else if method == "initialize" || method == "ping" {
            let log = LogGate::Session(Arc::clone(&self.inner.log_level));
            (ProtocolVersion::LATEST_HANDSHAKE, Arc::default(), Some(self.clone()), log)
        } else {
            return Err(ErrorObject::invalid_params(format_args!(
                "no protocol version for `{method}`: send `initialize` first (revisions up to 2025-11-25), \
                 or carry `{}` and `{}` in `_meta` (2026-07-28)",
                meta::PROTOCOL_VERSION,
                meta::CLIENT_CAPABILITIES
            )));
        };
        let principal = super::principal::anonymous();
        Ok(McpRequest {
            id,
            method,
            params,
            meta,
            version,
            client,
            session,
            notifier,
            cancel,
            transport,
            principal,
            source: None,
            log,
        })
    }
}

/// The per-request fields of a 2026-07-28 request.
struct Stateless {
    version: ProtocolVersion,
    client: ClientInfo,
    log_level: Option<LogLevel>,
}

impl Stateless {
    fn read(meta: &Map<String, Value>) -> Result<Self, ErrorObject> {
        let requested = match meta.get(meta::PROTOCOL_VERSION) {
            Some(Value::String(v)) => v.as_str(),
            _ => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` must be a string",
                    meta::PROTOCOL_VERSION
                )));
            }
        };
        let version = match requested.parse::<ProtocolVersion>() {
            Ok(v) if v.is_stateless() => v,
            _ => return Err(unsupported_version(requested)),
        };
        let capabilities = match meta.get(meta::CLIENT_CAPABILITIES) {
            Some(Value::Object(c)) => c.clone(),
            Some(_) => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` must be an object",
                    meta::CLIENT_CAPABILITIES
                )));
            }
            None => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` is required under {version}",
                    meta::CLIENT_CAPABILITIES
                )));
            }
        };
        let implementation = match meta.get(meta::CLIENT_INFO) {
            None => None,
            Some(v) => Some(Implementation::deserialize(v).map_err(|e| {
                ErrorObject::invalid_params(format_args!("`_meta.{}` is malformed: {e}", meta::CLIENT_INFO))
            })?),
        };
        let log_level = match meta.get(meta::LOG_LEVEL) {
            None => None,
            Some(v) => Some(LogLevel::deserialize(v).map_err(|_| {
                ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` must be one of debug, info, notice, warning, error, critical, alert, emergency",
                    meta::LOG_LEVEL
                ))
            })?),
        };
        Ok(Self { version, client: ClientInfo { implementation, capabilities }, log_level })
    }
}

/// −32022 with the revisions this server speaks, so the client can retry with one of them.
pub(crate) fn unsupported_version(requested: &str) -> ErrorObject {
    ErrorObject::new(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION, format!("unsupported protocol version {requested:?}"))
        .with_data(json!({ "supported": ProtocolVersion::supported_strings(), "requested": requested }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::RequestId;

    fn request(method: &str, params: Value) -> Request {
        let Value::Object(params) = params else { panic!() };
        Request { id: RequestId::number(1), method: method.into(), params }
    }

    fn admit(s: &Session, method: &str, params: Value) -> Result<McpRequest, ErrorObject> {
        s.admit(request(method, params), Notifier::discard(), CancellationToken::new(), TransportKind::InProcess)
    }

    fn modern_meta() -> Value {
        json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}})
    }

    #[test]
    fn stateless_requests_need_no_handshake() {
        let s = Session::new();
        let r = admit(&s, "tools/list", json!({"_meta": modern_meta()})).unwrap();
        assert_eq!(r.version, ProtocolVersion::V2026_07_28);
        assert!(r.session.is_none());
        assert!(!r.params.contains_key("_meta"));
    }

    #[test]
    fn stateless_requests_name_what_is_wrong() {
        let s = Session::new();
        let e = admit(&s, "tools/list", json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("clientCapabilities"));
        let mut meta = modern_meta();
        meta["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
        let e = admit(&s, "tools/list", json!({"_meta": meta})).unwrap_err();
        assert_eq!(e.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(e.data.as_ref().unwrap()["requested"], "2025-11-25");
        assert_eq!(e.data.as_ref().unwrap()["supported"][0], "2026-07-28");
        let mut meta = modern_meta();
        meta["io.modelcontextprotocol/logLevel"] = json!("loud");
        assert_eq!(admit(&s, "tools/list", json!({"_meta": meta})).unwrap_err().code, ErrorCode::INVALID_PARAMS);
    }

    #[test]
    fn handshake_requests_wait_for_initialize_except_ping() {
        let s = Session::new();
        assert_eq!(admit(&s, "tools/list", json!({})).unwrap_err().code, ErrorCode::INVALID_PARAMS);
        assert!(admit(&s, "ping", json!({})).is_ok());
        s.open(Handshake { version: ProtocolVersion::V2025_06_18, client: Arc::default() }).unwrap();
        assert_eq!(admit(&s, "tools/list", json!({})).unwrap().version, ProtocolVersion::V2025_06_18);
        assert!(s.open(Handshake { version: ProtocolVersion::V2025_06_18, client: Arc::default() }).is_err());
    }

    #[test]
    fn subscriptions_are_per_session_and_bounded() {
        let (a, b) = (Session::new(), Session::new());
        a.subscribe("test://x".into()).unwrap();
        assert!(a.is_subscribed("test://x") && !b.is_subscribed("test://x"));
        a.unsubscribe("test://x");
        a.unsubscribe("test://never");
        assert!(a.subscriptions().is_empty());
        for i in 0..MAX_SUBSCRIPTIONS {
            a.subscribe(format!("test://{i}")).unwrap();
        }
        assert_eq!(a.subscribe("test://one-more".into()).unwrap_err().code, ErrorCode::INVALID_PARAMS);
        assert!(a.subscribe("test://0".into()).is_ok(), "subscribing again is not growth");
    }
}
