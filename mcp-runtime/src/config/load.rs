//! Loading: built-in defaults < bundled defaults < the named file < `MCP_*` environment variables < flags.
//!
//! A configuration file is read only when it is named (`--config`, `MCP_CONFIG`, or bundled at compile time
//! with `#[mcp_server(config = "…")]`), never found in the working directory: a stdio server is started
//! by an IDE or an agent inside its user's project, which may be a stranger's repository. Relative paths in
//! a file (`${file:keys.toml}`, `destination = "file:audit.log"`) resolve against that file's folder.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;
use toml::{Table, Value};

use super::model::{Config, TransportKindConfig};

/// The command line every `#[mcp_server]` binary accepts.
#[derive(Debug, Clone, Default, Parser)]
#[command(about = "An MCP server built with mcp-runtime", disable_version_flag = true)]
pub struct Cli {
    /// The configuration file (default: `$MCP_CONFIG`; a file in the working directory is never read
    /// unless named).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The transport: stdio, http or sse (overrides `transport.kind`).
    #[arg(long, value_name = "KIND")]
    pub transport: Option<TransportKindConfig>,
    /// The address network transports bind (overrides `transport.bind`).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Print the effective configuration (secrets masked) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Print the `tools/list` result as JSON and exit.
    #[arg(long)]
    pub print_manifest: bool,
    /// Development mode: inline secrets are accepted with a warning.
    #[arg(long)]
    pub dev: bool,
    /// Serve a non-loopback address with `security.strategy = "none"` (anyone who reaches the port can
    /// call every tool).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Read an API key from stdin, print its `sha256:<hex>` digest for `security.keys`, and exit.
    #[arg(long)]
    pub hash_key: bool,
    /// Check the hash chain of an audit file (`audit.hash_chain = true`) under the key the configuration
    /// gives it (`audit.chain_key`, else `audit.redact_key`), name the first broken line, and exit.
    #[arg(long, value_name = "FILE")]
    pub verify_audit: Option<PathBuf>,
    /// Print the server's name and version and exit.
    #[arg(long, short = 'V')]
    pub version: bool,
}

/// A configuration that cannot be used. The message names the file and line, or the variable or flag.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or holds an unknown key or a bad value.
    #[error("in {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// An `MCP_*` variable names an unknown key or holds a bad value.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong.
        message: String,
    },
}

/// A configuration compiled into the binary (`#[mcp_server(config = "mcp.toml")]`): the lowest layer above
/// the built-in defaults.
#[derive(Debug, Clone, Copy)]
pub struct Bundled<'a> {
    /// The TOML text.
    pub text: &'a str,
    /// The file it was read from at compile time: relative paths in the text resolve against its folder.
    pub path: &'a Path,
}

/// The prefix of configuration variables; `__` separates levels: `MCP_TRANSPORT__KIND=stdio`.
pub const ENV_PREFIX: &str = "MCP_";
const ENV_SEPARATOR: &str = "__";

impl Config {
    /// Loads the configuration from the process's flags and environment.
    ///
    /// # Errors
    /// See [`ConfigError`].
    pub fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        Self::load(cli, std::env::vars_os())
    }

    /// Loads the configuration from explicit flags and environment (what tests call).
    ///
    /// # Errors
    /// See [`ConfigError`].
    pub fn load(cli: &Cli, env: impl IntoIterator<Item = (OsString, OsString)>) -> Result<Self, ConfigError> {
        Self::load_layered(None, cli, env)
    }

    /// Loads the configuration over `defaults`: the TOML a server bundles (`#[mcp_server(config = "mcp.toml")]`),
    /// which the named file, the environment and the flags override key by key.
    ///
    /// # Errors
    /// See [`ConfigError`]; errors in the bundled defaults name `<bundled defaults>`.
    pub fn load_layered(
        defaults: Option<Bundled<'_>>,
        cli: &Cli,
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match defaults {
            Some(bundled) => {
                let mut table = parse_table(Path::new("<bundled defaults>"), bundled.text)?;
                if let Some(folder) = bundled.path.parent() {
                    anchor_paths(&mut table, folder);
                }
                table
            }
            None => Table::new(),
        };
        let env: Vec<(String, String)> =
            env.into_iter().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        let path =
            cli.config.clone().or_else(|| env.iter().find(|(k, _)| k == "MCP_CONFIG").map(|(_, v)| PathBuf::from(v)));
        if let Some(path) = &path {
            let mut file = read_file(path)?;
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            if let Some(folder) = absolute.parent() {
                anchor_paths(&mut file, folder);
            }
            merge(&mut table, file);
        }
        for (var, value) in &env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else { continue };
            if !rest.contains(ENV_SEPARATOR) {
                continue; // MCP_CONFIG and variables of other tools
            }
            let keys: Vec<String> = rest.split(ENV_SEPARATOR).map(str::to_ascii_lowercase).collect();
            let value = env_value(value);
            let mut alone = Table::new();
            insert(&mut alone, &keys, value.clone());
            // Checked alone, so the error names the variable; a missing sibling field (`store.kind` without
            // `store.url`) may come from another variable or the file, and is checked with them below.
            if let Err(e) = Config::deserialize(alone)
                && !e.message().starts_with("missing field")
            {
                return Err(ConfigError::Env { var: var.clone(), message: e.message().to_owned() });
            }
            insert(&mut table, &keys, value);
        }
        if let Some(kind) = cli.transport {
            insert(&mut table, &["transport".into(), "kind".into()], Value::String(kind.to_string()));
        }
        if let Some(bind) = cli.bind {
            insert(&mut table, &["transport".into(), "bind".into()], Value::String(bind.to_string()));
        }
        let mut config = Config::deserialize(table).map_err(|e| ConfigError::File {
            path: path.clone().unwrap_or_default(),
            message: e.message().to_owned(),
        })?;
        config.security.allow_inline_secrets = cli.dev;
        config.security.insecure_no_auth = cli.insecure_no_auth;
        config.check().map_err(|message| ConfigError::File { path: path.unwrap_or_default(), message })?;
        Ok(config)
    }

    /// Rules across keys that serde cannot express.
    fn check(&self) -> Result<(), String> {
        if self.http.cors_origins.iter().any(|o| o.trim() == "*") {
            return Err(
                "http.cors_origins: \"*\" is refused; list the browser origins that may call the server".to_owned()
            );
        }
        if self.transport.max_message_bytes == 0 || self.transport.max_in_flight == 0 {
            return Err("transport.max_message_bytes and transport.max_in_flight must be above zero".to_owned());
        }
        if self.http.max_sessions_per_caller == 0 || self.http.max_streams_per_caller == 0 {
            return Err("http.max_sessions_per_caller and http.max_streams_per_caller must be above zero".to_owned());
        }
        if !self.transport.path.starts_with('/') {
            return Err(format!("transport.path {:?} must start with /", self.transport.path));
        }
        crate::config::model::check_proxies(&self.http.trusted_proxies)?;
        self.throttling.check()?;
        self.tasks.check()?;
        self.request_state.check()?;
        self.audit.check(self.transport.kind)?;
        self.security.check()
    }

    /// The configuration as TOML, secrets masked (what `--print-config` shows).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the configuration is plain TOML")
    }
}

fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Read { path: path.to_owned(), reason: e.to_string() })?;
    parse_table(path, &text)
}

/// Makes the relative paths a file names absolute against `folder`, the file's own: `${file:PATH}` secret
/// references anywhere, and `audit.destination = "file:PATH"`. Values from the environment and flags keep
/// resolving against the working directory, where their author typed them.
fn anchor_paths(table: &mut Table, folder: &Path) {
    fn anchor(path: &str, folder: &Path) -> Option<String> {
        let path = Path::new(path);
        (!path.as_os_str().is_empty() && path.is_relative()).then(|| folder.join(path).display().to_string())
    }
    fn walk(value: &mut Value, folder: &Path) {
        match value {
            Value::String(text) => {
                if let Some(path) = text.strip_prefix("${file:").and_then(|t| t.strip_suffix('}'))
                    && let Some(anchored) = anchor(path, folder)
                {
                    *text = format!("${{file:{anchored}}}");
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, folder)),
            Value::Table(table) => table.iter_mut().for_each(|(_, v)| walk(v, folder)),
            _ => {}
        }
    }
    for (_, value) in table.iter_mut() {
        walk(value, folder);
    }
    if let Some(Value::String(destination)) =
        table.get_mut("audit").and_then(Value::as_table_mut).and_then(|audit| audit.get_mut("destination"))
        && let Some(anchored) = destination.strip_prefix("file:").and_then(|p| anchor(p, folder))
    {
        *destination = format!("file:{anchored}");
    }
}

/// `over` on top of `base`, table by table: a key set in `over` replaces the same key in `base`.
fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base)), Value::Table(over)) => merge(base, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn parse_table(path: &Path, text: &str) -> Result<Table, ConfigError> {
    let error = |e: toml::de::Error| ConfigError::File { path: path.to_owned(), message: toml_error(text, &e) };
    // Parsing into the typed model first gives errors with the key's line and column.
    toml::from_str::<Config>(text).map_err(error)?;
    toml::from_str::<Table>(text).map_err(error)
}

/// A TOML error as `line L, column C: <the parser's message>`. The error's own `Display` quotes the
/// offending source line, and that line may hold an inline secret, which would then reach stderr and the
/// logs; the position is enough to find it.
pub(crate) fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    let Some(before) = error.span().and_then(|span| text.get(..span.start)) else { return message.to_owned() };
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}: {message}")
}

/// A variable's value as TOML when it reads as a TOML scalar or array (`8080`, `true`, `["a", "b"]`), else
/// as a string.
fn env_value(raw: &str) -> Value {
    match toml::from_str::<Table>(&format!("v = {raw}")) {
        Ok(mut t) if !matches!(t.get("v"), Some(Value::Table(_))) => t.remove("v").expect("parsed"),
        _ => Value::String(raw.to_owned()),
    }
}

fn insert(table: &mut Table, keys: &[String], value: Value) {
    let (last, parents) = keys.split_last().expect("at least one key");
    let mut t = table;
    for k in parents {
        let entry = t.entry(k.clone()).or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        t = entry.as_table_mut().expect("just made a table");
    }
    t.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    fn file(text: &str) -> (PathBuf, Cli) {
        let dir = std::env::temp_dir().join(format!("mcp-config-{}-{:x}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mcp.toml");
        std::fs::write(&path, text).unwrap();
        (path.clone(), Cli { config: Some(path), ..Cli::default() })
    }

    #[test]
    fn precedence_is_file_then_env_then_flags() {
        let (_, mut cli) = file("[transport]\nkind = \"http\"\nmax_in_flight = 8\n[tools]\ndefault_timeout = \"5s\"\n");
        let c = Config::load(&cli, env(&[("MCP_TRANSPORT__MAX_IN_FLIGHT", "16")])).unwrap();
        assert_eq!(c.transport.kind, TransportKindConfig::Http);
        assert_eq!(c.transport.max_in_flight, 16);
        assert_eq!(c.tools.default_timeout, Duration::from_secs(5));
        cli.transport = Some(TransportKindConfig::Stdio);
        let c = Config::load(&cli, env(&[("MCP_TRANSPORT__KIND", "sse")])).unwrap();
        assert_eq!(c.transport.kind, TransportKindConfig::Stdio);
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let (path, cli) = file("[transport]\nkind = \"stdio\"\nmax_mesage_bytes = 10\n");
        let e = Config::load(&cli, env(&[])).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("max_mesage_bytes"), "{e}");
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let e = Config::load(&Cli::default(), env(&[("MCP_TRANSPORT__KIND", "carrier-pigeon")])).unwrap_err();
        assert!(matches!(&e, ConfigError::Env { var, .. } if var == "MCP_TRANSPORT__KIND"), "{e}");
        let e = Config::load(&Cli::default(), env(&[("MCP_TRANSPORT__NOPE", "1")])).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        // Variables without the `__` separator belong to other tools.
        assert!(Config::load(&Cli::default(), env(&[("MCP_CLIENT_KEY", "x")])).is_ok());
    }

    #[test]
    fn wildcard_cors_and_relative_paths_are_refused() {
        let e = Config::load(&Cli::default(), env(&[("MCP_HTTP__CORS_ORIGINS", r#"["*"]"#)])).unwrap_err();
        assert!(e.to_string().contains("cors_origins"), "{e}");
        let e = Config::load(&Cli::default(), env(&[("MCP_TRANSPORT__PATH", "mcp")])).unwrap_err();
        assert!(e.to_string().contains("must start with /"), "{e}");
    }

    #[test]
    fn bundled_defaults_sit_under_the_file_and_the_environment() {
        let defaults = "[security]\nstrategy = \"api-key\"\nkeys = [{ id = \"a\", hash = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\" }]\n[tools]\npage_size = 7\n";
        let (_, cli) = file("[tools]\ndefault_timeout = \"5s\"\n");
        let bundled = |text| Some(Bundled { text, path: Path::new("/build/crate/mcp.toml") });
        let c = Config::load_layered(bundled(defaults), &cli, env(&[])).unwrap();
        assert_eq!(c.security.strategy, crate::config::AuthStrategy::ApiKey);
        assert_eq!((c.tools.page_size, c.tools.default_timeout), (7, Duration::from_secs(5)));
        let c = Config::load_layered(bundled(defaults), &cli, env(&[("MCP_SECURITY__STRATEGY", "none")])).unwrap();
        assert_eq!(c.security.strategy, crate::config::AuthStrategy::None);
        let e = Config::load_layered(bundled("[nope]\n"), &Cli::default(), env(&[])).unwrap_err();
        assert!(e.to_string().contains("<bundled defaults>"), "{e}");
    }

    #[test]
    fn strategies_without_what_they_need_are_refused() {
        for (strategy, needs) in
            [("api-key", "security.keys"), ("jwt", "needs a key"), ("oauth", "security.oauth.resource")]
        {
            let e = Config::load(&Cli::default(), env(&[("MCP_SECURITY__STRATEGY", strategy)])).unwrap_err();
            assert!(e.to_string().contains(needs), "{strategy}: {e}");
        }
        let jwt = [("MCP_SECURITY__STRATEGY", "jwt"), ("MCP_SECURITY__JWT__PUBLIC_KEY", "${env:K}")];
        let e = Config::load(&Cli::default(), env(&jwt)).unwrap_err();
        assert!(e.to_string().contains("issuer"), "{e}");
        let e = Config::load(&Cli::default(), env(&[("MCP_SECURITY__JWT__JWKS_URI", "http://idp.example/jwks")]))
            .unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        assert!(
            Config::load(&Cli::default(), env(&[("MCP_SECURITY__JWT__JWKS_URI", "http://127.0.0.1:9/jwks")])).is_ok()
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_files_folder() {
        let (path, cli) = file(
            "[security]\nstrategy = \"api-key\"\nkeys = \"${file:keys.toml}\"\n\
             [audit]\ndestination = \"file:logs/audit.log\"\nredact_key = \"${file:/abs/hmac}\"\n",
        );
        let folder = path.parent().unwrap();
        let c = Config::load(&cli, env(&[])).unwrap();
        let keys = crate::config::SecretRef::File(folder.join("keys.toml"));
        assert_eq!(c.security.keys, crate::config::ApiKeys::Reference(keys));
        assert_eq!(c.audit.destination, format!("file:{}", folder.join("logs/audit.log").display()));
        assert_eq!(c.audit.redact_key, Some(crate::config::SecretRef::File("/abs/hmac".into())), "absolute stays");
        // The environment's values are the shell's: relative to the working directory, as typed.
        let c = Config::load(&cli, env(&[("MCP_AUDIT__DESTINATION", "file:here.log")])).unwrap();
        assert_eq!(c.audit.destination, "file:here.log");
        // Bundled defaults resolve against the folder of the file compiled in.
        let bundled =
            Bundled { text: "[audit]\ndestination = \"file:audit.log\"\n", path: Path::new("/src/app/mcp.toml") };
        let c = Config::load_layered(Some(bundled), &Cli::default(), env(&[])).unwrap();
        assert_eq!(c.audit.destination, "file:/src/app/audit.log");
    }

    #[test]
    fn toml_errors_give_the_position_but_never_the_line() {
        let secret = "hunter2-inline-secret";
        for text in [
            format!("[security.jwt]\nissuer = \"https://idp.example\"\nsecret = \"{secret}\n"),
            format!("[security.oauth]\nclient_secret = \"{secret}\" oops\n"),
            format!("[security.oauth]\nclient_secret = \"{secret}\"\nintrospection_cache = []\n"),
        ] {
            let (path, cli) = file(&text);
            let e = Config::load(&cli, env(&[])).unwrap_err().to_string();
            assert!(!e.contains(secret), "the secret is echoed: {e}");
            assert!(e.contains(&path.display().to_string()) && e.contains("line ") && e.contains("column "), "{e}");
        }
        let (_, cli) = file("[tools]\npage_size = \"x\"\n");
        let e = Config::load(&cli, env(&[])).unwrap_err().to_string();
        assert!(e.contains("line 2, column 13") && e.contains("invalid type"), "the parser's message stays: {e}");
    }

    #[test]
    fn printed_config_reads_back() {
        let c = Config::default();
        let again: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(again, c);
    }
}
