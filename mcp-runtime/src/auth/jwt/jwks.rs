//! A cached JWKS: keys by `kid`, each with the algorithm it pins.
//!
//! The set is fetched at most once per `security.jwt.jwks_refresh` — when a token names a `kid` the cache
//! does not know, or when the cache is older than the interval — so a key rotation at the issuer is picked up
//! with one fetch, and a flood of made-up `kid`s costs at most one fetch per interval. Concurrent callers
//! wait for the one fetch in progress. When the endpoint fails, the cached keys keep serving until they are
//! `security.jwt.jwks_max_stale` old; then every token is refused (fail closed) until a fetch succeeds.
//! While the last fetch failed, a token naming a key the cache does not hold is answered "unavailable"
//! (503, retry later) rather than "invalid": the key may be a rotation the cache could not learn of, so the
//! client is neither told its token is bad nor counted toward the failed-authentication lockout. A key
//! unknown after a successful fetch is refused as invalid (401), still without counting toward the
//! lockout: no signature was checked, and a client that got a newly rotated key before this cache's next
//! fetch must not be locked out for it.
//! Symmetric (`oct`) keys and encryption keys in the set are ignored.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::time::Instant;

use crate::auth::AuthError;
use crate::auth::outbound::Outbound;

type Key = (Arc<DecodingKey>, Algorithm);

/// The JWKS cache.
pub struct Jwks {
    uri: String,
    refresh: Duration,
    max_stale: Duration,
    outbound: Outbound,
    cache: RwLock<Cache>,
    /// When the last fetch started; held while a fetch runs (one at a time).
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
    /// Whether the last fetch failed.
    failing: AtomicBool,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Key>,
    /// The set's only key, for tokens without a `kid`.
    single: Option<Key>,
    fetched: Option<Instant>,
}

impl Jwks {
    /// A cache for `uri`; the first fetch starts now in the background (when a runtime is running).
    pub(crate) fn start(uri: String, refresh: Duration, max_stale: Duration) -> Result<Arc<Self>, String> {
        let jwks = Arc::new(Self {
            uri,
            refresh,
            max_stale: max_stale.max(refresh),
            outbound: Outbound::new()?,
            cache: RwLock::default(),
            last_attempt: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let warm = Arc::clone(&jwks);
            runtime.spawn(async move { warm.refresh_if_due().await });
        }
        Ok(jwks)
    }

    /// Where the keys come from.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// How many fetches were started so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key a token's `kid` names. A known key older than `refresh` is used while a refresh runs in the
    /// background; an unknown one waits for the fetch, when one is due.
    pub(crate) async fn key(self: &Arc<Self>, kid: Option<&str>) -> Result<Key, AuthError> {
        if let Some((key, age)) = self.lookup(kid) {
            if age > self.refresh && age <= self.max_stale && self.due() {
                let jwks = Arc::clone(self);
                tokio::spawn(async move { jwks.refresh_if_due().await });
            }
            if age <= self.max_stale {
                return Ok(key);
            }
        }
        self.refresh_if_due().await;
        if let Some((key, age)) = self.lookup(kid)
            && age <= self.max_stale
        {
            return Ok(key);
        }
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        match cache.fetched {
            None => Err(AuthError::Unavailable("the signing keys could not be fetched".into())),
            Some(at) if at.elapsed() > self.max_stale => {
                Err(AuthError::Unavailable("the signing keys are stale and cannot be refreshed".into()))
            }
            Some(_) if self.failing.load(Ordering::Relaxed) => Err(AuthError::Unavailable(
                "the token's signing key is not cached and the JWKS cannot be fetched".into(),
            )),
            Some(_) if kid.is_none() => Err(AuthError::invalid("the token names no signing key (kid)")),
            Some(_) => Err(AuthError::UnknownKey("the token is signed with an unknown key (kid)".into())),
        }
    }

    /// The cached key and the cache's age.
    fn lookup(&self, kid: Option<&str>) -> Option<(Key, Duration)> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        let age = cache.fetched?.elapsed();
        let key = match kid {
            Some(kid) => cache.keys.get(kid).cloned(),
            None => cache.single.clone(),
        };
        key.map(|key| (key, age))
    }

    /// Whether a fetch may start now: none is running and none started within `refresh`.
    fn due(&self) -> bool {
        self.last_attempt.try_lock().is_ok_and(|last| last.is_none_or(|at| at.elapsed() >= self.refresh))
    }

    /// Fetches the set unless a fetch started less than `refresh` ago.
    async fn refresh_if_due(&self) {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.refresh) {
            return;
        }
        *last = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.outbound.get_json::<JwkSet>(&self.uri).await {
            Ok(set) => {
                let mut keys = HashMap::new();
                let mut usable = Vec::new();
                for jwk in &set.keys {
                    match decoding_key(jwk) {
                        Some(key) => {
                            if let Some(kid) = &jwk.common.key_id {
                                keys.insert(kid.clone(), key.clone());
                            }
                            usable.push(key);
                        }
                        None => {
                            tracing::debug!(kid = ?jwk.common.key_id, "skipping a JWKS key that cannot verify signatures")
                        }
                    }
                }
                let single = if usable.len() == 1 { usable.pop() } else { None };
                tracing::debug!(uri = %self.uri, keys = keys.len(), "JWKS fetched");
                *self.cache.write().unwrap_or_else(PoisonError::into_inner) =
                    Cache { keys, single, fetched: Some(Instant::now()) };
                self.failing.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                self.failing.store(true, Ordering::Relaxed);
                tracing::warn!(uri = %self.uri, error = %e, "the JWKS could not be fetched: cached keys stay in use")
            }
        }
    }
}

/// A verifying key and its algorithm, or `None` for keys that must not verify (symmetric, encryption).
fn decoding_key(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let family_default = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        _ => return None, // `oct`: a shared secret has no business in a public key set
    };
    let alg = match jwk.common.key_algorithm {
        Some(named) => Algorithm::try_from(named).ok().filter(|a| a.family() == family_default.family())?,
        None => family_default,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((Arc::new(key), alg))
}
