//! The OAuth 2.1 resource server (`security.strategy = "oauth"`), as MCP's authorization specification
//! asks: RFC 9728 Protected Resource Metadata at `/.well-known/oauth-protected-resource` (and the form
//! suffixed with the resource's path), 401 challenges that point to it, and tokens whose audience must be
//! this server's canonical URI (RFC 8707). JWT access tokens are verified locally ([`super::jwt`], with the
//! resource as the required audience); opaque tokens go to the RFC 7662 introspection endpoint, and the
//! answer is cached briefly (never past the token's `exp`). The inbound token is sent nowhere else, and
//! tokens in the query string are refused by the transport.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::jwt::{JwtAuthenticator, principal};
use super::outbound::Outbound;
use super::{AuthError, AuthMethod, Authenticator, BoxFuture, Credentials, Principal, sha256};
use crate::config::{OAuthConfig, Secret, SecurityConfig};

/// The well-known path of RFC 9728 metadata.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Introspection answers cached at most (the oldest are dropped beyond it).
const CACHE_ENTRIES: usize = 10_000;

/// RFC 9728 Protected Resource Metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    /// The canonical URI of this server.
    pub resource: String,
    /// Who issues tokens for it.
    pub authorization_servers: Vec<String>,
    /// The scopes its tools use.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// Tokens travel only in the `Authorization` header.
    pub bearer_methods_supported: Vec<&'static str>,
}

/// The OpenID scope asking for refresh tokens, which a protected resource does not advertise.
const OFFLINE_ACCESS: &str = "offline_access";

impl ResourceMetadata {
    /// The metadata `[security.oauth]` describes; `tool_scopes` fill `scopes_supported` when it is empty.
    pub fn new(config: &OAuthConfig, tool_scopes: Vec<String>) -> Option<Self> {
        let resource = config.resource.clone()?;
        let scopes_supported =
            if config.scopes_supported.is_empty() { tool_scopes } else { config.scopes_supported.clone() };
        // Refresh tokens are not a resource requirement: `offline_access` is never advertised (2026-07-28).
        let scopes_supported = scopes_supported.into_iter().filter(|s| s != OFFLINE_ACCESS).collect();
        Some(Self {
            resource,
            authorization_servers: config.authorization_servers.clone(),
            scopes_supported,
            bearer_methods_supported: vec!["header"],
        })
    }

    /// The absolute URL of the metadata: the well-known path inserted between the resource's host and its
    /// path (RFC 9728 §3.1).
    pub fn url(&self) -> String {
        let (origin, path) = split_resource(&self.resource);
        format!("{origin}{METADATA_PATH}{path}")
    }

    /// The paths the metadata is served at: the plain well-known path, and the path-suffixed form.
    pub fn paths(&self) -> Vec<String> {
        let (_, path) = split_resource(&self.resource);
        let mut paths = vec![METADATA_PATH.to_owned()];
        if !path.is_empty() {
            paths.push(format!("{METADATA_PATH}{path}"));
        }
        paths
    }
}

/// `https://host:port/mcp/` → (`https://host:port`, `/mcp`).
fn split_resource(resource: &str) -> (&str, &str) {
    let after_scheme = resource.find("://").map_or(0, |i| i + 3);
    let path_start = resource[after_scheme..].find(['/', '?', '#']).map_or(resource.len(), |i| after_scheme + i);
    let path = resource[path_start..].split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    (&resource[..path_start], path)
}

/// Verifies OAuth access tokens: JWTs locally, opaque tokens by introspection.
pub struct OAuthAuthenticator {
    jwt: Option<JwtAuthenticator>,
    introspection: Option<Introspection>,
}

impl std::fmt::Debug for OAuthAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAuthenticator")
            .field("jwt", &self.jwt)
            .field("introspection", &self.introspection.as_ref().map(|i| &i.endpoint))
            .finish()
    }
}

impl OAuthAuthenticator {
    /// Builds it from `[security.jwt]` and `[security.oauth]`.
    ///
    /// # Errors
    /// Missing resource, unusable keys, an unresolvable client secret.
    pub fn from_config(config: &SecurityConfig) -> Result<Self, String> {
        let resource = config.oauth.resource.clone().ok_or("security.oauth.resource is required")?;
        let jwt = &config.jwt;
        let jwt = (jwt.public_key.is_some() || jwt.secret.is_some() || jwt.jwks_uri.is_some())
            .then(|| JwtAuthenticator::from_config(jwt, vec![resource.clone()], config.allow_inline_secrets))
            .transpose()?;
        let introspection = match &config.oauth.introspection_endpoint {
            None => None,
            Some(endpoint) => Some(Introspection {
                endpoint: endpoint.clone(),
                client_id: config.oauth.client_id.clone().ok_or("security.oauth.client_id is required")?,
                client_secret: config
                    .oauth
                    .client_secret
                    .as_ref()
                    .map(|s| s.resolve(config.allow_inline_secrets))
                    .transpose()
                    .map_err(|e| format!("security.oauth.client_secret: {e}"))?,
                resource,
                issuer: config.jwt.issuer.clone(),
                principal_claim: config.jwt.principal_claim.clone(),
                ttl: config.oauth.introspection_cache,
                outbound: Outbound::new()?,
                cache: Mutex::default(),
            }),
        };
        Ok(Self { jwt, introspection })
    }

    /// Checks an access token.
    ///
    /// # Errors
    /// See [`AuthError`].
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let looks_like_jwt = token.split('.').count() == 3;
        match (&self.jwt, &self.introspection) {
            (Some(jwt), _) if looks_like_jwt => jwt.verify(token).await,
            (_, Some(introspection)) => introspection.check(token).await,
            _ => Err(AuthError::invalid("opaque tokens are not accepted by this server")),
        }
    }
}

impl Authenticator for OAuthAuthenticator {
    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move { self.verify(credentials.presented().ok_or(AuthError::Missing)?).await })
    }
}

struct Introspection {
    endpoint: String,
    client_id: String,
    client_secret: Option<Secret>,
    resource: String,
    issuer: Option<String>,
    principal_claim: String,
    ttl: Duration,
    outbound: Outbound,
    cache: Mutex<HashMap<[u8; 32], Verdict>>,
}

/// A cached introspection answer, by the token's SHA-256 (the token itself is never kept), and until when
/// it holds.
type Verdict = (Instant, Result<Principal, AuthError>);

impl Introspection {
    async fn check(&self, token: &str) -> Result<Principal, AuthError> {
        let key = sha256(token.as_bytes());
        let now = Instant::now();
        if let Some((until, result)) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key)
            && *until > now
        {
            return result.clone();
        }
        let form = [("token", token), ("token_type_hint", "access_token")];
        let client = Some((self.client_id.as_str(), self.client_secret.as_ref().map(Secret::expose)));
        let answer: Map<String, Value> = self.outbound.post_form(&self.endpoint, &form, client).await.map_err(|e| {
            tracing::warn!(endpoint = %self.endpoint, error = %e, "token introspection failed");
            AuthError::Unavailable("the token introspection endpoint failed".into())
        })?;
        let result = self.judge(answer);
        let mut until = now + self.ttl;
        if let Ok(principal) = &result
            && let Some(exp) = principal.claims.get("exp").and_then(Value::as_u64)
        {
            let left = exp.saturating_sub(jsonwebtoken::get_current_timestamp());
            until = until.min(now + Duration::from_secs(left));
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, (u, _)| *u > now);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (until, result.clone()));
        result
    }

    /// RFC 7662 §2.2: `active`, then expiry, audience (RFC 8707) and issuer.
    fn judge(&self, answer: Map<String, Value>) -> Result<Principal, AuthError> {
        if answer.get("active") != Some(&Value::Bool(true)) {
            return Err(AuthError::invalid("the token is not active"));
        }
        if let Some(exp) = answer.get("exp") {
            let exp = exp.as_u64().ok_or(AuthError::invalid("the exp claim is not a number"))?;
            if exp <= jsonwebtoken::get_current_timestamp() {
                return Err(AuthError::invalid("the token has expired"));
            }
        }
        let audience_ok = match answer.get("aud") {
            Some(Value::String(aud)) => *aud == self.resource,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&self.resource)),
            _ => false,
        };
        if !audience_ok {
            return Err(AuthError::invalid("the token was not issued for this server (aud)"));
        }
        if let Some(issuer) = &self.issuer
            && answer.get("iss").and_then(Value::as_str) != Some(issuer)
        {
            return Err(AuthError::invalid("the token comes from an unexpected issuer (iss)"));
        }
        principal(answer, AuthMethod::Introspection, &self.principal_claim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_insert_the_well_known_path() {
        let config = OAuthConfig {
            resource: Some("https://mcp.example.com:8443/mcp/".into()),
            authorization_servers: vec!["https://auth.example.com".into()],
            ..OAuthConfig::default()
        };
        let m = ResourceMetadata::new(&config, vec!["a".into(), "offline_access".into()]).unwrap();
        assert_eq!(m.url(), "https://mcp.example.com:8443/.well-known/oauth-protected-resource/mcp");
        assert_eq!(m.paths(), ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]);
        assert_eq!(m.scopes_supported, ["a"], "offline_access is not a resource requirement");
        let bare = ResourceMetadata::new(&OAuthConfig { resource: Some("https://x.example".into()), ..config }, vec![]);
        assert_eq!(bare.unwrap().paths(), [METADATA_PATH]);
    }
}
