//! Method names, as the wire spells them: one constant each, so a typo is a compile error.

/// Opens a handshake-era session (revisions up to 2025-11-25).
pub const INITIALIZE: &str = "initialize";
/// Liveness check (removed in 2026-07-28).
pub const PING: &str = "ping";
/// 2026-07-28: what the server speaks and offers, without a session.
pub const SERVER_DISCOVER: &str = "server/discover";
/// Sets the session's log level (removed in 2026-07-28: the level comes per request).
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// Lists the tools.
pub const TOOLS_LIST: &str = "tools/list";
/// Calls a tool.
pub const TOOLS_CALL: &str = "tools/call";
/// Lists the resources.
pub const RESOURCES_LIST: &str = "resources/list";
/// Lists the resource templates.
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// Reads a resource.
pub const RESOURCES_READ: &str = "resources/read";
/// Subscribes to a resource's updates (handshake era).
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// Ends a subscription (handshake era).
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
/// Lists the prompts.
pub const PROMPTS_LIST: &str = "prompts/list";
/// Renders a prompt.
pub const PROMPTS_GET: &str = "prompts/get";
/// Completes an argument of a prompt or resource template.
pub const COMPLETION_COMPLETE: &str = "completion/complete";
/// 2026-07-28 (SEP-2575): one long-lived request carrying the change notifications its filter asks for.
pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";
/// A task's state (both eras).
pub const TASKS_GET: &str = "tasks/get";
/// A task's result, once it ended (2025-11-25; removed in 2026-07-28, where `tasks/get` inlines it).
pub const TASKS_RESULT: &str = "tasks/result";
/// The caller's tasks (2025-11-25; removed in 2026-07-28).
pub const TASKS_LIST: &str = "tasks/list";
/// Cancels a task (both eras).
pub const TASKS_CANCEL: &str = "tasks/cancel";
/// Answers a task's requests for input (2026-07-28).
pub const TASKS_UPDATE: &str = "tasks/update";

/// Client → server: the handshake is complete.
pub const NOTIFICATION_INITIALIZED: &str = "notifications/initialized";
/// Client → server: the client's roots changed (removed in 2026-07-28, with the handshake).
pub const NOTIFICATION_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
/// Either way: a request is cancelled.
pub const NOTIFICATION_CANCELLED: &str = "notifications/cancelled";
/// Server → client: progress of a request.
pub const NOTIFICATION_PROGRESS: &str = "notifications/progress";
/// Server → client: a log message.
pub const NOTIFICATION_MESSAGE: &str = "notifications/message";
/// Server → client: the tool list changed; fetch it again.
pub const NOTIFICATION_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// Server → client: the prompt list changed; fetch it again.
pub const NOTIFICATION_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// Server → client: the resource list (or the resource templates) changed; fetch it again.
pub const NOTIFICATION_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// Server → client: a subscribed resource changed (`params.uri`); read it again.
pub const NOTIFICATION_RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// Server → client, 2026-07-28: the first message of a `subscriptions/listen` stream, with the honoured
/// filter.
pub const NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";

/// Server → client: asks the client's model for a completion.
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// Server → client: asks the user for input.
pub const ELICITATION_CREATE: &str = "elicitation/create";
/// Server → client: asks for the client's roots.
pub const ROOTS_LIST: &str = "roots/list";
