//! Authentication and authorization: who is calling, and may it call this tool.
//!
//! Every request is authenticated with the strategy `security.strategy` picks — API keys ([`api_key`]),
//! signed JWTs ([`jwt`]), or an OAuth 2.1 resource server ([`oauth`]: JWT access tokens and RFC 7662
//! introspection, RFC 9728 metadata) — or with your own [`Authenticator`] (`Server::authenticator`). The
//! result is a [`Principal`] that tools read through [`Context::principal`](crate::Context::principal).
//! Every `tools/call` is then authorized against the tool's `#[mcp_tool(scopes = [...])]`
//! ([`AuthorizeLayer`]).
//!
//! Where it runs: HTTP transports authenticate every request at their edge, before a session is looked up
//! (a session belongs to the principal that opened it); stdio takes the client's credential from the server
//! process's environment (`MCP_CLIENT_KEY`, or `MCP_CLIENT_TOKEN` for tokens), checks it at start, and
//! again for each request. Both go through one [`Gate`], which also throttles sources that keep failing.
//!
//! Fail closed: a strategy without its keys or issuer refuses to start; an authenticator that errors or
//! panics denies; no credential, token or `Authorization` value is ever logged or echoed.

pub mod api_key;
mod failures;
mod gate;
pub mod jwt;
mod layer;
pub mod oauth;
mod outbound;
mod scopes;
mod service;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use axum::http::{HeaderMap, HeaderName, header};

pub use gate::{Gate, Rejection};
pub use layer::AuthorizeLayer;
pub use service::Authorize;

pub use crate::request::{AuthMethod, Principal};

use crate::request::TransportKind;

/// A boxed future, as [`Authenticator::authenticate`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Turns a request's credentials into a [`Principal`], or refuses them.
///
/// Implement it to authenticate against your own identity system and install it with
/// `Server::authenticator`; the runtime's strategies implement it too. Return [`AuthError::Missing`] when
/// the request carries no credential and [`AuthError::Invalid`] when it is wrong; an error or a panic
/// inside `authenticate` denies the request. Never put the credential in an error message.
///
/// ```
/// use mcp_runtime::auth::{AuthError, AuthMethod, Authenticator, BoxFuture, Credentials, Principal};
///
/// struct Partners;
///
/// impl Authenticator for Partners {
///     fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>> {
///         Box::pin(async move {
///             match credentials.presented() {
///                 None => Err(AuthError::Missing),
///                 Some("partner-token-1") => Ok(Principal::new("partner-1", ["orders:read"], AuthMethod::Custom("partners"))),
///                 Some(_) => Err(AuthError::invalid("unknown partner token")),
///             }
///         })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Authenticator",
    note = "implement `mcp_runtime::auth::Authenticator` for it: `fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>>`"
)]
pub trait Authenticator: Send + Sync + 'static {
    /// Checks the credentials.
    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>>;
}

/// Why credentials were refused. Messages are shown to the client (`error_description`) and logged: they
/// never contain the credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carries no credential (401, no error code: RFC 6750 §3.1).
    #[error("authentication required")]
    Missing,
    /// The credential is wrong, expired, or not meant for this server (401 `invalid_token`).
    #[error("invalid credentials: {0}")]
    Invalid(Cow<'static, str>),
    /// The token names a signing key (`kid`) the server does not hold and may not fetch now (401
    /// `invalid_token`). Unlike [`AuthError::Invalid`] it is not counted toward the failed-authentication
    /// lockout: no signature was checked, and it may be a key the issuer rotated in since the last fetch
    /// (`security.jwt.jwks_refresh`), so a client holding it is told "invalid" but not locked out.
    #[error("invalid credentials: {0}")]
    UnknownKey(Cow<'static, str>),
    /// The request presents its credential in a way that is refused (400 `invalid_request`): a token in the
    /// query string, an `Authorization` header without the `Bearer` scheme.
    #[error("malformed credentials: {0}")]
    Malformed(Cow<'static, str>),
    /// The credential could not be checked now (the JWKS or introspection endpoint is down and nothing
    /// cached can decide): the request is denied (503).
    #[error("credentials cannot be checked now: {0}")]
    Unavailable(Cow<'static, str>),
}

impl AuthError {
    /// [`AuthError::Invalid`] with a reason.
    pub fn invalid(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Invalid(reason.into())
    }
}

/// What a request presents to prove who it is.
#[derive(Clone)]
pub struct Credentials {
    presented: Option<String>,
    headers: HeaderMap,
    source: Option<IpAddr>,
    transport: TransportKind,
}

impl Credentials {
    /// Credentials with a presented secret and nothing else (stdio, tests).
    pub fn new(presented: Option<String>, transport: TransportKind) -> Self {
        Self { presented, headers: HeaderMap::new(), source: None, transport }
    }

    /// Reads the credential from `header` (`Authorization: Bearer <credential>`, or any other header holding
    /// the credential itself).
    ///
    /// # Errors
    /// [`AuthError::Malformed`] for an `Authorization` header of another scheme, or a value that is not text.
    pub fn from_http(headers: &HeaderMap, header: &HeaderName, source: Option<IpAddr>) -> Result<Self, AuthError> {
        let mut values = headers.get_all(header).iter();
        let presented = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(_), Some(_)) => return Err(AuthError::Malformed(format!("more than one {header} header").into())),
            (Some(value), None) => {
                let value = value
                    .to_str()
                    .map_err(|_| AuthError::Malformed(format!("the {header} header is not visible ASCII").into()))?
                    .trim();
                if header == header::AUTHORIZATION {
                    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
                    if !scheme.eq_ignore_ascii_case("bearer") {
                        return Err(AuthError::Malformed("the Authorization header must use the Bearer scheme".into()));
                    }
                    Some(token.trim().to_owned())
                } else {
                    Some(value.to_owned())
                }
            }
        };
        let presented = presented.filter(|p| !p.is_empty());
        let mut kept = headers.clone();
        kept.remove(header); // what custom authenticators see never includes the credential twice
        Ok(Self { presented, headers: kept, source, transport: TransportKind::Http })
    }

    /// The credential: the bearer token or API key (from the configured header, or the environment on stdio).
    pub fn presented(&self) -> Option<&str> {
        self.presented.as_deref()
    }

    /// The request's other headers (empty on stdio).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The network address the request came from, when known.
    pub fn source(&self) -> Option<IpAddr> {
        self.source
    }

    /// The transport the request arrived on.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("presented", &self.presented.as_ref().map(|_| "***"))
            .field("source", &self.source)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 digest of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// `sha256:<hex>` of a key: what `security.keys` holds (`--hash-key` prints it).
pub fn key_digest(key: &str) -> String {
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for byte in sha256(key.as_bytes()) {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn digests_round_trip() {
        let d = key_digest("hunter2");
        assert_eq!(d, "sha256:f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7");
        assert_eq!(crate::config::parse_digest(&d).unwrap(), sha256(b"hunter2"));
        assert!(crate::config::parse_digest("md5:abc").is_err());
        assert!(crate::config::parse_digest("sha256:abc").is_err());
        assert!(crate::config::parse_digest(&format!("sha256:{}", "g".repeat(64))).is_err());
    }

    #[test]
    fn bearer_and_custom_headers() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  abc "));
        let c = Credentials::from_http(&h, &header::AUTHORIZATION, None).unwrap();
        assert_eq!(c.presented(), Some("abc"));
        assert!(c.headers().get(header::AUTHORIZATION).is_none());
        assert!(!format!("{c:?}").contains("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic YTpi"));
        assert!(matches!(Credentials::from_http(&h, &header::AUTHORIZATION, None), Err(AuthError::Malformed(_))));
        let custom = HeaderName::from_static("x-enterprise-token");
        h.insert(&custom, HeaderValue::from_static("key-1"));
        assert_eq!(Credentials::from_http(&h, &custom, None).unwrap().presented(), Some("key-1"));
        assert_eq!(Credentials::from_http(&HeaderMap::new(), &custom, None).unwrap().presented(), None);
    }
}
