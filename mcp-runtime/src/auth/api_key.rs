//! API keys, stored only as SHA-256 digests and compared in constant time.
//!
//! `security.keys` lists `{ id, hash = "sha256:<hex>", scopes }` inline (digests are not secrets) or names
//! a TOML file of `[[keys]]` tables with `${file:PATH}`. The file is reloaded on SIGHUP and when its
//! contents change (checked every `security.keys_reload_interval`), without dropping a connection; a file
//! that no longer parses keeps the keys in force and logs why. Several keys may be active at once, under
//! one id or several: rotation is adding the new key, moving clients over, removing the old one.
//!
//! Every lookup hashes the presented key and compares the digest with every stored digest, without
//! stopping at a match: an unknown key costs what a wrong one costs, and the time taken says nothing about
//! which digests exist.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use serde::Deserialize;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::{AuthError, AuthMethod, Authenticator, BoxFuture, Credentials, Principal, sha256};
use crate::config::{ApiKeyEntry, ApiKeys, SecretRef, parse_digest};

struct Key {
    id: String,
    digest: [u8; 32],
    scopes: BTreeSet<String>,
}

/// Authenticates API keys against `security.keys`.
pub struct ApiKeyAuthenticator {
    keys: Arc<KeyStore>,
}

struct KeyStore {
    current: RwLock<Arc<[Key]>>,
    /// SHA-256 of the key file's contents when last loaded.
    loaded: RwLock<[u8; 32]>,
}

impl std::fmt::Debug for ApiKeyAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyAuthenticator").field("keys", &self.keys.snapshot().len()).finish()
    }
}

impl ApiKeyAuthenticator {
    /// Loads the keys `security.keys` names; a key file is then watched (SIGHUP, and every
    /// `reload_interval`) for as long as the authenticator lives, when a Tokio runtime is running.
    ///
    /// # Errors
    /// No keys, a malformed digest, the same digest twice, an unreadable or malformed key file.
    pub fn from_config(keys: &ApiKeys, reload_interval: Duration) -> Result<Self, String> {
        match keys {
            ApiKeys::Inline(entries) => Ok(Self { keys: Arc::new(KeyStore::new(build(entries)?, [0; 32])) }),
            ApiKeys::Reference(SecretRef::File(path)) => {
                let (keys, digest) = read_file(path)?;
                let store = Arc::new(KeyStore::new(keys, digest));
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(watch(Arc::downgrade(&store), path.clone(), reload_interval));
                }
                Ok(Self { keys: store })
            }
            ApiKeys::Reference(SecretRef::Env(name)) => {
                let text = std::env::var(name).map_err(|_| format!("security.keys: ${{env:{name}}} is not set"))?;
                Ok(Self { keys: Arc::new(KeyStore::new(parse(&text)?, sha256(text.as_bytes()))) })
            }
            ApiKeys::Reference(SecretRef::Inline(_)) => {
                Err("security.keys must be a list of { id, hash, scopes } or \"${file:PATH}\"".to_owned())
            }
        }
    }

    /// The principal a presented key identifies.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] for a key that matches no stored digest.
    pub fn verify(&self, presented: &str) -> Result<Principal, AuthError> {
        let digest = sha256(presented.as_bytes());
        let keys = self.keys.snapshot();
        let mut found = u64::MAX;
        for (i, key) in keys.iter().enumerate() {
            found.conditional_assign(&(i as u64), key.digest[..].ct_eq(&digest[..]));
        }
        let key = usize::try_from(found).ok().and_then(|i| keys.get(i)).ok_or(AuthError::invalid("unknown API key"))?;
        Ok(Principal::new(key.id.clone(), key.scopes.iter().cloned(), AuthMethod::ApiKey))
    }
}

impl Authenticator for ApiKeyAuthenticator {
    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move { self.verify(credentials.presented().ok_or(AuthError::Missing)?) })
    }
}

impl KeyStore {
    fn new(keys: Vec<Key>, digest: [u8; 32]) -> Self {
        Self { current: RwLock::new(keys.into()), loaded: RwLock::new(digest) }
    }

    fn snapshot(&self) -> Arc<[Key]> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the key file; `forced` (SIGHUP) reloads even when its contents did not change.
    fn reload(&self, path: &Path, forced: bool) {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "the API key file cannot be read: the keys in force stay");
                return;
            }
        };
        let digest = sha256(&text);
        if !forced && *self.loaded.read().unwrap_or_else(PoisonError::into_inner) == digest {
            return;
        }
        let parsed = std::str::from_utf8(&text).map_err(|_| "the file is not UTF-8".to_owned()).and_then(parse);
        match parsed {
            Ok(keys) => {
                let count = keys.len();
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = keys.into();
                *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = digest;
                tracing::info!(path = %path.display(), keys = count, "API keys reloaded");
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "the API key file is invalid: the keys in force stay");
            }
        }
    }
}

async fn watch(store: Weak<KeyStore>, path: PathBuf, every: Duration) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate: the file was just read
    loop {
        #[cfg(unix)]
        let forced = tokio::select! {
            _ = tick.tick() => false,
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
        };
        #[cfg(not(unix))]
        let forced = {
            tick.tick().await;
            false
        };
        let Some(store) = store.upgrade() else { return };
        let path = path.clone();
        // File reads block: keep them off the async workers.
        let _ = tokio::task::spawn_blocking(move || store.reload(&path, forced)).await;
    }
}

fn read_file(path: &Path) -> Result<(Vec<Key>, [u8; 32]), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("security.keys: cannot read the key file {}: {e}", path.display()))?;
    let keys = parse(&text).map_err(|e| format!("security.keys: the key file {}: {e}", path.display()))?;
    Ok((keys, sha256(text.as_bytes())))
}

/// A key file: `[[keys]]` tables of `id`, `hash`, `scopes`.
fn parse(text: &str) -> Result<Vec<Key>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct KeyFile {
        #[serde(default)]
        keys: Vec<ApiKeyEntry>,
    }
    let file: KeyFile = toml::from_str(text).map_err(|e| crate::config::toml_error(text, &e))?;
    build(&file.keys)
}

fn build(entries: &[ApiKeyEntry]) -> Result<Vec<Key>, String> {
    if entries.is_empty() {
        return Err("no API keys are configured: every request would be refused".to_owned());
    }
    let mut seen = HashSet::new();
    entries
        .iter()
        .map(|e| {
            let digest = parse_digest(&e.hash).map_err(|why| format!("key `{}`: {why}", e.id))?;
            if !seen.insert(digest) {
                return Err(format!("key `{}`: the same digest is listed twice", e.id));
            }
            if e.id.is_empty() {
                return Err("a key has an empty id".to_owned());
            }
            Ok(Key { id: e.id.clone(), digest, scopes: e.scopes.iter().cloned().collect() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::key_digest;

    fn entry(id: &str, key: &str, scopes: &[&str]) -> ApiKeyEntry {
        ApiKeyEntry { id: id.into(), hash: key_digest(key), scopes: scopes.iter().map(|s| (*s).to_owned()).collect() }
    }

    #[test]
    fn keys_match_by_digest_only() {
        let keys = ApiKeys::Inline(vec![
            entry("ops", "k-ops", &["a"]),
            entry("ci", "k-ci", &[]),
            entry("ops", "k-new", &["a"]),
        ]);
        let auth = ApiKeyAuthenticator::from_config(&keys, Duration::from_secs(1)).unwrap();
        let p = auth.verify("k-ops").unwrap();
        assert_eq!((p.id.as_str(), p.method.clone()), ("ops", AuthMethod::ApiKey));
        assert!(p.has_scope("a"));
        assert_eq!(auth.verify("k-new").unwrap().id, "ops");
        assert_eq!(auth.verify("k-ci").unwrap().id, "ci");
        assert_eq!(auth.verify("k-cI"), Err(AuthError::invalid("unknown API key")));
        assert!(auth.verify("").is_err());
    }

    #[test]
    fn bad_key_lists_are_refused() {
        let none = ApiKeyAuthenticator::from_config(&ApiKeys::Inline(vec![]), Duration::from_secs(1));
        assert!(none.unwrap_err().contains("no API keys"));
        let twice = ApiKeys::Inline(vec![entry("a", "same", &[]), entry("b", "same", &[])]);
        assert!(ApiKeyAuthenticator::from_config(&twice, Duration::from_secs(1)).unwrap_err().contains("twice"));
    }

    #[test]
    fn the_file_reloads_and_a_broken_file_keeps_the_keys() {
        let dir = std::env::temp_dir().join(format!("mcp-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.toml");
        let write = |key: &str| {
            std::fs::write(
                &path,
                format!("[[keys]]\nid = \"ops\"\nhash = \"{}\"\nscopes = [\"x\"]\n", key_digest(key)),
            )
            .unwrap();
        };
        write("old");
        let auth = ApiKeyAuthenticator::from_config(
            &ApiKeys::Reference(SecretRef::File(path.clone())),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(auth.verify("old").is_ok());
        write("new");
        auth.keys.reload(&path, false);
        assert!(auth.verify("new").is_ok());
        assert!(auth.verify("old").is_err());
        std::fs::write(&path, "[[keys]]\nid = \"ops\"\nhash = \"nope\"\n").unwrap();
        auth.keys.reload(&path, false);
        assert!(auth.verify("new").is_ok(), "a broken file keeps the keys in force");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
