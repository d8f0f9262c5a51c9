//! Handshake-era HTTP sessions (`Mcp-Session-Id`): random ids, a cap, idle expiry, and everything a
//! session owns (its protocol state, its SSE streams, its in-flight requests and its requests to the
//! client).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::sse::EventLog;
use crate::protocol::{Outgoing, RequestId};
use crate::request::{Listener, Pending, PendingRequests, Session};

/// SSE streams one session keeps for resumption; the oldest finished ones go first.
const STREAMS_PER_SESSION: usize = 64;

/// One open session.
#[derive(Debug)]
pub(crate) struct HttpSession {
    pub(crate) id: String,
    /// Who opened it; another principal presenting the id is told it does not exist.
    pub(crate) owner: Option<String>,
    /// Whose share of the sessions it takes (the principal, or the address when nobody is authenticated).
    caller: String,
    pub(crate) protocol: Session,
    pub(crate) to_client: Arc<PendingRequests>,
    pub(crate) closed: CancellationToken,
    last_seen: Mutex<Instant>,
    next_stream: AtomicU64,
    streams: Mutex<Vec<Arc<EventLog>>>,
    in_flight: Mutex<HashMap<RequestId, CancellationToken>>,
    /// The standalone GET streams a client is reading now, latest last: where change notifications go.
    outlets: Mutex<Outlets>,
    /// Woken when an outlet is attached.
    outlet_attached: Notify,
    /// Whether a task delivers the session's change notifications.
    delivering: AtomicBool,
}

#[derive(Debug, Default)]
struct Outlets {
    next: u64,
    open: Vec<(u64, Arc<EventLog>)>,
}

/// A standalone GET stream being read: the session's outlet until it is dropped (with the response body).
pub(crate) struct Attached {
    session: Arc<HttpSession>,
    id: u64,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.session.outlets.lock().unwrap_or_else(PoisonError::into_inner).open.retain(|(id, _)| *id != self.id);
    }
}

impl HttpSession {
    fn touch(&self) {
        *self.last_seen.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_seen.lock().unwrap_or_else(PoisonError::into_inner).elapsed()
    }

    /// Whether the session is idle past `limit`: nothing came from its client for that long, and no
    /// standalone GET stream of it is being read (a client that waits for notifications is not idle).
    fn expired(&self, limit: Duration) -> bool {
        self.idle_for() > limit && self.outlets.lock().unwrap_or_else(PoisonError::into_inner).open.is_empty()
    }

    /// A new SSE stream of this session, kept for resumption.
    pub(crate) fn open_stream(&self, capacity: usize) -> Arc<EventLog> {
        let log = EventLog::new(self.next_stream.fetch_add(1, Ordering::Relaxed), capacity);
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if streams.len() >= STREAMS_PER_SESSION {
            let victim = streams.iter().position(|s| s.is_finished()).unwrap_or(0);
            streams.remove(victim);
        }
        streams.push(Arc::clone(&log));
        log
    }

    pub(crate) fn stream(&self, id: u64) -> Option<Arc<EventLog>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner).iter().find(|s| s.stream_id() == id).cloned()
    }

    /// Registers a request so `notifications/cancelled` can reach it; `None` when the id is in flight.
    pub(crate) fn start_request(&self, id: &RequestId) -> Option<CancellationToken> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        if in_flight.contains_key(id) {
            return None;
        }
        let token = self.closed.child_token();
        in_flight.insert(id.clone(), token.clone());
        Some(token)
    }

    pub(crate) fn end_request(&self, id: &RequestId) {
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Makes `log` (a standalone GET stream, its reader attached) the session's outlet for change
    /// notifications while the returned guard lives.
    pub(crate) fn attach(self: &Arc<Self>, log: Arc<EventLog>) -> Attached {
        let id = {
            let mut outlets = self.outlets.lock().unwrap_or_else(PoisonError::into_inner);
            let id = outlets.next;
            outlets.next += 1;
            outlets.open.push((id, log));
            id
        };
        self.outlet_attached.notify_waiters();
        Attached { session: Arc::clone(self), id }
    }

    /// The latest attached outlet, waiting for one while there is none.
    async fn outlet(&self) -> Arc<EventLog> {
        loop {
            let attached = self.outlet_attached.notified();
            tokio::pin!(attached);
            attached.as_mut().enable();
            if let Some((_, log)) = self.outlets.lock().unwrap_or_else(PoisonError::into_inner).open.last() {
                return Arc::clone(log);
            }
            attached.await;
        }
    }

    /// Claims the delivery of this session's change notifications: `false` when a task delivers them
    /// already (or another request claimed it first).
    pub(crate) fn claim_delivery(&self) -> bool {
        !self.delivering.swap(true, Ordering::AcqRel)
    }

    /// Gives a claim back: no listener could be had.
    pub(crate) fn release_delivery(&self) {
        self.delivering.store(false, Ordering::Release);
    }

    /// Delivers what the session's listener hears on the session's standalone GET stream (Streamable
    /// HTTP), until the session ends or the server shuts down; the listener then leaves the bus at once.
    ///
    /// While no GET stream is open, nothing is sent and nothing is lost: what changes stays pending,
    /// coalesced (each kind of list change once, each subscribed resource once), and goes out as soon as
    /// the client opens one; with several open, the latest carries them. Notifications go out as fast as
    /// the stream's reader takes them: this task waits for a slow reader, the bus coalesces meanwhile, and
    /// the server never waits for a client.
    pub(crate) fn deliver(self: Arc<Self>, listener: Listener) {
        self.delivering.store(true, Ordering::Release);
        tokio::spawn(async move {
            let closed = self.closed.clone();
            let delivery = async {
                while let Some(mut pending) = listener.next().await {
                    let outlet = self.outlet().await;
                    // What changed again while no stream was open goes out with it, once.
                    if let Some(Some(more)) = listener.next().now_or_never() {
                        pending.tools |= more.tools;
                        pending.prompts |= more.prompts;
                        pending.resources |= more.resources;
                        pending.updated.extend(more.updated);
                    }
                    push(&outlet, pending).await;
                }
            };
            tokio::select! {
                biased;
                () = closed.cancelled() => {}
                () = delivery => {}
            }
            drop(listener);
        });
    }

    pub(crate) fn cancel_request(&self, id: &RequestId) {
        if let Some(token) = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).get(id) {
            token.cancel();
        }
    }
}

/// Why a session could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// No such session, or another principal's: 404, and the client starts again.
    NotFound,
}

/// Why a session could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Every session is taken (`http.max_sessions`): 503.
    Server,
    /// The caller holds its whole share (`http.max_sessions_per_caller`): 429.
    Caller,
}

/// All open sessions.
#[derive(Debug)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Arc<HttpSession>>>,
    max: usize,
    per_caller: usize,
    idle: Duration,
}

impl Sessions {
    pub(crate) fn new(max: usize, per_caller: usize, idle: Duration) -> Self {
        Self { map: Mutex::default(), max, per_caller, idle }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HttpSession>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a session for `owner`, in `caller`'s share; refused when the server's cap or the caller's share
    /// is reached even after expiring idle sessions.
    pub(crate) fn open(&self, owner: Option<String>, caller: String) -> Result<Arc<HttpSession>, Full> {
        let mut map = self.map();
        let held = |map: &HashMap<String, Arc<HttpSession>>| map.values().filter(|s| s.caller == caller).count();
        if map.len() >= self.max || held(&map) >= self.per_caller {
            self.expire_locked(&mut map);
            if map.len() >= self.max {
                return Err(Full::Server);
            }
            if held(&map) >= self.per_caller {
                return Err(Full::Caller);
            }
        }
        let id = new_session_id();
        let session = Arc::new(HttpSession {
            protocol: Session::with_id(&id),
            id,
            owner,
            caller,
            to_client: Arc::default(),
            closed: CancellationToken::new(),
            last_seen: Mutex::new(Instant::now()),
            next_stream: AtomicU64::new(0),
            streams: Mutex::default(),
            in_flight: Mutex::default(),
            outlets: Mutex::default(),
            outlet_attached: Notify::new(),
            delivering: AtomicBool::new(false),
        });
        map.insert(session.id.clone(), Arc::clone(&session));
        Ok(session)
    }

    /// The session with this id, if it exists, is alive, and belongs to `owner`.
    pub(crate) fn get(&self, id: &str, owner: Option<&str>) -> Result<Arc<HttpSession>, Lookup> {
        let session = self.map().get(id).cloned().ok_or(Lookup::NotFound)?;
        if session.owner.as_deref() != owner {
            return Err(Lookup::NotFound);
        }
        if session.expired(self.idle) {
            self.remove(id);
            return Err(Lookup::NotFound);
        }
        session.touch();
        Ok(session)
    }

    /// Ends a session: its requests are cancelled and its streams end.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let removed = self.map().remove(id);
        match removed {
            Some(session) => {
                session.closed.cancel();
                for stream in session.streams.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                    stream.finish();
                }
                true
            }
            None => false,
        }
    }

    /// Ends every session's standalone GET streams (server shutdown: they would carry nothing more, and
    /// would hold their connections open through the whole grace). Sessions and request streams stay.
    pub(crate) fn end_standalone_streams(&self) {
        for session in self.map().values() {
            for stream in session.streams.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                if stream.is_standalone() {
                    stream.finish();
                }
            }
        }
    }

    /// Closes sessions idle past the limit.
    pub(crate) fn expire(&self) {
        let mut map = self.map();
        self.expire_locked(&mut map);
    }

    fn expire_locked(&self, map: &mut HashMap<String, Arc<HttpSession>>) {
        map.retain(|_, session| {
            let keep = !session.expired(self.idle);
            if !keep {
                session.closed.cancel();
            }
            keep
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }
}

/// Pushes what a listener heard onto a stream, as notifications, as fast as its reader takes them (the bus
/// coalesces what changes meanwhile).
async fn push(log: &EventLog, pending: Pending) {
    for notification in pending.notifications(None) {
        log.push_paced(&Outgoing::Notification(notification)).await;
    }
}

/// Delivers what a legacy session's listener hears on its one stream (`GET /sse`), until the session
/// ends (its stream's client went away) or the server shuts down.
pub(crate) fn deliver_to(session: &HttpSession, log: Arc<EventLog>, listener: Listener) {
    session.delivering.store(true, Ordering::Release);
    let closed = session.closed.clone();
    tokio::spawn(async move {
        let delivery = async {
            while let Some(pending) = listener.next().await {
                push(&log, pending).await;
            }
        };
        tokio::select! {
            biased;
            () = closed.cancelled() => {}
            () = delivery => {}
        }
        drop(listener);
    });
}

/// 192 bits from the operating system's CSPRNG, as hex: visible ASCII, unguessable.
fn new_session_id() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_the_cap_holds() {
        let sessions = Sessions::new(2, 8, Duration::from_secs(60));
        let a = sessions.open(None, "ip:1".into()).unwrap();
        let b = sessions.open(None, "ip:2".into()).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 48);
        assert_eq!(sessions.open(None, "ip:3".into()).unwrap_err(), Full::Server, "the cap holds");
        assert!(sessions.remove(&a.id));
        assert!(sessions.open(None, "ip:3".into()).is_ok());
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn one_caller_takes_only_its_share() {
        let sessions = Sessions::new(10, 3, Duration::from_secs(60));
        let greedy: Vec<_> =
            (0..3).map(|_| sessions.open(Some("k:greedy".into()), "k:greedy".into()).unwrap()).collect();
        assert_eq!(sessions.open(Some("k:greedy".into()), "k:greedy".into()).unwrap_err(), Full::Caller);
        assert!(sessions.open(Some("k:other".into()), "k:other".into()).is_ok(), "another caller still gets one");
        assert!(sessions.remove(&greedy[0].id));
        assert!(sessions.open(Some("k:greedy".into()), "k:greedy".into()).is_ok(), "a closed session frees its place");
    }

    #[test]
    fn a_session_belongs_to_its_owner() {
        let sessions = Sessions::new(8, 8, Duration::from_secs(60));
        let s = sessions.open(Some("alice".into()), "k:alice".into()).unwrap();
        assert!(sessions.get(&s.id, Some("alice")).is_ok());
        assert_eq!(sessions.get(&s.id, Some("mallory")).unwrap_err(), Lookup::NotFound);
        assert_eq!(sessions.get(&s.id, None).unwrap_err(), Lookup::NotFound);
    }

    #[test]
    fn idle_sessions_expire() {
        let sessions = Sessions::new(1, 1, Duration::from_millis(0));
        let s = sessions.open(None, "ip:1".into()).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(sessions.get(&s.id, None).is_err());
        assert!(s.closed.is_cancelled());
        assert!(sessions.open(None, "ip:1".into()).is_ok(), "an expired session frees its place");
    }
}
