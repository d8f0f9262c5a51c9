//! Change notifications: the listener a handshake-era session gets at `initialize`, and the 2026-07-28
//! `subscriptions/listen` request (SEP-2575), both on the server's [`Bus`](crate::request::Bus).
//!
//! A session's listener hears every kind of list change the server advertises and the resources the
//! session subscribed to (`resources/subscribe`); its transport delivers what it hears on the session's
//! outbound stream. A `subscriptions/listen` request is a stream of its own: acknowledged with the filter
//! it is honoured with, then one frame per change, every frame tagged with the request's id
//! (`_meta."io.modelcontextprotocol/subscriptionId"`), until the server shuts down (answered `{}`) or the
//! client cancels or hangs up (unanswered; its place on the bus is free at once).
//!
//! No timeout applies to a listen: it lasts as long as the client wants. It holds one of its caller's
//! listener places (`[listen] max_listeners_per_caller`), and over stdio one of the connection's
//! `transport.max_in_flight` places.

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::protocol::{ErrorObject, OutgoingNotification, ServerCapabilities, meta, method};
use crate::request::{
    Filter, ListenRefused, Listener, MAX_SUBSCRIPTIONS, McpRequest, McpResponse, Outcome, Principal, Session,
    Subscriptions,
};
use crate::server::App;
use crate::server::format::Cache;
use crate::tasks::{Tasks, wire};

/// What the server announces of each kind: a list change only when the kind is advertised with
/// `listChanged`, resource updates only when resources are advertised with `subscribe`.
#[derive(Debug, Clone, Copy)]
struct Announced {
    tools: bool,
    prompts: bool,
    resources: bool,
    updates: bool,
}

impl Announced {
    fn of(capabilities: &ServerCapabilities) -> Self {
        Self {
            tools: capabilities.tools.as_ref().is_some_and(|c| c.list_changed == Some(true)),
            prompts: capabilities.prompts.as_ref().is_some_and(|c| c.list_changed == Some(true)),
            resources: capabilities.resources.as_ref().is_some_and(|c| c.list_changed == Some(true)),
            updates: capabilities.resources.as_ref().is_some_and(|c| c.subscribe == Some(true)),
        }
    }

    fn anything(self) -> bool {
        self.tools || self.prompts || self.resources || self.updates
    }
}

/// A handshake session's listener: every list change the server announces, and updates of the resources
/// the session subscribes to. `Ok(None)` when the server announces nothing.
///
/// Not counted in the `[listen]` caps: sessions are capped themselves (see [`Bus::listen_for_session`]).
///
/// # Errors
/// When the server is shutting down.
///
/// [`Bus::listen_for_session`]: crate::request::Bus::listen_for_session
pub(crate) fn session_listener(
    app: &App,
    principal: &Arc<Principal>,
    session: &Session,
) -> Result<Option<Listener>, ListenRefused> {
    let announced = Announced::of(app.capabilities());
    if !announced.anything() {
        return Ok(None);
    }
    let filter = Filter {
        tools: announced.tools,
        prompts: announced.prompts,
        resources: announced.resources,
        updates: session.subscriptions().clone(),
        tasks: Subscriptions::default(),
    };
    app.bus().listen_for_session(Arc::clone(principal), filter).map(Some)
}

/// At `initialize`: registers the session's listener, for its transport to take
/// ([`Session::take_listener`]). Only a server shutting down refuses one; `initialize` does not fail for
/// it (it is logged), and over Streamable HTTP the session's GET stream asks again.
pub(crate) fn register_session(app: &App, req: &McpRequest, session: &Session) {
    match session_listener(app, &req.principal, session) {
        Ok(Some(listener)) => session.set_listener(listener),
        Ok(None) => {}
        Err(refused) => tracing::warn!(
            principal = %req.principal.id,
            error = %refused,
            "the session was opened without change notifications: the server is shutting down"
        ),
    }
}

/// The filter a `subscriptions/listen` asks for.
#[derive(Debug, Default)]
struct Requested {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: Vec<String>,
    task_ids: Vec<String>,
}

/// `notifications.<key>`: an optional array of at most [`MAX_SUBSCRIPTIONS`] strings.
fn strings(notifications: &Map<String, Value>, key: &str, what: &str) -> Result<Vec<String>, ErrorObject> {
    let items = match notifications.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ErrorObject::invalid_params(format_args!("`notifications.{key}` must be an array of {what}")));
        }
    };
    if items.len() > MAX_SUBSCRIPTIONS {
        return Err(ErrorObject::invalid_params(format_args!(
            "`notifications.{key}` holds {} {what}: at most {MAX_SUBSCRIPTIONS} are accepted",
            items.len()
        )));
    }
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| ErrorObject::invalid_params(format_args!("`notifications.{key}` must be an array of {what}")))
}

impl Requested {
    fn read(params: &Map<String, Value>) -> Result<Self, ErrorObject> {
        let Some(Value::Object(notifications)) = params.get("notifications") else {
            return Err(ErrorObject::invalid_params(
                "subscriptions/listen needs `notifications`: an object with toolsListChanged, promptsListChanged, \
                 resourcesListChanged (booleans), resourceSubscriptions (an array of URIs) and taskIds (an array \
                 of task ids), each optional",
            ));
        };
        let flag = |key: &str| match notifications.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ErrorObject::invalid_params(format_args!("`notifications.{key}` must be a boolean"))),
        };
        let uris = strings(notifications, "resourceSubscriptions", "URIs")?;
        let task_ids = strings(notifications, "taskIds", "task ids")?;
        Ok(Self {
            tools: flag("toolsListChanged")?,
            prompts: flag("promptsListChanged")?,
            resources: flag("resourcesListChanged")?,
            uris,
            task_ids,
        })
    }

    /// The subset the server honours, and its wire form (the acknowledgment's `notifications`: only what
    /// is honoured, nothing false or empty). `tasks` are the requested task ids the caller owns.
    fn honour(self, announced: Announced, tasks: Vec<String>) -> Result<(Filter, Value), ErrorObject> {
        let uris = if announced.updates { self.uris } else { Vec::new() };
        let filter = Filter {
            tools: self.tools && announced.tools,
            prompts: self.prompts && announced.prompts,
            resources: self.resources && announced.resources,
            updates: Subscriptions::of(uris)?,
            tasks: Subscriptions::of(tasks)?,
        };
        let mut wire = Map::new();
        for (on, key) in [
            (filter.tools, "toolsListChanged"),
            (filter.prompts, "promptsListChanged"),
            (filter.resources, "resourcesListChanged"),
        ] {
            if on {
                wire.insert(key.to_owned(), Value::Bool(true));
            }
        }
        let uris = filter.updates.to_vec();
        if !uris.is_empty() {
            wire.insert("resourceSubscriptions".to_owned(), json!(uris));
        }
        let tasks = filter.tasks.to_vec();
        if !tasks.is_empty() {
            wire.insert("taskIds".to_owned(), json!(tasks));
        }
        Ok((filter, Value::Object(wire)))
    }
}

/// `subscriptions/listen`: acknowledges the honoured filter, then sends each change it hears through the
/// request's notifier until the server shuts down (answered `{}`), or the client cancels (unanswered).
/// Beyond the listener caps: −32012 (`data.limit = "listeners"`, audited `rate_limited`); a listen that
/// arrives while the server shuts down is answered `{}` at once.
pub(crate) async fn listen(app: &App, req: McpRequest) -> McpResponse {
    let requested = match Requested::read(&req.params) {
        Ok(requested) => requested,
        Err(error) => return McpResponse::error(error, Outcome::InvalidRequest),
    };
    let owner = Tasks::owner_of(&req.principal, req.session.as_ref());
    let tasks = match owned_tasks(app, &req, &owner, &requested.task_ids).await {
        Ok(tasks) => tasks,
        Err(error) => return McpResponse::error(error, Outcome::InvalidRequest),
    };
    let (filter, honoured) = match requested.honour(Announced::of(app.capabilities()), tasks) {
        Ok(honoured) => honoured,
        Err(error) => return McpResponse::error(error, Outcome::InvalidRequest),
    };
    let mut tag = Map::new();
    tag.insert(meta::SUBSCRIPTION_ID.to_owned(), json!(req.id));
    let caller = req.principal.budget_key(req.source);
    let listener = match app.bus().listen(Arc::clone(&req.principal), &caller, filter) {
        Ok(listener) => listener,
        // The server is shutting down: the stream ends as every open one does, at once.
        Err(ListenRefused::Closed) => return McpResponse { body: ended(app, &req, tag), outcome: Outcome::Ok },
        Err(refused) => {
            tracing::debug!(principal = %req.principal.id, error = %refused, "subscriptions/listen refused");
            return McpResponse::error(refused.error(), Outcome::RateLimited);
        }
    };
    let ack = OutgoingNotification::new(
        method::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
        json!({ "notifications": honoured, "_meta": &tag }),
    );
    req.notifier.notify(ack).await;
    loop {
        let pending = tokio::select! {
            biased;
            () = req.cancel.cancelled() => {
                // The transport drops an answer to a cancelled request; the listener leaves the bus now.
                return McpResponse::error(ErrorObject::internal("the listen was cancelled"), Outcome::Cancelled);
            }
            pending = listener.next() => pending,
        };
        let Some(mut pending) = pending else { break };
        let changed_tasks = std::mem::take(&mut pending.tasks);
        for notification in pending.notifications(Some(&tag)) {
            req.notifier.notify(notification).await;
        }
        // Each changed task as `tasks/get` would show it now (one that expired meanwhile is not told).
        for id in changed_tasks {
            if let Ok(task) = app.tasks().get(&owner, &id).await {
                let mut params = wire::task_2026(&task, true);
                params.insert("_meta".to_owned(), Value::Object(tag.clone()));
                let notification = OutgoingNotification::new(wire::TASKS_NOTIFICATION, Value::Object(params));
                req.notifier.notify(notification).await;
            }
        }
    }
    drop(listener);
    McpResponse { body: ended(app, &req, tag), outcome: Outcome::Ok }
}

/// The task ids a listen asks about that the caller owns (2026-07-28 `notifications.taskIds`); the others
/// are left out of the acknowledgment, as unknown ids are.
///
/// # Errors
/// −32021 when ids are asked for by a client that did not declare the tasks extension.
async fn owned_tasks(app: &App, req: &McpRequest, owner: &str, ids: &[String]) -> Result<Vec<String>, ErrorObject> {
    if ids.is_empty() || !app.offers_tasks(req.version) {
        return Ok(Vec::new());
    }
    if !super::tasks::declares_extension(req) {
        return Err(super::tasks::missing_extension("task notifications on subscriptions/listen"));
    }
    let mut owned = Vec::new();
    for id in ids {
        if app.tasks().get(owner, id).await.is_ok() {
            owned.push(id.clone());
        }
    }
    Ok(owned)
}

/// The result that ends a listen: `{}` in the 2026-07-28 envelope, its `_meta` naming the subscription too.
fn ended(app: &App, req: &McpRequest, tag: Map<String, Value>) -> Result<Box<RawValue>, ErrorObject> {
    let formatted = app.format().finish(req.version, &Map::new(), Cache::No)?;
    let mut body: Map<String, Value> = serde_json::from_str(formatted.get())
        .map_err(|e| ErrorObject::internal(format_args!("the listen result could not be formatted: {e}")))?;
    match body.get_mut("_meta") {
        Some(Value::Object(meta)) => meta.extend(tag),
        _ => {
            body.insert("_meta".to_owned(), Value::Object(tag));
        }
    }
    crate::protocol::jsonrpc::to_raw(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PromptsCapability, ResourcesCapability, ToolsCapability};

    fn read(v: Value) -> Result<Requested, ErrorObject> {
        let Value::Object(params) = v else { panic!() };
        Requested::read(&params)
    }

    #[test]
    fn the_filter_is_read_strictly() {
        assert!(read(json!({})).is_err(), "notifications is required");
        assert!(read(json!({"notifications": true})).is_err());
        assert!(read(json!({"notifications": {"toolsListChanged": "yes"}})).is_err());
        assert!(read(json!({"notifications": {"resourceSubscriptions": "stock://A"}})).is_err());
        assert!(read(json!({"notifications": {"resourceSubscriptions": [1]}})).is_err());
        let many: Vec<String> = (0..=MAX_SUBSCRIPTIONS).map(|i| format!("s://{i}")).collect();
        assert!(read(json!({"notifications": {"resourceSubscriptions": many}})).is_err());
        let r = read(json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": ["a://1"]}})).unwrap();
        assert!(r.tools && !r.prompts && !r.resources && r.uris == ["a://1"] && r.task_ids.is_empty());
        assert!(read(json!({"notifications": {"taskIds": "t1"}})).is_err());
        assert!(read(json!({"notifications": {"taskIds": [7]}})).is_err());
        let r = read(json!({"notifications": {"taskIds": ["t1", "t2"]}})).unwrap();
        assert_eq!(r.task_ids, ["t1", "t2"]);
    }

    #[test]
    fn only_what_the_server_announces_is_honoured() {
        let capabilities = ServerCapabilities {
            tools: Some(ToolsCapability { list_changed: Some(true) }),
            prompts: Some(PromptsCapability { list_changed: Some(false) }),
            ..ServerCapabilities::default()
        };
        let everything = json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true,
            "resourcesListChanged": true, "resourceSubscriptions": ["a://1"]}});
        let (filter, wire) = read(everything.clone()).unwrap().honour(Announced::of(&capabilities), vec![]).unwrap();
        assert!(filter.tools && !filter.prompts && !filter.resources && filter.updates.is_empty());
        assert_eq!(wire, json!({"toolsListChanged": true}));
        // Task ids are honoured as given: the caller's own, already sorted out by `owned_tasks`.
        let (filter, wire) =
            read(everything.clone()).unwrap().honour(Announced::of(&capabilities), vec!["t1".into()]).unwrap();
        assert!(filter.tasks.contains("t1"));
        assert_eq!(wire, json!({"toolsListChanged": true, "taskIds": ["t1"]}));
        let capabilities = ServerCapabilities {
            resources: Some(ResourcesCapability { subscribe: Some(true), list_changed: Some(true) }),
            ..ServerCapabilities::default()
        };
        let (_, wire) = read(everything).unwrap().honour(Announced::of(&capabilities), vec![]).unwrap();
        assert_eq!(wire, json!({"resourcesListChanged": true, "resourceSubscriptions": ["a://1"]}));
    }
}
