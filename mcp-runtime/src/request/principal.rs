//! [`Principal`]: who is calling, established by an [`Authenticator`](crate::auth::Authenticator).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};

/// How a principal was authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// Nobody was asked for credentials (`security.strategy = "none"`).
    Anonymous,
    /// An API key.
    ApiKey,
    /// A signed JWT.
    Jwt,
    /// An opaque OAuth access token, checked by RFC 7662 introspection.
    Introspection,
    /// A user-supplied [`Authenticator`](crate::auth::Authenticator), named by it.
    Custom(&'static str),
}

impl AuthMethod {
    /// The name used in logs and audit records.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::ApiKey => "api-key",
            Self::Jwt => "jwt",
            Self::Introspection => "introspection",
            Self::Custom(name) => name,
        }
    }
}

/// The authenticated caller: an id, the scopes it was granted, the claims it came with, and how it was
/// authenticated. Tools read it through [`Context::principal`](crate::Context::principal); rate limits and
/// audit records are keyed by its id, never by a session.
#[derive(Clone, PartialEq)]
pub struct Principal {
    /// A stable identifier: the API key's `id`, the token's `sub` (or `client_id`).
    pub id: String,
    /// The granted scopes.
    pub scopes: BTreeSet<String>,
    /// The token's claims (empty for API keys). Never holds the credential itself.
    pub claims: Map<String, Value>,
    /// How it was authenticated.
    pub method: AuthMethod,
}

impl Principal {
    /// A principal with an id, scopes and a method, and no claims.
    pub fn new(id: impl Into<String>, scopes: impl IntoIterator<Item = impl Into<String>>, method: AuthMethod) -> Self {
        Self { id: id.into(), scopes: scopes.into_iter().map(Into::into).collect(), claims: Map::new(), method }
    }

    /// The caller of a server that authenticates nobody.
    pub fn anonymous() -> Self {
        Self::new("anonymous", [] as [String; 0], AuthMethod::Anonymous)
    }

    /// Whether nobody was authenticated.
    pub fn is_anonymous(&self) -> bool {
        self.method == AuthMethod::Anonymous
    }

    /// Whether the principal holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whose budgets and shares a request spends (rate limits, sessions, open streams): the principal, or
    /// the client's address when nobody is authenticated (an IPv6 one by its /64), never a session.
    pub(crate) fn budget_key(&self, source: Option<IpAddr>) -> String {
        match (self.is_anonymous(), source) {
            (false, _) => format!("{}:{}", self.method.as_str(), self.id),
            (true, Some(ip)) => format!("ip:{}", super::client_network(ip)),
            (true, None) => "anonymous".to_owned(),
        }
    }

    /// The scopes of `required` the principal does not hold, in order.
    pub fn missing_scopes<'a>(&self, required: &[&'a str]) -> Vec<&'a str> {
        required.iter().copied().filter(|s| !self.has_scope(s)).collect()
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.id)
            .field("scopes", &self.scopes)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

static ANONYMOUS: LazyLock<Arc<Principal>> = LazyLock::new(|| Arc::new(Principal::anonymous()));

/// The anonymous principal, shared (never allocated per request).
pub(crate) fn anonymous() -> Arc<Principal> {
    Arc::clone(&ANONYMOUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_keep_the_required_order() {
        let p = Principal::new("ops", ["b"], AuthMethod::ApiKey);
        assert_eq!(p.missing_scopes(&["c", "b", "a"]), vec!["c", "a"]);
        assert!(format!("{p:?}").contains("ops"));
    }
}
