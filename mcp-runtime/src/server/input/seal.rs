//! `requestState` sealed by the server (SEP-2322): what a request that asked the client for input carries
//! into its retry, encrypted and authenticated (ChaCha20-Poly1305) under `[request_state].keys`, and bound
//! to the caller, the request and an expiry.
//!
//! The client echoes the state back untouched; it is attacker-controlled input, so [`StateKeys::open`]
//! refuses a state that does not decrypt (tampered, or sealed under a key this server does not hold),
//! that expired, or that was issued to another principal or for another request (method, name, or a
//! digest of the arguments). Nothing is kept on the server: the retry may reach any replica holding the
//! key. Keys rotate by list: the first seals, every one opens, so a new key goes first and the old one
//! stays listed for one `ttl`.
//!
//! A token is `base64url(version ‖ key id ‖ nonce ‖ ciphertext ‖ tag)`; the key id (4 bytes of the
//! SHA-256 of the derived key) picks the key without trying each.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::RequestStateConfig;

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
/// The label the sealing key is derived under, so a key shared with another use never seals with the same bytes.
const LABEL: &[u8] = b"mcp-runtime request_state v1";
/// The shortest configured key: 32 bytes, the strength of the cipher.
pub(crate) const MIN_KEY_BYTES: usize = 32;

/// What a state is bound to: who asked, and for which request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Binding {
    /// The principal (`method:id`, e.g. `api_key:ci`).
    pub(crate) principal: String,
    /// `tools/call`, `prompts/get` or `resources/read`.
    pub(crate) method: String,
    /// The tool or prompt name, or the resource URI.
    pub(crate) name: String,
    /// SHA-256 (hex) of the request's arguments, keys sorted.
    pub(crate) arguments: String,
}

/// What a state carries from one attempt to the next: the client's answers to requests made in earlier
/// rounds, and what the handler kept ([`crate::Context::remember`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Carried {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) answers: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) kept: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(flatten)]
    binding: Binding,
    /// Seconds since the epoch after which the state is refused.
    exp: u64,
    #[serde(flatten)]
    carried: Carried,
}

/// Why a `requestState` was refused. Each is answered −32602 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateRefused {
    #[error("requestState is malformed or was tampered with")]
    Tampered,
    #[error("requestState was sealed with a key this server does not hold (rotated out, or another deployment's)")]
    UnknownKey,
    #[error("requestState expired: start the request again without it")]
    Expired,
    #[error("requestState was issued to another caller")]
    OtherPrincipal,
    #[error("requestState was issued for another request (method, name or arguments differ)")]
    OtherRequest,
    #[error("requestState is longer than the {0} bytes this server accepts (request_state.max_bytes)")]
    TooLong(usize),
}

/// The state would be longer than `[request_state].max_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request's state ({len} bytes) is longer than request_state.max_bytes ({max})")]
pub(crate) struct StateTooLong {
    pub(crate) len: usize,
    pub(crate) max: usize,
}

struct Key {
    id: [u8; KEY_ID_LEN],
    aead: LessSafeKey,
}

/// The keys states are sealed and opened with, their lifetime and size cap.
pub(crate) struct StateKeys {
    keys: Vec<Key>,
    ttl: Duration,
    max_bytes: usize,
    /// No key was configured: a key of this process's own seals, so a retry must reach this process.
    ephemeral: bool,
}

impl std::fmt::Debug for StateKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateKeys")
            .field("keys", &self.keys.len())
            .field("ttl", &self.ttl)
            .field("max_bytes", &self.max_bytes)
            .field("ephemeral", &self.ephemeral)
            .finish()
    }
}

impl StateKeys {
    /// The keys of `[request_state]`, resolved (`allow_inline`: `--dev` lets a key be written inline).
    /// Without keys a random key of this process's own is used.
    ///
    /// # Errors
    /// A key that cannot be resolved, or shorter than 32 bytes.
    pub(crate) fn from_config(config: &RequestStateConfig, allow_inline: bool) -> Result<Self, String> {
        let mut secrets = Vec::with_capacity(config.keys.len());
        for (i, reference) in config.keys.iter().enumerate() {
            let secret = reference.resolve(allow_inline).map_err(|e| format!("request_state.keys[{i}]: {e}"))?;
            if secret.expose().len() < MIN_KEY_BYTES {
                return Err(format!(
                    "request_state.keys[{i}] is {} bytes: a key needs at least {MIN_KEY_BYTES} (e.g. `openssl rand -base64 32`)",
                    secret.expose().len()
                ));
            }
            secrets.push(secret.expose().as_bytes().to_vec());
        }
        let ephemeral = secrets.is_empty();
        if ephemeral {
            let mut random = vec![0u8; MIN_KEY_BYTES];
            getrandom::fill(&mut random).map_err(|e| format!("request_state: no random key: {e}"))?;
            secrets.push(random);
        }
        Ok(Self::new(&secrets, config.ttl, config.max_bytes, ephemeral))
    }

    pub(crate) fn new(secrets: &[Vec<u8>], ttl: Duration, max_bytes: usize, ephemeral: bool) -> Self {
        let keys = secrets
            .iter()
            .map(|secret| {
                let derived = derive(secret);
                let digest = Sha256::digest(derived);
                let mut id = [0u8; KEY_ID_LEN];
                id.copy_from_slice(&digest[..KEY_ID_LEN]);
                let unbound = UnboundKey::new(&CHACHA20_POLY1305, &derived).expect("a 32-byte ChaCha20-Poly1305 key");
                Key { id, aead: LessSafeKey::new(unbound) }
            })
            .collect();
        Self { keys, ttl, max_bytes, ephemeral }
    }

    /// Whether the key is this process's own (no `[request_state].keys` configured).
    pub(crate) fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// Seals `carried` for a retry of the request `binding` describes, valid for the configured ttl.
    ///
    /// # Errors
    /// The sealed state would exceed `max_bytes`.
    pub(crate) fn seal(&self, binding: &Binding, carried: Carried) -> Result<String, StateTooLong> {
        self.seal_at(binding, carried, SystemTime::now())
    }

    fn seal_at(&self, binding: &Binding, carried: Carried, now: SystemTime) -> Result<String, StateTooLong> {
        let exp = epoch_secs(now).saturating_add(self.ttl.as_secs().max(1));
        let payload = Payload { binding: binding.clone(), exp, carried };
        let mut text = serde_json::to_vec(&payload).expect("a state serializes");
        // 4 base64 characters per 3 bytes: refuse before sealing what would be too long to send.
        let len = (HEADER_LEN + text.len() + CHACHA20_POLY1305.tag_len()).div_ceil(3) * 4;
        if len > self.max_bytes {
            return Err(StateTooLong { len, max: self.max_bytes });
        }
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's random source works");
        let header = header(key.id, nonce);
        key.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&header[..1 + KEY_ID_LEN]),
                &mut text,
            )
            .expect("a state within max_bytes seals");
        let mut token = header.to_vec();
        token.extend_from_slice(&text);
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    /// Opens a state the client echoed back on the request `binding` describes.
    ///
    /// # Errors
    /// See [`StateRefused`].
    pub(crate) fn open(&self, binding: &Binding, token: &str) -> Result<Carried, StateRefused> {
        self.open_at(binding, token, SystemTime::now())
    }

    fn open_at(&self, binding: &Binding, token: &str, now: SystemTime) -> Result<Carried, StateRefused> {
        if token.len() > self.max_bytes {
            return Err(StateRefused::TooLong(self.max_bytes));
        }
        let mut bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| StateRefused::Tampered)?;
        if bytes.len() < HEADER_LEN + CHACHA20_POLY1305.tag_len() || bytes[0] != VERSION {
            return Err(StateRefused::Tampered);
        }
        let key = self.keys.iter().find(|k| k.id == bytes[1..=KEY_ID_LEN]).ok_or(StateRefused::UnknownKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[1 + KEY_ID_LEN..HEADER_LEN]);
        let (header, sealed) = bytes.split_at_mut(HEADER_LEN);
        let text = key
            .aead
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(&header[..1 + KEY_ID_LEN]), sealed)
            .map_err(|_| StateRefused::Tampered)?;
        let payload: Payload = serde_json::from_slice(text).map_err(|_| StateRefused::Tampered)?;
        if payload.exp < epoch_secs(now) {
            return Err(StateRefused::Expired);
        }
        if payload.binding.principal != binding.principal {
            return Err(StateRefused::OtherPrincipal);
        }
        if payload.binding != *binding {
            return Err(StateRefused::OtherRequest);
        }
        Ok(payload.carried)
    }
}

/// The cipher key of a configured secret: HMAC-SHA256(secret, [`LABEL`]).
fn derive(secret: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(LABEL);
    mac.finalize().into_bytes().into()
}

fn header(id: [u8; KEY_ID_LEN], nonce: [u8; NONCE_LEN]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0] = VERSION;
    header[1..=KEY_ID_LEN].copy_from_slice(&id);
    header[1 + KEY_ID_LEN..].copy_from_slice(&nonce);
    header
}

fn epoch_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// SHA-256 of `arguments` (none: `{}`) written as JSON with object keys sorted at every depth, so equal
/// arguments digest equally whatever order the client wrote them in (and whether or not serde_json keeps
/// order). Streamed into the hash: nothing is serialized into a buffer first, and an object's keys are
/// collected for sorting only when they are not in order already (serde_json's default map keeps them so).
pub(crate) fn digest(arguments: Option<&Map<String, Value>>) -> [u8; 32] {
    /// The hash as an `io::Write`, for `serde_json::to_writer`.
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    fn feed(h: &mut Hashing, value: &Value) {
        match value {
            Value::Object(map) => feed_object(h, map),
            Value::Array(items) => {
                h.0.update(b"[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        h.0.update(b",");
                    }
                    feed(h, item);
                }
                h.0.update(b"]");
            }
            leaf => serde_json::to_writer(&mut *h, leaf).expect("a JSON value writes"),
        }
    }
    fn entry(h: &mut Hashing, first: bool, key: &str, value: &Value) {
        if !first {
            h.0.update(b",");
        }
        serde_json::to_writer(&mut *h, key).expect("a string writes");
        h.0.update(b":");
        feed(h, value);
    }
    fn feed_object(h: &mut Hashing, map: &Map<String, Value>) {
        h.0.update(b"{");
        let mut keys = map.keys();
        let sorted = keys.next().is_none_or(|first| keys.try_fold(first, |prev, k| (prev <= k).then_some(k)).is_some());
        if sorted {
            for (i, (key, value)) in map.iter().enumerate() {
                entry(h, i == 0, key, value);
            }
        } else {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (i, (key, value)) in entries.into_iter().enumerate() {
                entry(h, i == 0, key, value);
            }
        }
        h.0.update(b"}");
    }
    let mut h = Hashing(Sha256::new());
    feed_object(&mut h, arguments.unwrap_or(&Map::new()));
    h.0.finalize().into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(secrets: &[&str]) -> StateKeys {
        let secrets: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
        StateKeys::new(&secrets, Duration::from_secs(600), 4096, false)
    }

    fn binding(principal: &str, name: &str) -> Binding {
        Binding {
            principal: principal.to_owned(),
            method: "tools/call".to_owned(),
            name: name.to_owned(),
            arguments: hex::encode(digest(json!({"b": 1, "a": [2, {"y": 0, "x": 1}]}).as_object())),
        }
    }

    fn carried() -> Carried {
        let mut carried = Carried::default();
        carried.answers.insert("step1".into(), json!({"action": "accept", "content": {"name": "Alice"}}));
        carried.kept.insert("plan".into(), json!([1, 2, 3]));
        carried
    }

    const A: &str = "0123456789abcdef0123456789abcdef-a";
    const B: &str = "0123456789abcdef0123456789abcdef-b";

    #[test]
    fn a_sealed_state_opens_on_its_request_only() {
        let keys = keys(&[A]);
        let token = keys.seal(&binding("api_key:ci", "deploy"), carried()).unwrap();
        assert_eq!(keys.open(&binding("api_key:ci", "deploy"), &token).unwrap(), carried());
        assert_eq!(keys.open(&binding("api_key:ops", "deploy"), &token), Err(StateRefused::OtherPrincipal));
        assert_eq!(keys.open(&binding("api_key:ci", "rollback"), &token), Err(StateRefused::OtherRequest));
        let mut other_args = binding("api_key:ci", "deploy");
        other_args.arguments = hex::encode(digest(json!({"b": 2}).as_object()));
        assert_eq!(keys.open(&other_args, &token), Err(StateRefused::OtherRequest));
        assert!(!token.contains("Alice"), "the state is encrypted, not only signed: {token}");
    }

    #[test]
    fn any_changed_byte_is_refused() {
        let keys = keys(&[A]);
        let b = binding("anonymous:anonymous", "t");
        let token = keys.seal(&b, carried()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 0x01;
            let refused = keys.open(&b, &URL_SAFE_NO_PAD.encode(&changed)).unwrap_err();
            assert!(matches!(refused, StateRefused::Tampered | StateRefused::UnknownKey), "byte {i}: {refused:?}");
        }
        assert_eq!(keys.open(&b, &format!("{token}-TAMPERED")), Err(StateRefused::Tampered));
        assert_eq!(keys.open(&b, ""), Err(StateRefused::Tampered));
    }

    #[test]
    fn states_expire() {
        let keys = keys(&[A]);
        let b = binding("p", "t");
        let then = SystemTime::now() - Duration::from_secs(601);
        let token = keys.seal_at(&b, Carried::default(), then).unwrap();
        assert_eq!(keys.open(&b, &token), Err(StateRefused::Expired));
        let fresh = keys.seal(&b, Carried::default()).unwrap();
        assert!(keys.open(&b, &fresh).is_ok());
    }

    #[test]
    fn the_first_key_seals_and_every_key_opens() {
        let old = keys(&[A]);
        let rotated = keys(&[B, A]);
        let retired = keys(&[B]);
        let b = binding("p", "t");
        let by_old = old.seal(&b, carried()).unwrap();
        assert_eq!(rotated.open(&b, &by_old).unwrap(), carried(), "the old key still opens after rotation");
        let by_new = rotated.seal(&b, carried()).unwrap();
        assert_eq!(retired.open(&b, &by_new).unwrap(), carried(), "the new key seals");
        assert_eq!(old.open(&b, &by_new), Err(StateRefused::UnknownKey));
        assert_eq!(retired.open(&b, &by_old), Err(StateRefused::UnknownKey), "a retired key opens nothing");
    }

    #[test]
    fn states_are_bounded_both_ways() {
        let keys = StateKeys::new(&[A.as_bytes().to_vec()], Duration::from_secs(60), 256, false);
        let b = binding("p", "t");
        let mut big = Carried::default();
        big.kept.insert("blob".into(), json!("x".repeat(400)));
        let StateTooLong { len, max } = keys.seal(&b, big).unwrap_err();
        assert!(len > 256 && max == 256);
        assert_eq!(keys.open(&b, &"A".repeat(300)), Err(StateRefused::TooLong(256)));
        let sealed = keys.seal(&b, Carried::default()).unwrap();
        assert!(sealed.len() <= 256);
    }

    #[test]
    fn short_keys_are_refused_at_start_and_none_means_a_process_key() {
        let mut config = RequestStateConfig::default();
        config.keys = vec![crate::config::SecretRef::Inline("short".into())];
        assert!(StateKeys::from_config(&config, true).unwrap_err().contains("at least 32"));
        config.keys = vec![crate::config::SecretRef::Inline(A.into())];
        assert!(StateKeys::from_config(&config, false).unwrap_err().contains("request_state.keys[0]"));
        assert!(!StateKeys::from_config(&config, true).unwrap().is_ephemeral());
        let own = StateKeys::from_config(&RequestStateConfig::default(), false).unwrap();
        assert!(own.is_ephemeral());
        let b = binding("p", "t");
        assert!(own.open(&b, &own.seal(&b, carried()).unwrap()).is_ok());
    }

    #[test]
    fn digests_ignore_key_order() {
        let digest = |v: Value| digest(v.as_object());
        assert_eq!(digest(json!({"a": 1, "b": {"c": 2, "d": 3}})), digest(json!({"b": {"d": 3, "c": 2}, "a": 1})));
        assert_ne!(digest(json!({"a": 1})), digest(json!({"a": 2})));
        assert_ne!(digest(json!({"a": [1, 2]})), digest(json!({"a": [12]})));
        assert_eq!(digest(json!({})), super::digest(None));
    }
}
