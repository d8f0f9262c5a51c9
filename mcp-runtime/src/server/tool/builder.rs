//! [`ToolBuilder`]: a [`Tool`] made while the program runs, without `#[mcp_tool]`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{Handler, Inner, Rate, Schema, Tool, ToolFuture, ToolInvocation};
use crate::protocol::ToolAnnotations;
use crate::server::context::Context;
use crate::server::registry::{RegistryError, valid_name};
use crate::server::result::IntoToolResult;
use crate::tasks::TaskSupport;

/// The output schema a handler's result type declares (`<R as IntoToolResult>::output_schema`).
type ResultSchema = fn() -> Option<schemars::Schema>;

/// A [`Tool`] being put together: start with [`Tool::builder`], finish with [`build`](Self::build).
///
/// Every setter records what is wrong instead of failing on the spot; `build` reports all of it at once.
#[must_use = "a tool builder does nothing until `build`"]
pub struct ToolBuilder {
    name: Arc<str>,
    title: Option<Arc<str>>,
    description: Option<Arc<str>>,
    input_schema: Schema,
    output_schema: Option<Schema>,
    annotations: ToolAnnotations,
    rate: Option<Rate>,
    burst: Option<u32>,
    scopes: Vec<Arc<str>>,
    audit_redact: Vec<Arc<str>>,
    audit_clear: Vec<Arc<str>>,
    timeout: Option<Duration>,
    task: TaskSupport,
    /// The handler, and the output schema its result type has (if any).
    handler: Option<(Handler, ResultSchema)>,
    location: Arc<str>,
    problems: Vec<String>,
}

impl std::fmt::Debug for ToolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolBuilder")
            .field("name", &self.name)
            .field("location", &self.location)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

/// The schema of a type, as `#[mcp_tool]` renders a `Json<T>` result's: JSON Schema 2020-12.
fn schema_of<T: schemars::JsonSchema>() -> schemars::Schema {
    schemars::SchemaGenerator::default().into_root_schema_for::<T>()
}

/// What a tool without parameters takes: the closed, empty object `#[mcp_tool]` gives one.
fn no_arguments() -> schemars::Schema {
    crate::__private::InputSchema::new().finish()
}

impl ToolBuilder {
    pub(super) fn new(name: Arc<str>, location: &std::panic::Location<'_>) -> Self {
        Self {
            name,
            title: None,
            description: None,
            input_schema: Schema::Derived(no_arguments),
            output_schema: None,
            annotations: ToolAnnotations::default(),
            rate: None,
            burst: None,
            scopes: Vec::new(),
            audit_redact: Vec::new(),
            audit_clear: Vec::new(),
            timeout: None,
            task: TaskSupport::Forbidden,
            handler: None,
            location: format!("{}:{}", location.file(), location.line()).into(),
            problems: Vec::new(),
        }
    }

    /// Display title.
    pub fn title(mut self, title: impl Into<Arc<str>>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// What the tool does, for the model.
    pub fn description(mut self, description: impl Into<Arc<str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The arguments are described by `Args`'s JSON Schema (derive `schemars::JsonSchema`; an object
    /// schema, so a struct). Rendered once, when the server starts. Without this or
    /// [`input_schema_json`](Self::input_schema_json) the tool takes no arguments.
    pub fn input_schema<Args: schemars::JsonSchema>(mut self) -> Self {
        self.input_schema = Schema::Derived(schema_of::<Args>);
        self
    }

    /// The arguments are described by this JSON Schema (2020-12), which must be an object schema
    /// (`"type": "object"` at its root); [`build`](Self::build) says so otherwise.
    pub fn input_schema_json(mut self, schema: Value) -> Self {
        if schema.get("type") != Some(&Value::from("object")) {
            self.problems.push("the input schema must have \"type\": \"object\" at its root".to_owned());
        }
        self.input_schema = Schema::Json(schema);
        self
    }

    /// The structured result is described by `T`'s JSON Schema. Needed only when the handler returns a
    /// [`CallToolResult`](crate::protocol::CallToolResult) with structured content: a handler returning
    /// [`Json<T>`](crate::server::Json) declares its schema itself, as with `#[mcp_tool]`.
    pub fn output_schema<T: schemars::JsonSchema>(mut self) -> Self {
        self.output_schema = Some(Schema::Derived(schema_of::<T>));
        self
    }

    /// The structured result is described by this JSON Schema (see [`output_schema`](Self::output_schema)).
    pub fn output_schema_json(mut self, schema: Value) -> Self {
        self.output_schema = Some(Schema::Json(schema));
        self
    }

    /// Behaviour hints, all at once.
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Hints that the tool does not modify its environment.
    pub fn read_only(mut self) -> Self {
        self.annotations.read_only_hint = Some(true);
        self
    }

    /// Hints that the tool may perform destructive updates.
    pub fn destructive(mut self) -> Self {
        self.annotations.destructive_hint = Some(true);
        self
    }

    /// Hints that calling again with the same arguments has no further effect.
    pub fn idempotent(mut self) -> Self {
        self.annotations.idempotent_hint = Some(true);
        self
    }

    /// Hints that the tool talks to an open world of external entities.
    pub fn open_world(mut self) -> Self {
        self.annotations.open_world_hint = Some(true);
        self
    }

    /// The tool's rate limit, in the grammar of `#[mcp_tool(rate = ...)]` and `[throttling]`: `"30/min"`,
    /// `"5/s"`, `"100/h"`, `"1000/day"`. `[throttling.tools.<name>]` overrides it.
    pub fn rate(mut self, rate: &str) -> Self {
        match rate.parse::<Rate>() {
            Ok(rate) => self.rate = Some(rate),
            Err(e) => self.problems.push(format!("rate: {e}")),
        }
        self
    }

    /// Extra calls allowed in a burst above the steady rate.
    pub fn burst(mut self, extra: u32) -> Self {
        self.burst = Some(extra);
        self
    }

    /// OAuth scopes a caller needs (added to any given before).
    pub fn scopes<S: Into<Arc<str>>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        for scope in scopes {
            let scope = scope.into();
            // RFC 6749 §3.3, as `#[mcp_tool(scopes = [...])]` checks it.
            let token = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
            if scope.is_empty() || !scope.bytes().all(token) {
                self.problems.push(format!(
                    "scope `{scope}`: an OAuth scope is one or more visible ASCII characters, without spaces, `\"` or `\\`"
                ));
            }
            self.scopes.push(scope);
        }
        self
    }

    /// Arguments always redacted in audit records (added to any given before).
    pub fn audit_redact<S: Into<Arc<str>>>(mut self, arguments: impl IntoIterator<Item = S>) -> Self {
        self.audit_redact.extend(arguments.into_iter().map(Into::into));
        self
    }

    /// Arguments never redacted in audit records, whatever their name (added to any given before).
    pub fn audit_clear<S: Into<Arc<str>>>(mut self, arguments: impl IntoIterator<Item = S>) -> Self {
        self.audit_clear.extend(arguments.into_iter().map(Into::into));
        self
    }

    /// How long one call may run before it is answered as timed out (default: `tools.default_timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether the tool may be called as a task, answered at once with a task the client polls while the
    /// tool runs on: [`TaskSupport::Optional`] (the client chooses) or [`TaskSupport::Required`] (only as
    /// a task). The default, [`TaskSupport::Forbidden`], refuses a call that asks for a task. Listed as
    /// the tool's `execution.taskSupport` to clients of 2025-11-25 and later.
    ///
    /// ```
    /// use mcp_runtime::TaskSupport;
    /// use mcp_runtime::server::Tool;
    ///
    /// let report = Tool::builder("build_report")
    ///     .description("Builds the monthly report; takes minutes.")
    ///     .task(TaskSupport::Optional)
    ///     .handler(|_arguments, _ctx| async move { "report ready".to_owned() })
    ///     .build()
    ///     .expect("a valid tool");
    /// assert_eq!(report.task_support(), TaskSupport::Optional);
    /// ```
    pub fn task(mut self, support: TaskSupport) -> Self {
        self.task = support;
        self
    }

    /// What a call runs: `handler(arguments, ctx)`, given the arguments once they passed the input schema,
    /// and the call's [`Context`]. It returns what a `#[mcp_tool]` function may return (`String`,
    /// `Json<T>`, `Result<_, E>`, ... any [`IntoToolResult`]); a `Json<T>` result declares `T`'s output
    /// schema. The handler runs inside the call's future, so a panic anywhere in it is isolated like a
    /// macro tool's. Application state is what the closure captures.
    pub fn handler<F, Fut, R>(mut self, handler: F) -> Self
    where
        F: Fn(Map<String, Value>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolResult,
    {
        let handler = Arc::new(handler);
        let call = move |mut invocation: ToolInvocation| -> ToolFuture {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let arguments = std::mem::take(&mut invocation.arguments);
                let context = invocation.context().clone();
                Ok(handler(arguments, context).await.into_tool_result())
            })
        };
        self.handler = Some((Box::new(call), R::output_schema));
        self
    }

    /// The tool.
    ///
    /// # Errors
    /// [`RegistryError::InvalidTool`] naming every problem: a name outside `[A-Za-z0-9_.-]{1,128}`, an
    /// input schema that is not an object schema, a malformed rate or scope, no handler.
    pub fn build(self) -> Result<Tool, RegistryError> {
        let mut problems = self.problems;
        if !valid_name(&self.name) {
            problems.insert(0, "a tool name is 1-128 characters of A-Z a-z 0-9 _ - .".to_owned());
        }
        if self.handler.is_none() {
            problems.push("no handler: call `.handler(|arguments, ctx| async move { ... })`".to_owned());
        }
        let (Some((handler, result_schema)), true) = (self.handler, problems.is_empty()) else {
            return Err(RegistryError::InvalidTool {
                name: self.name,
                location: self.location,
                reason: problems.join("; "),
            });
        };
        Ok(Tool {
            inner: Arc::new(Inner {
                name: self.name,
                title: self.title,
                description: self.description,
                input_schema: self.input_schema,
                output_schema: Some(self.output_schema.unwrap_or(Schema::DerivedIfAny(result_schema))),
                annotations: self.annotations,
                rate: self.rate,
                burst: self.burst,
                scopes: self.scopes.into(),
                audit_redact: self.audit_redact.into(),
                audit_clear: self.audit_clear.into(),
                timeout: self.timeout,
                task: self.task,
                state: Box::default(),
                handler,
                location: self.location,
            }),
        })
    }
}
