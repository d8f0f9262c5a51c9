//! Configuration reload without a restart: on `SIGHUP`, and when the file named by `--config` or
//! `MCP_CONFIG` changes (its contents compared every `reload.interval`), the configuration is read again
//! exactly as the start read it (bundled defaults < file < environment < flags) and checked the same way.
//!
//! What applies at once: `[tools] disabled` (through the server's handle, which tells clients the tool
//! list changed), `[throttling]` but its `store` (the plan is swapped whole; the limiter and the budgets it
//! holds stay) and `[reload] interval`. Any other key that differs from the running configuration is named
//! in one warning per reload and keeps its running value until a restart. A configuration that cannot be
//! read or checked changes nothing: the error names the file and the reason.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Value;

use crate::config::{Bundled, Cli, Config};
use crate::pipeline::Pipeline;
use crate::server::{ServerHandle, Tool};
use crate::throttle::{Plan, ThrottleLayer};

/// Where a configuration comes from: what `run_main` read at start.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The configuration compiled into the binary.
    pub(crate) defaults: Option<Bundled<'static>>,
    /// The command line (`--config`, and the flags that override keys).
    pub(crate) cli: Cli,
}

impl Source {
    /// The configuration file, as the start chose it: `--config`, else `MCP_CONFIG`.
    fn file(&self) -> Option<PathBuf> {
        self.cli.config.clone().or_else(|| std::env::var_os("MCP_CONFIG").map(PathBuf::from))
    }

    fn load(&self) -> Result<Config, crate::config::ConfigError> {
        Config::load_layered(self.defaults, &self.cli, std::env::vars_os())
    }
}

/// What a reload changes in the running server.
pub(crate) struct Targets {
    /// Applies `[tools] disabled`.
    pub(crate) handle: ServerHandle,
    /// Applies `[throttling]`.
    pub(crate) throttle: Option<ThrottleLayer>,
}

/// The keys of one reload, sorted into what applies now and what waits for a restart.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Keys that changed and apply at once.
    pub(crate) live: Vec<String>,
    /// Keys that changed but keep their running value until a restart.
    pub(crate) restart: Vec<String>,
}

impl Changes {
    /// The changed keys of `next` against `running`, dotted (`throttling.tools.lookup_stock`,
    /// `http.max_sessions`); an array is one key (`tools.disabled`).
    pub(crate) fn between(running: &Config, next: &Config) -> Self {
        let mut keys = BTreeSet::new();
        differences(&as_value(running), &as_value(next), "", &mut keys);
        let (live, mut restart): (Vec<String>, Vec<String>) = keys.into_iter().partition(|k| is_live(k));
        // Inline secrets (accepted under --dev) serialize masked: a change of one shows only here.
        if restart.is_empty() && &with_live(running, next) != next {
            restart.push("an inline secret".to_owned());
        }
        Self { live, restart }
    }

    fn touches(&self, prefix: &str) -> bool {
        self.live.iter().any(|k| k == prefix || k.starts_with(&format!("{prefix}.")))
    }
}

/// Whether a changed key applies without a restart.
fn is_live(key: &str) -> bool {
    let under = |section: &str| key == section || key.starts_with(&format!("{section}."));
    key == "tools.disabled" || under("reload") || (under("throttling") && !under("throttling.store"))
}

/// `running` with the keys that apply live taken from `next`: the configuration in force after a reload.
fn with_live(running: &Config, next: &Config) -> Config {
    let mut config = running.clone();
    config.tools.disabled.clone_from(&next.tools.disabled);
    let store = std::mem::replace(&mut config.throttling, next.throttling.clone()).store;
    config.throttling.store = store;
    config.reload = next.reload.clone();
    config
}

fn as_value(config: &Config) -> Value {
    Value::try_from(config).unwrap_or_else(|_| Value::Table(toml::Table::new()))
}

/// Collects the dotted paths at which `a` and `b` differ: tables are walked, anything else is compared whole.
fn differences(a: &Value, b: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match (a, b) {
        (Value::Table(a), Value::Table(b)) => {
            for key in a.keys().chain(b.keys()) {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                match (a.get(key), b.get(key)) {
                    (Some(a), Some(b)) => differences(a, b, &path, out),
                    (None, None) => {}
                    _ => {
                        out.insert(path);
                    }
                }
            }
        }
        (a, b) if a != b => {
            out.insert(prefix.to_owned());
        }
        _ => {}
    }
}

/// One server's reloads: what is in force, and what was last seen of the file.
pub(crate) struct Reloader {
    source: Source,
    file: Option<PathBuf>,
    running: Config,
    targets: Targets,
    /// SHA-256 of the file's contents when last read, loadable or not (a broken file is reported once).
    seen: Option<[u8; 32]>,
    /// The last failure to read the file, so that the same one is logged once, not on every check.
    unreadable: Option<String>,
}

impl Reloader {
    /// A reloader for a server started with `running`, read from `source`.
    pub(crate) fn new(source: Source, running: Config, targets: Targets) -> Self {
        let file = source.file();
        let seen = file.as_ref().and_then(|f| std::fs::read(f).ok()).map(|bytes| digest(&bytes));
        Self { source, file, running, targets, seen, unreadable: None }
    }

    /// How long to wait before the next look at the file; `None`: only `SIGHUP` reloads.
    fn interval(&self) -> Option<Duration> {
        let every = self.running.reload.interval;
        (self.file.is_some() && !every.is_zero()).then(|| every.max(Duration::from_millis(100)))
    }

    /// Reloads when the file's contents changed since they were last read.
    pub(crate) fn check_file(&mut self) {
        let Some(file) = &self.file else { return };
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) => {
                let reason = e.to_string();
                if self.unreadable.as_ref() != Some(&reason) {
                    tracing::error!(
                        file = %file.display(), error = %reason,
                        "the configuration file cannot be read: the running configuration stays"
                    );
                    self.unreadable = Some(reason);
                }
                return;
            }
        };
        self.unreadable = None;
        let seen = digest(&bytes);
        if self.seen == Some(seen) {
            return;
        }
        self.seen = Some(seen);
        self.reload("file changed");
    }

    /// Reads the configuration again and applies what may change live; `trigger` says why (logged).
    pub(crate) fn reload(&mut self, trigger: &str) {
        let file = self.file.as_ref().map_or_else(|| "(none)".to_owned(), |f| f.display().to_string());
        if let Some(bytes) = self.file.as_ref().and_then(|f| std::fs::read(f).ok()) {
            self.seen = Some(digest(&bytes));
        }
        let next = match self.source.load() {
            Ok(next) => next,
            Err(e) => {
                not_reloaded(trigger, &file, &e);
                return;
            }
        };
        // Everything that applies is checked before anything is applied: a reload applies whole or not at all.
        if let Err(e) = Plan::new(&next.throttling, std::iter::empty::<Tool>()) {
            not_reloaded(trigger, &file, &e);
            return;
        }
        let changes = Changes::between(&self.running, &next);
        if changes.touches("throttling")
            && let Some(throttle) = &self.targets.throttle
            && let Err(e) = throttle.reload(&next.throttling)
        {
            not_reloaded(trigger, &file, &e);
            return;
        }
        if changes.touches("tools.disabled") {
            let unknown = self.targets.handle.set_config_disabled(&next.tools.disabled);
            if !unknown.is_empty() {
                tracing::warn!(
                    tools = %unknown.join(", "),
                    "tools.disabled names tools this server does not have (now): nothing to disable for them"
                );
            }
        }
        if self.running.throttling.store != next.throttling.store {
            tracing::warn!(
                trigger,
                file,
                "throttling.store changed: the limiter store (memory or redis, and its settings) changes only at a \
                 restart"
            );
        }
        if !changes.restart.is_empty() {
            tracing::warn!(
                trigger, file, keys = %changes.restart.join(", "),
                "configuration keys changed that apply only at a restart: their running values stay"
            );
        }
        if changes.live.is_empty() {
            tracing::info!(trigger, file, "configuration reloaded: nothing to apply");
        } else {
            tracing::info!(trigger, file, changed = %changes.live.join(", "), "configuration reloaded");
        }
        self.running = with_live(&self.running, &next);
    }
}

/// Logs a reload that changed nothing because the configuration could not be used.
fn not_reloaded(trigger: &str, file: &str, error: &dyn std::fmt::Display) {
    tracing::error!(
        trigger, file, error = %error,
        "the configuration was not reloaded: the running configuration stays"
    );
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Starts reloading `pipeline`'s configuration, read from `source`: on `SIGHUP`, and when the file changes.
/// The `SIGHUP` handler is in place when this returns (a `SIGHUP` then never ends the process). Runs for
/// as long as the Tokio runtime does.
pub(crate) fn spawn(pipeline: &Pipeline, source: Source) {
    let targets = Targets { handle: pipeline.app().handle().clone(), throttle: pipeline.throttle().cloned() };
    let reloader = Reloader::new(source, pipeline.config().clone(), targets);
    #[cfg(unix)]
    let hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            tracing::warn!(error = %e, "SIGHUP cannot be caught: the configuration reloads only when its file changes");
            None
        }
    };
    #[cfg(unix)]
    tokio::spawn(watch(reloader, hangup));
    #[cfg(not(unix))]
    tokio::spawn(watch(reloader));
}

#[cfg(unix)]
async fn watch(mut reloader: Reloader, mut hangup: Option<tokio::signal::unix::Signal>) {
    loop {
        let every = reloader.interval();
        let signal = async {
            match hangup.as_mut() {
                Some(hangup) => hangup.recv().await,
                None => std::future::pending().await,
            }
        };
        let forced = tokio::select! {
            () = sleep(every) => false,
            Some(()) = signal => true,
        };
        reloader = match run(reloader, forced).await {
            Some(reloader) => reloader,
            None => return,
        };
    }
}

#[cfg(not(unix))]
async fn watch(mut reloader: Reloader) {
    loop {
        sleep(reloader.interval()).await;
        reloader = match run(reloader, false).await {
            Some(reloader) => reloader,
            None => return,
        };
    }
}

async fn sleep(every: Option<Duration>) {
    match every {
        Some(every) => tokio::time::sleep(every).await,
        None => std::future::pending().await,
    }
}

/// One check or reload, off the async workers (it reads files). `None` when the runtime is shutting down.
async fn run(mut reloader: Reloader, forced: bool) -> Option<Reloader> {
    tokio::task::spawn_blocking(move || {
        if forced {
            reloader.reload("SIGHUP");
        } else {
            reloader.check_file();
        }
        reloader
    })
    .await
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ToolThrottle;

    #[test]
    fn live_keys_apply_and_others_are_named_for_a_restart() {
        let running = Config::default();
        let mut next = running.clone();
        next.tools.disabled = vec!["adjust_stock".to_owned()];
        next.throttling.per_principal = Some("10/min".to_owned());
        next.throttling.tools.insert("lookup_stock".to_owned(), ToolThrottle::Rate("1/min".to_owned()));
        next.reload.interval = Duration::from_secs(5);
        next.http.max_sessions = 7;
        next.tools.page_size = 3;
        let changes = Changes::between(&running, &next);
        assert_eq!(
            changes.live,
            ["reload.interval", "throttling.per_principal", "throttling.tools.lookup_stock", "tools.disabled"]
        );
        assert_eq!(changes.restart, ["http.max_sessions", "tools.page_size"]);
        let applied = with_live(&running, &next);
        assert_eq!(applied.tools.disabled, next.tools.disabled);
        assert_eq!(applied.throttling, next.throttling);
        assert_eq!((applied.http.max_sessions, applied.tools.page_size), (running.http.max_sessions, 100));
        // What waits for a restart is named again at the next reload: it is still not in force.
        assert_eq!(Changes::between(&applied, &next).restart, ["http.max_sessions", "tools.page_size"]);
        assert_eq!(Changes::between(&applied, &next).live, Vec::<String>::new());
    }

    #[test]
    fn a_change_of_store_waits_for_a_restart() {
        let running = Config::default();
        let mut next = running.clone();
        next.throttling.store = crate::config::StoreConfig::Redis {
            url: crate::config::SecretRef::Env("REDIS_URL".to_owned()),
            on_error: crate::config::OnRedisError::Local,
            timeout: Duration::from_millis(100),
            prefix: "p:".to_owned(),
        };
        let changes = Changes::between(&running, &next);
        assert!(changes.live.is_empty(), "{changes:?}");
        assert!(changes.restart.iter().all(|k| k.starts_with("throttling.store")) && !changes.restart.is_empty());
        assert_eq!(with_live(&running, &next).throttling.store, running.throttling.store);
    }
}
