//! What generated code names. Not a public API: no stability promise, hidden from the docs.

use std::time::Duration;

pub use {linkme, schemars, serde, serde_json};

#[cfg(feature = "mimalloc")]
pub use mimalloc::MiMalloc;

/// `#[mcp_server]`'s global allocator: mimalloc with the `mimalloc` feature (on by default), else nothing
/// (the binary's own, or the system's). Requests hand allocations between threads (the corridor, the
/// audit writer, the span exporter); glibc's allocator serializes those frees on a lock.
#[cfg(feature = "mimalloc")]
#[macro_export]
#[doc(hidden)]
macro_rules! __mcp_default_allocator {
    () => {
        #[global_allocator]
        static __MCP_RUNTIME_ALLOCATOR: $crate::__private::MiMalloc = $crate::__private::MiMalloc;
    };
}

/// Without the `mimalloc` feature, `#[mcp_server]` leaves the allocator alone.
#[cfg(not(feature = "mimalloc"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __mcp_default_allocator {
    () => {};
}

pub use crate::protocol::{CallToolResult, ToolAnnotations};
pub use crate::run::{IntoServer, IntoSetup, SetupError, run_main};
pub use crate::server::{
    Completer, CompletionContext, CompletionFuture, FromInvocation, FromPromptArgument, IntoCompletion,
    IntoPromptMessages, IntoResourceContents, IntoToolResult, InvocationError, PromptArgument, PromptFuture,
    PromptInvocation, PromptSpec, Rate, ResourceFuture, ResourceInvocation, ResourceSpec, StateRequirement, ToolFuture,
    ToolInvocation, ToolSpec,
};

/// Every `#[mcp_tool]` linked into the binary.
#[linkme::distributed_slice]
pub static TOOLS: [&'static ToolSpec];

/// Every `#[mcp_resource]` linked into the binary.
#[linkme::distributed_slice]
pub static RESOURCES: [&'static ResourceSpec];

/// Every `#[mcp_prompt]` linked into the binary.
#[linkme::distributed_slice]
pub static PROMPTS: [&'static PromptSpec];

/// A rate from the attribute, checked by the macro.
pub const fn rate(count: u32, per_ms: u64) -> Rate {
    Rate { count, per: Duration::from_millis(per_ms) }
}

/// `Some(Duration)` from milliseconds, for `timeout = "5s"`.
pub const fn timeout_ms(ms: u64) -> Option<Duration> {
    Some(Duration::from_millis(ms))
}

/// A `Duration` from milliseconds, for `ttl = "60s"`.
pub const fn ttl_ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A `State<T>` requirement.
pub const fn state<T: Send + Sync + 'static>() -> StateRequirement {
    StateRequirement { type_id: std::any::TypeId::of::<T>, type_name: std::any::type_name::<T> }
}

/// A type a tool takes as an argument from the client.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool argument",
    note = "an argument is deserialized from JSON and described in the input schema: derive `serde::Deserialize` and `schemars::JsonSchema` for it, or take `Context` / `State<T>` to have it injected"
)]
pub trait ToolArgument: serde::de::DeserializeOwned + schemars::JsonSchema {}

impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> ToolArgument for T {}

/// Builds a tool's input schema from its parameters, one `field` each (what `#[mcp_tool]` generates
/// instead of a derived argument struct: less code per tool, and a bad parameter type reported once, on
/// the parameter).
pub struct InputSchema {
    generator: schemars::SchemaGenerator,
    properties: serde_json::Map<String, serde_json::Value>,
    required: Vec<serde_json::Value>,
}

impl Default for InputSchema {
    fn default() -> Self {
        Self::new()
    }
}

impl InputSchema {
    /// An object schema with no properties yet.
    pub fn new() -> Self {
        Self {
            generator: schemars::SchemaGenerator::default(),
            properties: serde_json::Map::new(),
            required: Vec::new(),
        }
    }

    /// Adds a property: `T`'s schema, its description, and the keywords of `#[schema(...)]`.
    #[must_use]
    pub fn field<T: schemars::JsonSchema>(
        mut self,
        name: &'static str,
        required: bool,
        description: Option<&'static str>,
        keywords: &[(&'static str, serde_json::Value)],
    ) -> Self {
        let mut schema = match self.generator.subschema_for::<T>().to_value() {
            serde_json::Value::Object(map) => map,
            // `true` accepts anything: an empty object schema says the same and takes keywords.
            _ => serde_json::Map::new(),
        };
        if let Some(description) = description {
            schema.insert("description".to_owned(), description.into());
        }
        for (keyword, value) in keywords {
            schema.insert((*keyword).to_owned(), value.clone());
        }
        self.properties.insert(name.to_owned(), serde_json::Value::Object(schema));
        if required {
            self.required.push(name.into());
        }
        self
    }

    /// The schema: JSON Schema 2020-12, closed to unknown properties, with the definitions of nested types.
    pub fn finish(mut self) -> schemars::Schema {
        let mut root = serde_json::Map::new();
        root.insert("$schema".to_owned(), "https://json-schema.org/draft/2020-12/schema".into());
        root.insert("type".to_owned(), "object".into());
        root.insert("properties".to_owned(), serde_json::Value::Object(self.properties));
        if !self.required.is_empty() {
            root.insert("required".to_owned(), serde_json::Value::Array(self.required));
        }
        root.insert("additionalProperties".to_owned(), false.into());
        let definitions = std::mem::take(self.generator.definitions_mut());
        if !definitions.is_empty() {
            root.insert("$defs".to_owned(), serde_json::Value::Object(definitions));
        }
        schemars::Schema::from(root)
    }
}

/// Wraps the result of a `#[complete(path)]` function, pointing a bad return type at the path.
pub fn completion<T: IntoCompletion>(values: T) -> crate::server::Completion {
    values.into_completion()
}
