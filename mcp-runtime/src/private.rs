//! What generated code names. Not a public API: no stability promise, hidden from the docs.

use std::fmt;
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

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

use crate::config::{Bundled, Cli, Config};
pub use crate::protocol::{CallToolResult, ToolAnnotations};
use crate::server::Server;
pub use crate::server::{
    Completer, CompletionContext, CompletionFuture, FromInvocation, FromPromptArgument, IntoCompletion,
    IntoPromptMessages, IntoResourceContents, IntoToolResult, InvocationError, PromptArgument, PromptFuture,
    PromptInvocation, PromptSpec, Rate, ResourceFuture, ResourceInvocation, ResourceSpec, StateRequirement, ToolFuture,
    ToolInvocation, ToolSpec,
};
use crate::telemetry::Telemetry;

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

/// The failure of a `#[mcp_server]` function body.
#[derive(Debug)]
pub struct SetupError(String);

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a `#[mcp_server]` function that takes a `Server` may return.
#[diagnostic::on_unimplemented(
    message = "a #[mcp_server] function that takes a `Server` must return it",
    note = "return `Server` or `Result<Server, E>` (e.g. `anyhow::Result<Server>`)"
)]
pub trait IntoServer {
    /// The server, or why setup failed.
    ///
    /// # Errors
    /// The body's error.
    fn into_server(self) -> Result<Server, SetupError>;
}

impl IntoServer for Server {
    fn into_server(self) -> Result<Server, SetupError> {
        Ok(self)
    }
}

impl<E: fmt::Debug> IntoServer for Result<Server, E> {
    fn into_server(self) -> Result<Server, SetupError> {
        self.map_err(|e| SetupError(format!("{e:?}")))
    }
}

/// What a `#[mcp_server]` function without parameters may return.
#[diagnostic::on_unimplemented(
    message = "a #[mcp_server] function without parameters must return `()` or `Result<(), E>`",
    note = "take a `Server` parameter and return it to customise the server"
)]
pub trait IntoSetup {
    /// `Ok` to go on serving.
    ///
    /// # Errors
    /// The body's error.
    fn into_setup(self) -> Result<(), SetupError>;
}

impl IntoSetup for () {
    fn into_setup(self) -> Result<(), SetupError> {
        Ok(())
    }
}

impl<E: fmt::Debug> IntoSetup for Result<(), E> {
    fn into_setup(self) -> Result<(), SetupError> {
        self.map_err(|e| SetupError(format!("{e:?}")))
    }
}

/// The body of a `#[mcp_server] main`: flags, configuration (over the bundled `defaults`: the file's path
/// at compile time and its text), logging, runtime, tools, resources and prompts, serving, exit code.
pub fn run_main<F, Fut>(
    name: &'static str,
    version: &'static str,
    defaults: Option<(&'static str, &'static str)>,
    setup: F,
) -> ExitCode
where
    F: FnOnce(Server) -> Fut,
    Fut: Future<Output = Result<Server, SetupError>>,
{
    let cli = Cli::parse();
    if cli.version {
        println!("{name} {version}");
        return ExitCode::SUCCESS;
    }
    if cli.hash_key {
        let mut key = String::new();
        if std::io::stdin().read_line(&mut key).is_err() || key.trim().is_empty() {
            eprintln!("error: --hash-key reads the API key from stdin: `printf %s \"$KEY\" | server --hash-key`");
            return ExitCode::from(2);
        }
        println!("{}", crate::auth::key_digest(key.trim_end_matches(['\n', '\r'])));
        return ExitCode::SUCCESS;
    }
    let defaults = defaults.map(|(path, text)| Bundled { text, path: std::path::Path::new(path) });
    let config = match Config::load_layered(defaults, &cli, std::env::vars_os()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.print_config {
        print!("{}", config.to_toml());
        return ExitCode::SUCCESS;
    }
    if let Some(path) = &cli.verify_audit {
        // The key the server chains with: the same configuration, resolved the same way.
        return verify_audit(path, &config);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let print_manifest = cli.print_manifest;
    let outcome = runtime.block_on(async move {
        // Inside the runtime: the trace exporter runs on it.
        let telemetry = Telemetry::init(&config.log, &config.tracing, &config.metrics, name)?;
        let served = async {
            let server = setup(Server::new(name, version).linked().config(config)).await.map_err(|e| e.to_string())?;
            if print_manifest {
                // What the server advertises needs no secret: the security configuration is not resolved.
                let app = server.into_parts().map_err(|e| e.to_string())?.app;
                let manifest = serde_json::to_string_pretty(&app.manifest()).map_err(|e| e.to_string())?;
                println!("{manifest}");
                return Ok(());
            }
            server.serve().await.map_err(|e| e.to_string())
        }
        .await;
        telemetry.shutdown(); // the last requests' spans are exported before the process ends
        served
    });
    // tokio's stdin reader is a blocking thread that may sit in read(2): do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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

/// `--verify-audit FILE`: the chain checked under the key `[audit]` configures; exit 0 when it holds, 1
/// when it does not, 2 when the key cannot be read.
fn verify_audit(path: &std::path::Path, config: &Config) -> ExitCode {
    let key = match crate::audit::ChainKey::from_config(&config.audit, config.security.allow_inline_secrets) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match crate::audit::verify_with(path, &key) {
        Ok(verified) => {
            println!("{}: {verified}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
