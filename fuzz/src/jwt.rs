//! Target 4: JWT validation of arbitrary tokens against a fixed key (the RSA test key of
//! `tests/fixtures/jwt`, which pins RS256).
//!
//! Input: a mode line, then either the token itself (`raw`) or a header JSON line and the claims (the
//! rest), which this target encodes and signs as the mode says, byte for byte:
//! - `raw`: the token as given. Accepted only if its signature really verifies under the key.
//! - `rsa2`, `es256`, `eddsa`: signed with a key that is not the configured one; never accepted.
//! - `hs256-pubkey`: HMAC-signed with the configured public key's PEM as the secret (algorithm
//!   confusion); never accepted.
//! - `none`: no signature (`alg: none` style); never accepted.
//! - `truncated`: signed with the configured key, then the signature cut short; never accepted.
//! - `signed`: signed with the configured key; accepted only if the header says RS256 and the claims
//!   pass: the issuer, the audience, a numeric `exp` not past, a numeric `nbf` reached (both with the
//!   leeway), and a subject.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use mcp_runtime::auth::jwt::JwtAuthenticator;
use mcp_runtime::config::{JwtConfig, SecretRef};
use serde_json::{Map, Value};

use crate::text::first_line;

const PUBLIC: &str = include_str!("../../tests/fixtures/jwt/rsa.pub.pem");
const PRIVATE: &str = include_str!("../../tests/fixtures/jwt/rsa.key.pem");
const OTHER_RSA: &str = include_str!("../../tests/fixtures/jwt/rsa2.key.pem");
const EC: &str = include_str!("../../tests/fixtures/jwt/ec.key.pem");
const ED25519: &str = include_str!("../../tests/fixtures/jwt/ed25519.key.pem");
const ISSUER: &str = "https://issuer.fuzz.test";
const AUDIENCE: &str = "mcp-fuzz";

struct Fixture {
    authenticator: JwtAuthenticator,
    public: DecodingKey,
    leeway: u64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = JwtConfig {
            public_key: Some(SecretRef::Inline(PUBLIC.to_owned())),
            issuer: Some(ISSUER.to_owned()),
            audience: vec![AUDIENCE.to_owned()],
            ..JwtConfig::default()
        };
        let authenticator =
            JwtAuthenticator::from_config(&config, vec![AUDIENCE.to_owned()], true).expect("the RSA key loads");
        let public = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).expect("the RSA key loads");
        Fixture { authenticator, public, leeway: config.leeway.as_secs() }
    })
}

/// Builds the token `data` describes, verifies it, and checks the verdict.
pub fn run(data: &[u8]) {
    let (mode, rest) = first_line(data);
    let token = if mode == b"raw" {
        let Ok(token) = std::str::from_utf8(rest) else { return };
        token.to_owned()
    } else {
        let (header, claims) = first_line(rest);
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
        let signature = match mode {
            b"signed" | b"truncated" => {
                sign(&signing_input, &key(EncodingKey::from_rsa_pem(PRIVATE.as_bytes())), Algorithm::RS256)
            }
            b"rsa2" => sign(&signing_input, &key(EncodingKey::from_rsa_pem(OTHER_RSA.as_bytes())), Algorithm::RS256),
            b"es256" => sign(&signing_input, &key(EncodingKey::from_ec_pem(EC.as_bytes())), Algorithm::ES256),
            b"eddsa" => sign(&signing_input, &key(EncodingKey::from_ed_pem(ED25519.as_bytes())), Algorithm::EdDSA),
            b"hs256-pubkey" => {
                sign(&signing_input, &key(EncodingKey::from_secret(PUBLIC.as_bytes())), Algorithm::HS256)
            }
            b"none" => String::new(),
            _ => return,
        };
        let signature = if mode == b"truncated" {
            // Cut one character or more, as many as the claims are long (modulo the signature's length).
            let keep = signature.len() - 1 - claims.len() % signature.len();
            signature[..keep].to_owned()
        } else {
            signature
        };
        format!("{signing_input}.{signature}")
    };
    let fixture = fixture();
    let verdict = crate::runtime().block_on(fixture.authenticator.verify(&token));
    let Ok(principal) = verdict else { return };
    match mode {
        b"raw" => assert!(genuinely_signed(&token), "accepted a token whose signature does not verify: {token:?}"),
        b"signed" => check_claims(&token, &principal.claims, fixture.leeway),
        other => panic!("accepted a token in mode {:?}: {token:?}", String::from_utf8_lossy(other)),
    }
}

fn key(key: jsonwebtoken::errors::Result<EncodingKey>) -> EncodingKey {
    key.expect("a test key loads")
}

fn sign(signing_input: &str, key: &EncodingKey, algorithm: Algorithm) -> String {
    jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm).expect("the test keys sign")
}

/// Whether the header names RS256 and the signature verifies over the first two segments.
fn genuinely_signed(token: &str) -> bool {
    let mut parts = token.rsplitn(2, '.');
    let (Some(signature), Some(signing_input)) = (parts.next(), parts.next()) else { return false };
    let Some(header) = signing_input.split('.').next() else { return false };
    let alg = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned));
    alg.as_deref() == Some("RS256")
        && jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &fixture().public, Algorithm::RS256)
            .unwrap_or(false)
}

/// An accepted, genuinely signed token carries claims that pass every check.
fn check_claims(token: &str, claims: &Map<String, Value>, leeway: u64) {
    assert!(genuinely_signed(token), "accepted with a header that does not name RS256: {token:?}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs_f64();
    let leeway = leeway as f64;
    assert_eq!(claims.get("iss").and_then(Value::as_str), Some(ISSUER), "issuer of {claims:?}");
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(AUDIENCE)),
        _ => false,
    };
    assert!(audience_ok, "audience of {claims:?}");
    let exp = claims.get("exp").and_then(Value::as_f64).expect("a numeric exp");
    assert!(exp + leeway >= now, "expired: {claims:?}");
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_f64().expect("a numeric nbf");
        assert!(nbf - leeway <= now + 1.0, "not yet valid: {claims:?}");
    }
    let subject = ["sub", "client_id", "azp"]
        .iter()
        .any(|k| claims.get(*k).and_then(Value::as_str).is_some_and(|s| !s.is_empty()));
    assert!(subject, "no subject: {claims:?}");
}
