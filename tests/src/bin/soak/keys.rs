//! The identity provider's signing keys and the tokens the load clients present.

use std::path::Path;

use anyhow::Result;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_tests::rsa_signing_key;
use serde_json::json;

use crate::{AUDIENCE, ISSUER};

/// The identity provider's two signing keys (RS256, the fixtures of `tests/fixtures/jwt`): `k1` published
/// from the start, `k2` rotated in while the JWKS endpoint is down.
pub(crate) struct Keys {
    pub(crate) k1: (EncodingKey, Jwk),
    pub(crate) k2: (EncodingKey, Jwk),
}

impl Keys {
    pub(crate) fn load(fixtures: &Path) -> Result<Self> {
        Ok(Self {
            k1: rsa_signing_key(&fixtures.join("rsa.key.pem"), "k1")?,
            k2: rsa_signing_key(&fixtures.join("rsa2.key.pem"), "k2")?,
        })
    }

    fn token(key: &EncodingKey, kid: &str, subject: &str) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 4 * 3600,
            "scope": "inventory:read inventory:write mcp:metrics"});
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, key).expect("an RSA key signs")
    }

    pub(crate) fn k1_token(&self, subject: &str) -> String {
        Self::token(&self.k1.0, "k1", subject)
    }

    pub(crate) fn k2_token(&self, subject: &str) -> String {
        Self::token(&self.k2.0, "k2", subject)
    }

    /// A token naming `k1` but signed with `k2`'s key: its signature does not verify.
    pub(crate) fn forged_token(&self, subject: &str) -> String {
        Self::token(&self.k2.0, "k1", subject)
    }
}
