//! The handshake-era session of a connection: what `initialize` settled, the log level, subscriptions,
//! and the session's change listener until its transport takes it.
//! (Admission of a request under the right revision is `transport::admit`.)

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::client::{ClientInfo, LogGate};
use super::events::{Listener, Subscriptions};
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
    subscriptions: Subscriptions,
    /// The session's listener on the server's bus, from `initialize` until the transport takes it to
    /// deliver what it hears.
    listener: Mutex<Option<Listener>>,
}

impl Default for SessionState {
    fn default() -> Self {
        Self {
            id: None,
            handshake: OnceLock::new(),
            initialized: AtomicBool::new(false),
            log_level: Arc::new(AtomicU8::new(LogLevel::Info as u8)),
            subscriptions: Subscriptions::default(),
            listener: Mutex::default(),
        }
    }
}

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

    /// The resources the client subscribed to (`resources/subscribe`, at most
    /// [`MAX_SUBSCRIPTIONS`](super::MAX_SUBSCRIPTIONS)): what its listener hears updates of.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.inner.subscriptions
    }

    /// Keeps the session's change listener (`initialize` registers it) until the transport takes it.
    pub(crate) fn set_listener(&self, listener: Listener) {
        *self.inner.listener.lock().unwrap_or_else(PoisonError::into_inner) = Some(listener);
    }

    /// Takes the session's change listener, to deliver what it hears on the session's outbound stream (the
    /// stdio connection, the standalone GET stream, the legacy SSE stream). `None` when `initialize`
    /// registered none (the server advertises nothing to listen for, or the listener caps refused it) or
    /// the transport took it already. A listener never taken leaves the bus with the session.
    pub(crate) fn take_listener(&self) -> Option<Listener> {
        self.inner.listener.lock().unwrap_or_else(PoisonError::into_inner).take()
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
    use crate::request::MAX_SUBSCRIPTIONS;

    #[test]
    fn subscriptions_are_per_session_and_bounded() {
        let (a, b) = (Session::new(), Session::new());
        let (a, b) = (a.subscriptions(), b.subscriptions());
        a.insert("test://x".into()).unwrap();
        assert!(a.contains("test://x") && !b.contains("test://x"));
        a.remove("test://x");
        a.remove("test://never");
        assert!(a.is_empty());
        for i in 0..MAX_SUBSCRIPTIONS {
            a.insert(format!("test://{i}")).unwrap();
        }
        assert_eq!(a.insert("test://one-more".into()).unwrap_err().code, ErrorCode::INVALID_PARAMS);
        assert!(a.insert("test://0".into()).is_ok(), "subscribing again is not growth");
    }

    #[test]
    fn a_session_holds_its_listener_until_taken_or_gone() {
        let bus = crate::request::Bus::default();
        let filter = || crate::request::Filter { tools: true, ..crate::request::Filter::default() };
        let listener = |bus: &crate::request::Bus| bus.listen(crate::request::anonymous(), "a", filter()).unwrap();
        let session = Session::new();
        session.set_listener(listener(&bus));
        let taken = session.take_listener().expect("the listener initialize registered");
        assert!(session.take_listener().is_none(), "taken once");
        assert_eq!(bus.len(), 1);
        drop(taken);
        assert!(bus.is_empty());
        let never_taken = Session::new();
        never_taken.set_listener(listener(&bus));
        drop(never_taken);
        assert!(bus.is_empty(), "a listener never taken leaves with its session");
    }
}
