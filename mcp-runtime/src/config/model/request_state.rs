//! `[request_state]`: the keys that seal the `requestState` of 2026-07-28 requests that asked the client
//! for input, how long a state stays good, and how long it may be.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;
use crate::config::SecretRef;

/// `[request_state]`: under 2026-07-28 a tool (or prompt, or resource) that needs the client's input is
/// answered `input_required`, and the client retries with its answers and the `requestState` the server
/// gave it. The state is encrypted and authenticated under these keys and bound to the caller, the request
/// and an expiry, so the retry may reach any replica that holds the keys and nothing is stored meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestStateConfig {
    /// The keys, by reference (`"${env:MCP_STATE_KEY}"`, `"${file:/run/secrets/state-key}"`), each at least
    /// 32 bytes. The first seals; every one opens. Rotate by putting the new key first and keeping the old
    /// one for one `ttl`. Empty (the default): a random key of this process's own, so a retry must reach
    /// the same process: give every replica the same keys.
    pub keys: Vec<SecretRef>,
    /// How long a state stays good: a retry after it is refused (the client starts over).
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// The longest state the server issues or accepts, in bytes (its base64 text). A handler that carries
    /// more is answered with an internal error; a longer state from a client is refused.
    pub max_bytes: usize,
}

impl Default for RequestStateConfig {
    fn default() -> Self {
        Self { keys: Vec::new(), ttl: Duration::from_secs(600), max_bytes: 64 * 1024 }
    }
}

impl RequestStateConfig {
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.ttl.is_zero() {
            return Err("request_state.ttl must be above zero".to_owned());
        }
        if self.max_bytes < 256 {
            return Err("request_state.max_bytes must be at least 256".to_owned());
        }
        Ok(())
    }
}
