//! [`Gate`]: what every transport asks before it serves a request — who is calling?

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use futures_util::FutureExt;
use serde_json::json;

use super::api_key::ApiKeyAuthenticator;
use super::failures::Failures;
use super::jwt::JwtAuthenticator;
use super::oauth::{OAuthAuthenticator, ResourceMetadata};
use super::scopes::ScopeHierarchy;
use super::{AuthError, Authenticator, Credentials, Principal};
use crate::config::{AuthStrategy, SecurityConfig};
use crate::protocol::{ErrorCode, ErrorObject};
use crate::request::anonymous;

/// Why a request was not let through.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The credentials were missing, refused, malformed, or could not be checked.
    Unauthenticated(AuthError),
    /// The source failed too often; it may retry after this long.
    Throttled(Duration),
}

impl Rejection {
    /// The HTTP status: 401, 400 (malformed), 503 (cannot check now) or 429.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(AuthError::Missing | AuthError::Invalid(_) | AuthError::UnknownKey(_)) => {
                StatusCode::UNAUTHORIZED
            }
            Self::Unauthenticated(AuthError::Malformed(_)) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(AuthError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The JSON-RPC error (the body over HTTP, the answer on stdio).
    pub fn error(&self) -> ErrorObject {
        match self {
            Self::Unauthenticated(e) => ErrorObject::new(ErrorCode::UNAUTHENTICATED, e.to_string()),
            Self::Throttled(wait) => {
                let mut error = ErrorObject::new(
                    ErrorCode::RATE_LIMITED,
                    "too many failed authentications from this address: retry later",
                );
                error.data = Some(json!({ "retryAfterMs": wait.as_millis() as u64 }));
                error
            }
        }
    }
}

/// Authenticates requests with the configured strategy (or the server's own [`Authenticator`]), throttles
/// sources that keep failing, and words the challenges. One per server; transports share it.
pub struct Gate {
    authenticator: Option<Arc<dyn Authenticator>>,
    header: HeaderName,
    realm: String,
    metadata: Option<ResourceMetadata>,
    failures: Failures,
    hierarchy: ScopeHierarchy,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("enabled", &self.enabled())
            .field("header", &self.header)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// The gate `[security]` describes; `custom` (from `Server::authenticator`) replaces the strategy's
    /// authenticator. `tool_scopes` are advertised in the OAuth metadata.
    ///
    /// # Errors
    /// What makes the strategy unusable (fail closed): missing keys, an unreadable key file, an unusable
    /// public key, a custom authenticator next to a configured strategy.
    pub fn new(
        config: &SecurityConfig,
        custom: Option<Arc<dyn Authenticator>>,
        server_name: &str,
        tool_scopes: BTreeSet<String>,
    ) -> Result<Self, String> {
        let authenticator: Option<Arc<dyn Authenticator>> = match (custom, config.strategy) {
            (Some(custom), AuthStrategy::None) => Some(custom),
            (Some(_), strategy) => {
                return Err(format!(
                    "the server has its own authenticator (Server::authenticator) and security.strategy is {strategy:?}: \
                     keep one (set security.strategy = \"none\")"
                ));
            }
            (None, AuthStrategy::None) => None,
            (None, AuthStrategy::ApiKey) => {
                Some(Arc::new(ApiKeyAuthenticator::from_config(&config.keys, config.keys_reload_interval)?))
            }
            (None, AuthStrategy::Jwt) => Some(Arc::new(JwtAuthenticator::from_config(
                &config.jwt,
                config.jwt.audience.clone(),
                config.allow_inline_secrets,
            )?)),
            (None, AuthStrategy::Oauth) => Some(Arc::new(OAuthAuthenticator::from_config(config)?)),
        };
        let metadata = (config.strategy == AuthStrategy::Oauth)
            .then(|| ResourceMetadata::new(&config.oauth, tool_scopes.into_iter().collect()))
            .flatten();
        let header = HeaderName::from_bytes(config.header.as_bytes()).map_err(|e| format!("security.header: {e}"))?;
        Ok(Self {
            authenticator,
            header,
            realm: server_name.replace(['"', '\\'], ""),
            metadata,
            failures: Failures::new(config.max_failures, config.failure_window),
            hierarchy: ScopeHierarchy::new(&config.scope_implies),
        })
    }

    /// Whether requests are authenticated (false: everyone is anonymous, scopes are not enforced).
    pub fn enabled(&self) -> bool {
        self.authenticator.is_some()
    }

    /// The header credentials are read from.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }

    /// The RFC 9728 metadata (strategy `oauth`).
    pub fn metadata(&self) -> Option<&ResourceMetadata> {
        self.metadata.as_ref()
    }

    /// Authenticates one request. Never logs the credential.
    ///
    /// # Errors
    /// See [`Rejection`].
    pub async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Rejection> {
        let Some(authenticator) = &self.authenticator else { return Ok(anonymous()) };
        let source = credentials.source();
        let from = source.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        if let Some(ip) = source
            && let Err(wait) = self.failures.check(ip)
        {
            tracing::debug!(source = %ip, "authentication throttled after repeated failures");
            return Err(Rejection::Throttled(wait));
        }
        let outcome = AssertUnwindSafe(authenticator.authenticate(credentials)).catch_unwind().await;
        let result = outcome.unwrap_or_else(|_| {
            tracing::error!("the authenticator panicked: the request is denied");
            Err(AuthError::Unavailable("the authenticator failed".into()))
        });
        match result {
            Ok(mut principal) => {
                // A broader scope implies narrower ones (`[security.scope_implies]`).
                self.hierarchy.widen(&mut principal.scopes);
                Ok(Arc::new(principal))
            }
            Err(error) => {
                if matches!(error, AuthError::Invalid(_) | AuthError::Malformed(_) | AuthError::UnknownKey(_)) {
                    // A key the server does not hold says nothing of the client guessing: not counted.
                    if let Some(ip) = source.filter(|_| !matches!(error, AuthError::UnknownKey(_))) {
                        self.failures.record(ip);
                    }
                    tracing::info!(source = %from, transport = credentials.transport().as_str(), reason = %error, "authentication failed");
                } else {
                    tracing::debug!(source = %from, reason = %error, "request not authenticated");
                }
                Err(Rejection::Unauthenticated(error))
            }
        }
    }

    /// The `WWW-Authenticate` value of a 401 (or 400/503).
    pub fn challenge(&self, rejection: &Rejection) -> HeaderValue {
        let mut params = vec![format!("realm=\"{}\"", self.realm)];
        if let Rejection::Unauthenticated(error) = rejection {
            let code = match error {
                AuthError::Missing => None,
                AuthError::Malformed(_) => Some("invalid_request"),
                _ => Some("invalid_token"),
            };
            if let Some(code) = code {
                params.push(format!("error=\"{code}\""));
                params.push(format!("error_description=\"{}\"", quoted(&error.to_string())));
            }
        }
        if let Some(metadata) = &self.metadata {
            params.push(format!("resource_metadata=\"{}\"", metadata.url()));
            if !metadata.scopes_supported.is_empty()
                && matches!(rejection, Rejection::Unauthenticated(AuthError::Missing))
            {
                params.push(format!("scope=\"{}\"", metadata.scopes_supported.join(" ")));
            }
        }
        header_value(&self.scheme(), &params)
    }

    /// The `WWW-Authenticate` value of a 403: `insufficient_scope`, and the scopes the tool needs.
    pub fn insufficient_scope(&self, required: &[String]) -> HeaderValue {
        let mut params = vec![
            format!("realm=\"{}\"", self.realm),
            "error=\"insufficient_scope\"".to_owned(),
            format!("scope=\"{}\"", quoted(&required.join(" "))),
        ];
        if let Some(metadata) = &self.metadata {
            params.push(format!("resource_metadata=\"{}\"", metadata.url()));
        }
        header_value(&self.scheme(), &params)
    }

    /// `Bearer` for the `Authorization` header; `ApiKey header="…"` for a custom one.
    fn scheme(&self) -> String {
        if self.header == header::AUTHORIZATION {
            "Bearer".to_owned()
        } else {
            format!("ApiKey header=\"{}\",", self.header)
        }
    }
}

fn header_value(scheme: &str, params: &[String]) -> HeaderValue {
    HeaderValue::from_str(&format!("{scheme} {}", params.join(", ")))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

/// Text safe inside a quoted-string.
fn quoted(text: &str) -> String {
    text.chars().filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c)).collect()
}
