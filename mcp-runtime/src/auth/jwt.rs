//! Signed JWTs: RS256, ES256, EdDSA and HS256 (and their family members), checked against a configured
//! key (`security.jwt.public_key` / `secret`) or a JWKS (`security.jwt.jwks_uri`, see [`jwks`]).
//!
//! The algorithm is pinned by the key — the configured key's type, or the JWKS entry's `alg` — and never
//! taken from the token: a token whose header names another algorithm (`none`, or HS256 signed with an RSA
//! public key) is refused before any signature is checked. `exp`, `iss` and `aud` are required, `nbf` is
//! honoured, `security.jwt.leeway` absorbs clock skew, and a claim of the wrong type (a string `exp`) is
//! refused. With `security.jwt.required_typ` the header's `typ` must match (`at+jwt`, RFC 9068), so an ID
//! token or another JWT the issuer signs cannot pass for an access token. Scopes come from `scope`
//! (space-separated) or `scp`; the principal's id from `sub` (or the claim `security.jwt.principal_claim`
//! names), and from nothing else: a token without it is refused.

pub mod jwks;

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use self::jwks::Jwks;
use super::{AuthError, AuthMethod, Authenticator, BoxFuture, Credentials, Principal};
use crate::config::JwtConfig;

/// Verifies JWTs against a pinned key or a JWKS.
pub struct JwtAuthenticator {
    keys: Keys,
    issuer: String,
    audience: Vec<String>,
    leeway: u64,
    principal_claim: String,
    required_typ: Option<String>,
}

enum Keys {
    Fixed(Arc<DecodingKey>, Algorithm),
    Jwks(Arc<Jwks>),
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Fixed(_, alg) => format!("fixed {alg:?}"),
            Keys::Jwks(jwks) => format!("jwks {}", jwks.uri()),
        };
        f.debug_struct("JwtAuthenticator").field("keys", &keys).field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl JwtAuthenticator {
    /// Reads the key (resolving its reference) and the checks `[security.jwt]` asks for; `audience`
    /// overrides `security.jwt.audience` (the OAuth resource).
    ///
    /// # Errors
    /// No issuer or audience, an unresolvable or unusable key, an algorithm outside the key's family.
    pub fn from_config(config: &JwtConfig, audience: Vec<String>, allow_inline: bool) -> Result<Self, String> {
        let issuer = config.issuer.clone().ok_or("security.jwt.issuer is required")?;
        if audience.is_empty() {
            return Err("security.jwt.audience is required".to_owned());
        }
        let pinned = config
            .algorithm
            .as_deref()
            .map(|a| a.parse::<Algorithm>().map_err(|_| format!("security.jwt.algorithm `{a}` is not a JWS algorithm")))
            .transpose()?;
        let keys = if let Some(reference) = &config.public_key {
            let pem = reference.resolve(allow_inline).map_err(|e| format!("security.jwt.public_key: {e}"))?;
            let (key, alg) = public_key(pem.expose().as_bytes(), pinned)?;
            Keys::Fixed(Arc::new(key), alg)
        } else if let Some(reference) = &config.secret {
            let secret = reference.resolve(allow_inline).map_err(|e| format!("security.jwt.secret: {e}"))?;
            if secret.expose().len() < 32 {
                return Err("security.jwt.secret must be at least 32 bytes long".to_owned());
            }
            let alg = pinned.unwrap_or(Algorithm::HS256);
            if alg.family() != AlgorithmFamily::Hmac {
                return Err(format!("security.jwt.algorithm {alg:?} cannot be used with a shared secret"));
            }
            let key = DecodingKey::from_secret(secret.expose().as_bytes()).map_err(|e| e.to_string())?;
            Keys::Fixed(Arc::new(key), alg)
        } else if let Some(uri) = &config.jwks_uri {
            Keys::Jwks(Jwks::start(uri.clone(), config.jwks_refresh, config.jwks_max_stale)?)
        } else {
            return Err("[security.jwt] needs public_key, secret or jwks_uri".to_owned());
        };
        Ok(Self {
            keys,
            issuer,
            audience,
            leeway: config.leeway.as_secs(),
            principal_claim: config.principal_claim.clone(),
            required_typ: config.required_typ.clone(),
        })
    }

    /// The JWKS cache, when keys come from one.
    pub fn jwks(&self) -> Option<&Jwks> {
        match &self.keys {
            Keys::Jwks(jwks) => Some(jwks),
            Keys::Fixed(..) => None,
        }
    }

    /// Checks a token and returns its principal.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] with the reason (never the token); [`AuthError::Unavailable`] when the JWKS
    /// cannot be fetched and nothing cached is recent enough.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(describe(e.kind()).into()))?;
        let (key, alg) = match &self.keys {
            Keys::Fixed(key, alg) => (Arc::clone(key), *alg),
            Keys::Jwks(jwks) => jwks.key(header.kid.as_deref()).await?,
        };
        if header.alg != alg {
            return Err(AuthError::invalid("the token's algorithm is not the one this server's key is pinned to"));
        }
        if let Some(required) = &self.required_typ
            && !header.typ.as_deref().is_some_and(|typ| same_media_type(typ, required))
        {
            return Err(AuthError::invalid("the token's type (typ) is not the one this server accepts"));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audience);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(describe(e.kind()).into()))?;
        principal(data.claims, AuthMethod::Jwt, &self.principal_claim)
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move { self.verify(credentials.presented().ok_or(AuthError::Missing)?).await })
    }
}

/// The principal of checked claims, named by the claim `id_claim` (a non-empty string). Numeric-date claims
/// must be numbers, whatever the decoder tolerated.
pub(crate) fn principal(
    claims: Map<String, Value>,
    method: AuthMethod,
    id_claim: &str,
) -> Result<Principal, AuthError> {
    for claim in ["exp", "nbf", "iat"] {
        if claims.get(claim).is_some_and(|v| !v.is_number()) {
            return Err(AuthError::Invalid(format!("the {claim} claim is not a number").into()));
        }
    }
    let id = claims
        .get(id_claim)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Invalid(format!("the token names no principal (the {id_claim} claim)").into()))?
        .to_owned();
    let scopes = scopes_from_claims(&claims);
    Ok(Principal { id, scopes, claims, method })
}

/// Whether two `typ` values name one media type: case-insensitively, and with the `application/` prefix
/// optional (RFC 7515 §4.1.9), so `application/at+jwt` is `at+jwt`.
fn same_media_type(typ: &str, required: &str) -> bool {
    let bare = |t: &str| {
        let t = t.trim();
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => t[12..].to_owned(),
            _ => t.to_owned(),
        }
    };
    bare(typ).eq_ignore_ascii_case(&bare(required))
}

/// Scopes from a token's `scope` claim (space-separated, RFC 8693) or `scp` (an array, or a string).
fn scopes_from_claims(claims: &Map<String, Value>) -> BTreeSet<String> {
    let words = |s: &str| s.split_ascii_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let mut scopes = BTreeSet::new();
    for key in ["scope", "scp"] {
        match claims.get(key) {
            Some(Value::String(s)) => scopes.extend(words(s)),
            Some(Value::Array(items)) => scopes.extend(items.iter().filter_map(Value::as_str).map(str::to_owned)),
            _ => {}
        }
    }
    scopes
}

/// A PEM public key and the algorithm its type pins: RSA → RS256, EC → ES256, Ed25519 → EdDSA (or the
/// configured algorithm, when it is of the key's family).
fn public_key(pem: &[u8], pinned: Option<Algorithm>) -> Result<(DecodingKey, Algorithm), String> {
    let (key, default) = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        (key, Algorithm::RS256)
    } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        (key, Algorithm::ES256)
    } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        (key, Algorithm::EdDSA)
    } else {
        return Err("security.jwt.public_key is not a PEM RSA, EC or Ed25519 public key".to_owned());
    };
    let alg = pinned.unwrap_or(default);
    if alg.family() != default.family() {
        return Err(format!("security.jwt.algorithm {alg:?} does not match the public key's type ({default:?})"));
    }
    Ok((key, alg))
}

/// Why a token was refused, in words safe to show and log.
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidAudience => "the token was not issued for this server (aud)".to_owned(),
        ErrorKind::InvalidIssuer => "the token comes from an unexpected issuer (iss)".to_owned(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".to_owned(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
            "the token's algorithm is not accepted".to_owned()
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("the {claim} claim is missing or not of the right type"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the {claim} claim is not of the right type"),
        _ => "the token is malformed".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(scopes_from_claims(&claims(json!({"scope": "a  b c"}))), ["a", "b", "c"].map(String::from).into());
        assert_eq!(scopes_from_claims(&claims(json!({"scp": ["x", "y", 3]}))), ["x", "y"].map(String::from).into());
        assert_eq!(scopes_from_claims(&claims(json!({"scp": "x y"}))), ["x", "y"].map(String::from).into());
        assert!(scopes_from_claims(&claims(json!({"scope": 7}))).is_empty());
    }

    #[test]
    fn the_principal_is_the_subject_and_nothing_else() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        let p = principal(claims(json!({"sub": "u1", "client_id": "c"})), AuthMethod::Jwt, "sub").unwrap();
        assert_eq!(p.id, "u1");
        for stand_in in [json!({"client_id": "admin"}), json!({"azp": "admin"}), json!({"sub": "", "azp": "x"})] {
            assert!(principal(claims(stand_in.clone()), AuthMethod::Jwt, "sub").is_err(), "{stand_in}");
        }
        let p = principal(claims(json!({"client_id": "svc"})), AuthMethod::Introspection, "client_id").unwrap();
        assert_eq!(p.id, "svc", "a configured claim names the principal");
        assert!(principal(claims(json!({"sub": 7})), AuthMethod::Jwt, "sub").is_err());
    }

    #[test]
    fn typ_matches_case_insensitively_with_or_without_application() {
        assert!(same_media_type("at+jwt", "at+jwt"));
        assert!(same_media_type("AT+JWT", "at+jwt"));
        assert!(same_media_type("application/at+jwt", "at+jwt"));
        assert!(same_media_type("Application/AT+JWT", "at+jwt"));
        assert!(same_media_type("at+jwt", "application/at+jwt"));
        assert!(!same_media_type("JWT", "at+jwt"));
        assert!(!same_media_type("application/jwt", "at+jwt"));
        assert!(!same_media_type("at+jwt2", "at+jwt"));
    }
}
