//! What `#[mcp_server]` turns `main` into: flags, configuration, logging, the runtime, the linked tools,
//! resources and prompts, serving, and the exit code. Generated code reaches it through `__private`.

use std::fmt;
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::Server;
use crate::config::{Bundled, Cli, Config};
use crate::telemetry::Telemetry;

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
    let reload_cli = cli;
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
            let pipeline = crate::Pipeline::build(server).map_err(|e| e.to_string())?;
            // SIGHUP and a changed configuration file reload it from where the start read it.
            crate::reload::spawn(&pipeline, crate::reload::Source { defaults, cli: reload_cli });
            crate::transport::serve_pipeline(pipeline).await.map_err(|e| e.to_string())
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
