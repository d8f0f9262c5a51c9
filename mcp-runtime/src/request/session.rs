//! The handshake-era session of a connection: what `initialize` settled, the log level, subscriptions.
//! (Admission of a request under the right revision is `transport::admit`.)

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::client::{ClientInfo, LogGate};
use crate::protocol::{ErrorObject, LogLevel, ProtocolVersion};

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

    /// Which log messages this session's requests may send (`logging/setLevel`).
    pub(crate) fn log_gate(&self) -> LogGate {
        LogGate::Session(Arc::clone(&self.inner.log_level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorCode;

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
