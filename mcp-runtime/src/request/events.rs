//! The server's change events and the listeners that hear them: one in-process bus.
//!
//! A change is a level trigger ("this changed, fetch again"), never a payload: the tool list changed, a
//! resource was updated. [`Bus::publish`] only marks what each concerned listener has pending and wakes it,
//! so publishing never waits for a client. A listener that is slow to take its events finds them coalesced:
//! each kind of list change once, each updated URI once (and only URIs it subscribed to, themselves capped),
//! so what a listener holds is bounded whatever the rate of changes.
//!
//! Who listens: a handshake-era session (its stdio connection, its standalone GET stream, its legacy SSE
//! stream), and each 2026-07-28 `subscriptions/listen` request. Listen requests are capped in total and per
//! caller ([`ListenLimits`]; one beyond is refused with [`ListenRefused`]); a session's own listener
//! ([`Bus::listen_for_session`]) is bounded by the session caps instead. A [`Listener`] leaves the bus when it is
//! dropped; [`Bus::close`] (server shutdown) ends every listener's [`Listener::next`].

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use super::principal::Principal;
use crate::protocol::{ErrorCode, ErrorObject, OutgoingNotification, method};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Tools were added, removed, enabled or disabled.
    Tools,
    /// Prompts were added, removed, enabled or disabled.
    Prompts,
    /// Resources or resource templates were added, removed, enabled or disabled.
    Resources,
    /// The content of the resource with this URI changed.
    ResourceUpdated(Arc<str>),
    /// The task with this id changed (its status, message, requests to the client or outcome).
    Task(Arc<str>),
}

/// Who may hear of a change: a caller hears of a list change only when it may see one of the entries that
/// changed.
#[derive(Debug, Clone, Default)]
pub enum Audience {
    /// Every listener.
    #[default]
    Everyone,
    /// Listeners whose principal holds every scope of at least one of these sets (an empty set: everyone).
    Scoped(Vec<Arc<[Arc<str>]>>),
}

impl Audience {
    fn admits(&self, principal: &Principal) -> bool {
        match self {
            Self::Everyone => true,
            Self::Scoped(sets) => sets.iter().any(|set| set.iter().all(|scope| principal.has_scope(scope))),
        }
    }
}

/// A set of resource URIs a listener hears updates of, shared with whoever changes it (a handshake
/// session's `resources/subscribe`), capped at [`MAX_SUBSCRIPTIONS`].
#[derive(Debug, Clone, Default)]
pub struct Subscriptions(Arc<Mutex<BTreeSet<String>>>);

/// At most this many resource subscriptions per session or per `subscriptions/listen`: the client chooses
/// the URIs, and state a client can grow must be bounded.
pub const MAX_SUBSCRIPTIONS: usize = 1024;

impl Subscriptions {
    /// A fixed set (a `subscriptions/listen` filter).
    ///
    /// # Errors
    /// −32602 when there are more than [`MAX_SUBSCRIPTIONS`] URIs.
    pub fn of(uris: impl IntoIterator<Item = String>) -> Result<Self, ErrorObject> {
        let set: BTreeSet<String> = uris.into_iter().collect();
        if set.len() > MAX_SUBSCRIPTIONS {
            return Err(too_many());
        }
        Ok(Self(Arc::new(Mutex::new(set))))
    }

    fn set(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `uri`.
    ///
    /// # Errors
    /// −32602 when [`MAX_SUBSCRIPTIONS`] other URIs are held already.
    pub fn insert(&self, uri: String) -> Result<(), ErrorObject> {
        let mut set = self.set();
        if set.len() >= MAX_SUBSCRIPTIONS && !set.contains(&uri) {
            return Err(too_many());
        }
        set.insert(uri);
        Ok(())
    }

    /// Removes `uri` (one never subscribed to: nothing to do).
    pub fn remove(&self, uri: &str) {
        self.set().remove(uri);
    }

    /// Whether `uri` is in the set.
    pub fn contains(&self, uri: &str) -> bool {
        self.set().contains(uri)
    }

    /// Every URI, sorted.
    pub fn to_vec(&self) -> Vec<String> {
        self.set().iter().cloned().collect()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.set().is_empty()
    }
}

fn too_many() -> ErrorObject {
    ErrorObject::invalid_params(format_args!(
        "at most {MAX_SUBSCRIPTIONS} resource subscriptions are held at once: unsubscribe first"
    ))
}

/// What a listener wants to hear.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `notifications/tools/list_changed`.
    pub tools: bool,
    /// `notifications/prompts/list_changed`.
    pub prompts: bool,
    /// `notifications/resources/list_changed`.
    pub resources: bool,
    /// `notifications/resources/updated` for these URIs.
    pub updates: Subscriptions,
    /// 2026-07-28 `notifications/tasks` for these task ids (the caller's own: checked when it listens).
    pub tasks: Subscriptions,
}

/// The caps on listeners (`[listen]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenLimits {
    /// Listeners at once, in all.
    pub max_total: usize,
    /// Listeners at once, per caller (its principal, or its network when anonymous).
    pub max_per_caller: usize,
}

impl Default for ListenLimits {
    fn default() -> Self {
        Self { max_total: 1024, max_per_caller: 8 }
    }
}

/// Why a listener was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListenRefused {
    /// Every place is taken.
    #[error("the server holds its maximum of {0} change listeners: try again later")]
    Server(usize),
    /// The caller holds its whole share.
    #[error("this caller holds its maximum of {0} change listeners: close one first")]
    Caller(usize),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Closed,
}

impl ListenRefused {
    /// The JSON-RPC error: −32012 (the server's rate-limit code, `data.limit = "listeners"`) for a cap,
    /// −32603 when the server is closing.
    pub fn error(&self) -> ErrorObject {
        match self {
            Self::Closed => ErrorObject::internal(self),
            _ => ErrorObject::new(ErrorCode(-32012), self.to_string()).with_data(json!({ "limit": "listeners" })),
        }
    }
}

/// What a listener has to hear about, coalesced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// The tool list changed.
    pub tools: bool,
    /// The prompt list changed.
    pub prompts: bool,
    /// The resource list (or the templates) changed.
    pub resources: bool,
    /// These subscribed resources changed, each once, sorted.
    pub updated: BTreeSet<Arc<str>>,
    /// These subscribed tasks changed, each once, sorted (the listener reads each one's state to tell it).
    pub tasks: BTreeSet<Arc<str>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        !self.tools && !self.prompts && !self.resources && self.updated.is_empty() && self.tasks.is_empty()
    }

    /// The notifications that say the list changes and resource updates, list changes first; each carries
    /// `meta` as its `_meta` when given (2026-07-28: the subscription id). Changed tasks are not among them:
    /// saying one needs its state, which the listener reads ([`Pending::tasks`]).
    pub fn notifications(self, meta: Option<&Map<String, Value>>) -> Vec<OutgoingNotification> {
        let params = |mut params: Map<String, Value>| {
            if let Some(meta) = meta {
                params.insert("_meta".to_owned(), Value::Object(meta.clone()));
            }
            Value::Object(params)
        };
        let lists = [
            (self.tools, method::NOTIFICATION_TOOLS_LIST_CHANGED),
            (self.prompts, method::NOTIFICATION_PROMPTS_LIST_CHANGED),
            (self.resources, method::NOTIFICATION_RESOURCES_LIST_CHANGED),
        ];
        let mut out: Vec<OutgoingNotification> = lists
            .into_iter()
            .filter(|(changed, _)| *changed)
            .map(|(_, name)| OutgoingNotification::new(name, params(Map::new())))
            .collect();
        for uri in self.updated {
            let mut body = Map::new();
            body.insert("uri".to_owned(), Value::String(uri.to_string()));
            out.push(OutgoingNotification::new(method::NOTIFICATION_RESOURCES_UPDATED, params(body)));
        }
        out
    }
}

/// The in-process event bus of one server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Bus {
    inner: Arc<BusInner>,
}

#[derive(Debug)]
struct BusInner {
    /// Whether list changes are told only to those who may see what changed (scoped listings).
    scoped: AtomicBool,
    closed: AtomicBool,
    next_id: AtomicU64,
    listeners: Mutex<Listeners>,
}

#[derive(Debug)]
struct Listeners {
    limits: ListenLimits,
    slots: HashMap<u64, Arc<Slot>>,
    per_caller: HashMap<Arc<str>, usize>,
    /// How many of `slots` are handshake sessions' listeners (not counted in the caps).
    sessions: usize,
}

#[derive(Debug)]
struct Slot {
    /// The caller's share it is counted in; `None` for a handshake session's own listener.
    caller: Option<Arc<str>>,
    principal: Arc<Principal>,
    filter: Filter,
    pending: Mutex<Pending>,
    wake: Notify,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new(ListenLimits::default())
    }
}

impl Bus {
    /// A bus admitting listeners within `limits`.
    pub fn new(limits: ListenLimits) -> Self {
        Self {
            inner: Arc::new(BusInner {
                scoped: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
                listeners: Mutex::new(Listeners {
                    limits,
                    slots: HashMap::new(),
                    per_caller: HashMap::new(),
                    sessions: 0,
                }),
            }),
        }
    }

    fn listeners(&self) -> MutexGuard<'_, Listeners> {
        self.inner.listeners.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the caps; listeners already admitted stay.
    pub fn set_limits(&self, limits: ListenLimits) {
        self.listeners().limits = limits;
    }

    /// Tells list changes only to listeners that may see what changed (set when listings are filtered by
    /// the caller's scopes); otherwise every listener hears every change it asked for.
    pub fn set_scoped(&self, scoped: bool) {
        self.inner.scoped.store(scoped, Ordering::Relaxed);
    }

    /// A new listener for `principal`, counted in `caller`'s share.
    ///
    /// # Errors
    /// When the server's or the caller's cap is reached, or the bus is closed.
    pub fn listen(&self, principal: Arc<Principal>, caller: &str, filter: Filter) -> Result<Listener, ListenRefused> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(ListenRefused::Closed);
        }
        let mut listeners = self.listeners();
        let limits = listeners.limits;
        if listeners.slots.len() - listeners.sessions >= limits.max_total {
            return Err(ListenRefused::Server(limits.max_total));
        }
        let held = listeners.per_caller.get(caller).copied().unwrap_or(0);
        if held >= limits.max_per_caller {
            return Err(ListenRefused::Caller(limits.max_per_caller));
        }
        let caller: Arc<str> = Arc::from(caller);
        listeners.per_caller.insert(Arc::clone(&caller), held + 1);
        Ok(self.admit(&mut listeners, principal, Some(caller), filter))
    }

    /// The listener of a handshake session (its stdio connection, its GET or SSE stream). It is not counted
    /// in the `[listen]` caps: sessions have caps of their own (`http.max_sessions`,
    /// `http.max_sessions_per_caller`; stdio has one), and a session that could not hear of changes would
    /// be a broken session, not a refused request.
    ///
    /// # Errors
    /// Only when the bus is closed.
    pub fn listen_for_session(&self, principal: Arc<Principal>, filter: Filter) -> Result<Listener, ListenRefused> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(ListenRefused::Closed);
        }
        let mut listeners = self.listeners();
        listeners.sessions += 1;
        Ok(self.admit(&mut listeners, principal, None, filter))
    }

    fn admit(
        &self,
        listeners: &mut Listeners,
        principal: Arc<Principal>,
        caller: Option<Arc<str>>,
        filter: Filter,
    ) -> Listener {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot { caller, principal, filter, pending: Mutex::default(), wake: Notify::new() });
        listeners.slots.insert(id, Arc::clone(&slot));
        Listener { id, bus: Arc::clone(&self.inner), slot }
    }

    /// Marks `change` pending for every listener that asked for it and may hear it, and wakes them. Never
    /// waits for a listener.
    pub fn publish(&self, change: &Change, audience: &Audience) {
        let scoped = self.inner.scoped.load(Ordering::Relaxed);
        let slots: Vec<Arc<Slot>> = self.listeners().slots.values().cloned().collect();
        for slot in slots {
            let filter = &slot.filter;
            let wanted = match change {
                Change::Tools => filter.tools,
                Change::Prompts => filter.prompts,
                Change::Resources => filter.resources,
                Change::ResourceUpdated(uri) => filter.updates.contains(uri),
                Change::Task(id) => filter.tasks.contains(id),
            };
            // A task is heard only by listeners that named it, which its owner alone may do.
            let task = matches!(change, Change::Task(_));
            if !wanted || (scoped && !task && !audience.admits(&slot.principal)) {
                continue;
            }
            {
                let mut pending = slot.pending.lock().unwrap_or_else(PoisonError::into_inner);
                match change {
                    Change::Tools => pending.tools = true,
                    Change::Prompts => pending.prompts = true,
                    Change::Resources => pending.resources = true,
                    Change::ResourceUpdated(uri) => {
                        pending.updated.insert(Arc::clone(uri));
                    }
                    Change::Task(id) => {
                        pending.tasks.insert(Arc::clone(id));
                    }
                }
            }
            slot.wake.notify_one();
        }
    }

    /// Ends every listener (server shutdown): their [`Listener::next`] returns `None` once what they have
    /// pending is taken, and no listener is admitted any more.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        for slot in self.listeners().slots.values() {
            slot.wake.notify_one();
        }
    }

    /// Whether [`Bus::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// How many listeners there are.
    pub fn len(&self) -> usize {
        self.listeners().slots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One listener on a [`Bus`]; it leaves the bus when dropped.
#[derive(Debug)]
pub struct Listener {
    id: u64,
    bus: Arc<BusInner>,
    slot: Arc<Slot>,
}

impl Listener {
    /// What it asked to hear.
    pub fn filter(&self) -> &Filter {
        &self.slot.filter
    }

    /// Waits for something to hear and takes all of it; `None` once the bus is closed and nothing is
    /// pending.
    pub async fn next(&self) -> Option<Pending> {
        loop {
            let woken = self.slot.wake.notified();
            {
                let mut pending = self.slot.pending.lock().unwrap_or_else(PoisonError::into_inner);
                if !pending.is_empty() {
                    return Some(std::mem::take(&mut *pending));
                }
            }
            if self.bus.closed.load(Ordering::Acquire) {
                return None;
            }
            woken.await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut listeners = self.bus.listeners.lock().unwrap_or_else(PoisonError::into_inner);
        if listeners.slots.remove(&self.id).is_none() {
            return;
        }
        match &self.slot.caller {
            None => listeners.sessions -= 1,
            Some(caller) => {
                if let Some(held) = listeners.per_caller.get_mut(caller) {
                    *held -= 1;
                    if *held == 0 {
                        listeners.per_caller.remove(caller);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::AuthMethod;

    fn anyone() -> Arc<Principal> {
        Arc::new(Principal::anonymous())
    }

    fn everything() -> Filter {
        Filter { tools: true, prompts: true, resources: true, ..Filter::default() }
    }

    #[tokio::test]
    async fn changes_coalesce_until_taken() {
        let bus = Bus::default();
        let listener = bus.listen(anyone(), "a", everything()).unwrap();
        listener.filter().updates.insert("stock://A".into()).unwrap();
        for _ in 0..1000 {
            bus.publish(&Change::Tools, &Audience::Everyone);
            bus.publish(&Change::ResourceUpdated("stock://A".into()), &Audience::Everyone);
            bus.publish(&Change::ResourceUpdated("stock://B".into()), &Audience::Everyone);
        }
        let pending = listener.next().await.unwrap();
        assert!(pending.tools && !pending.prompts && !pending.resources);
        assert_eq!(pending.updated.iter().map(|u| &**u).collect::<Vec<_>>(), ["stock://A"]);
        let notes = pending.notifications(None);
        assert_eq!(notes.len(), 2, "one list change and one update, whatever their count");
    }

    #[tokio::test]
    async fn the_filter_and_the_audience_are_honoured() {
        let bus = Bus::default();
        bus.set_scoped(true);
        let reader = Arc::new(Principal::new("r", ["inventory:read"], AuthMethod::ApiKey));
        let tools_only = bus.listen(Arc::clone(&reader), "r", Filter { tools: true, ..Filter::default() }).unwrap();
        let admin_tool: Arc<[Arc<str>]> = Arc::from(vec![Arc::from("inventory:admin")]);
        bus.publish(&Change::Tools, &Audience::Scoped(vec![admin_tool]));
        bus.publish(&Change::Prompts, &Audience::Everyone);
        let read_tool: Arc<[Arc<str>]> = Arc::from(vec![Arc::from("inventory:read")]);
        bus.publish(&Change::Tools, &Audience::Scoped(vec![read_tool]));
        let pending = tools_only.next().await.unwrap();
        assert_eq!(pending, Pending { tools: true, ..Pending::default() });
        bus.close();
        assert_eq!(tools_only.next().await, None);
    }

    #[tokio::test]
    async fn a_task_is_heard_only_by_listeners_that_named_it_whatever_the_scopes() {
        let bus = Bus::default();
        bus.set_scoped(true);
        let named = Filter { tasks: Subscriptions::of(["t1".to_owned()]).unwrap(), ..Filter::default() };
        let owner = bus.listen(anyone(), "a", named).unwrap();
        let other = bus.listen(anyone(), "b", everything()).unwrap();
        for _ in 0..100 {
            bus.publish(&Change::Task("t1".into()), &Audience::Everyone);
            bus.publish(&Change::Task("t2".into()), &Audience::Everyone);
        }
        let pending = owner.next().await.unwrap();
        assert_eq!(pending.tasks.iter().map(|t| &**t).collect::<Vec<_>>(), ["t1"], "coalesced, only its task");
        assert!(pending.notifications(None).is_empty(), "the listener tells a task from its state");
        bus.publish(&Change::Tools, &Audience::Everyone);
        assert_eq!(other.next().await.unwrap(), Pending { tools: true, ..Pending::default() });
    }

    #[test]
    fn listeners_are_capped_and_leave_when_dropped() {
        let bus = Bus::new(ListenLimits { max_total: 3, max_per_caller: 2 });
        let a1 = bus.listen(anyone(), "a", everything()).unwrap();
        let _a2 = bus.listen(anyone(), "a", everything()).unwrap();
        assert_eq!(bus.listen(anyone(), "a", everything()).unwrap_err(), ListenRefused::Caller(2));
        let _b = bus.listen(anyone(), "b", everything()).unwrap();
        assert_eq!(bus.listen(anyone(), "c", everything()).unwrap_err(), ListenRefused::Server(3));
        drop(a1);
        assert_eq!(bus.len(), 2);
        assert!(bus.listen(anyone(), "a", everything()).is_ok());
        let sessions: Vec<Listener> = (0..5).map(|_| bus.listen_for_session(anyone(), everything()).unwrap()).collect();
        assert!(bus.listen(anyone(), "e", everything()).is_ok(), "sessions' listeners are not in the caps");
        drop(sessions);
        bus.close();
        assert_eq!(bus.listen(anyone(), "d", everything()).unwrap_err(), ListenRefused::Closed);
        assert_eq!(bus.listen_for_session(anyone(), everything()).unwrap_err(), ListenRefused::Closed);
    }
}
