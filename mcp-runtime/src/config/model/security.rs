//! `[security]`: who may call the server (API keys, JWT, OAuth), and what each caller may see.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::duration;

/// `[security]`: authentication of every request and per-tool authorization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// `none`, `api-key`, `jwt` or `oauth`.
    pub strategy: AuthStrategy,
    /// The request header that carries the credential. `Authorization` (the default) is read as
    /// `Bearer <credential>`; any other header (`X-Enterprise-Token`) holds the credential itself.
    pub header: String,
    /// API keys (strategy `api-key`): inline SHA-256 digests, or `${file:PATH}` naming a TOML file of
    /// `[[keys]]` tables, reloaded on SIGHUP and when it changes.
    pub keys: ApiKeys,
    /// How often the key file is checked for changes.
    #[serde(with = "duration")]
    pub keys_reload_interval: Duration,
    /// JSON Web Tokens (strategy `jwt`, and JWT access tokens under `oauth`).
    pub jwt: JwtConfig,
    /// The OAuth 2.1 resource server (strategy `oauth`).
    pub oauth: OAuthConfig,
    /// Scope hierarchies: a broader scope and the narrower ones it implies (`"inventory:admin" =
    /// ["inventory:write", "inventory:read"]`), transitively. A caller granted the broader scope may do
    /// what the narrower ones allow.
    pub scope_implies: std::collections::BTreeMap<String, Vec<String>>,
    /// What the list methods show a caller: `allowed` (the tools, resources, templates and prompts its
    /// scopes allow) or `all`.
    pub list_tools: ToolListing,
    /// Failed authentications one source may make per `failure_window` before it gets 429.
    pub max_failures: u32,
    /// The window `max_failures` counts in, and how long a throttled source waits.
    #[serde(with = "duration")]
    pub failure_window: Duration,
    /// What the server does when its own definitions read as tool poisoning (`mcp-lint`, the rules of
    /// `cargo mcp scan`): `warn` (log each finding of medium severity or more), `deny-critical` (refuse to
    /// start on a critical one, so a poisoned dependency's tool never serves) or `off`.
    pub scan_on_start: ScanOnStart,
    /// `--dev`: inline secrets are accepted (with a warning).
    #[serde(skip)]
    pub allow_inline_secrets: bool,
    /// `--insecure-no-auth`: a non-loopback bind without authentication is allowed.
    #[serde(skip)]
    pub insecure_no_auth: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            strategy: AuthStrategy::None,
            header: "Authorization".to_owned(),
            keys: ApiKeys::default(),
            keys_reload_interval: Duration::from_secs(2),
            jwt: JwtConfig::default(),
            oauth: OAuthConfig::default(),
            scope_implies: std::collections::BTreeMap::new(),
            list_tools: ToolListing::Allowed,
            max_failures: 10,
            failure_window: Duration::from_secs(60),
            scan_on_start: ScanOnStart::Warn,
            allow_inline_secrets: false,
            insecure_no_auth: false,
        }
    }
}

impl SecurityConfig {
    /// Fail closed: a strategy without what it needs to check a credential is refused at start.
    pub(crate) fn check(&self) -> Result<(), String> {
        if axum::http::HeaderName::from_bytes(self.header.as_bytes()).is_err() {
            return Err(format!("security.header {:?} is not a valid HTTP header name", self.header));
        }
        if let ApiKeys::Inline(keys) = &self.keys {
            for key in keys {
                parse_digest(&key.hash).map_err(|e| format!("security.keys `{}`: {e}", key.id))?;
            }
        }
        let jwt = &self.jwt;
        let key_sources = [jwt.public_key.is_some(), jwt.secret.is_some(), jwt.jwks_uri.is_some()];
        if key_sources.iter().filter(|s| **s).count() > 1 {
            return Err("security.jwt: give one of public_key, secret or jwks_uri".to_owned());
        }
        let validates_jwts = key_sources.iter().any(|s| *s);
        if jwt.principal_claim.trim().is_empty() {
            return Err("security.jwt.principal_claim must name a claim (default: sub)".to_owned());
        }
        for (key, url) in [
            ("security.jwt.jwks_uri", &jwt.jwks_uri),
            ("security.oauth.resource", &self.oauth.resource),
            ("security.oauth.introspection_endpoint", &self.oauth.introspection_endpoint),
        ] {
            if let Some(url) = url {
                check_url(key, url)?;
            }
        }
        match self.strategy {
            AuthStrategy::None => {}
            AuthStrategy::ApiKey => {
                if matches!(&self.keys, ApiKeys::Inline(keys) if keys.is_empty()) {
                    return Err("security.strategy = \"api-key\" needs security.keys: inline \
                                [{ id, hash = \"sha256:<hex>\", scopes }] or \"${file:PATH}\""
                        .to_owned());
                }
            }
            AuthStrategy::Jwt => {
                if !validates_jwts {
                    return Err("security.strategy = \"jwt\" needs a key: security.jwt.public_key, \
                                security.jwt.secret or security.jwt.jwks_uri"
                        .to_owned());
                }
                if jwt.issuer.is_none() || jwt.audience.is_empty() {
                    return Err("security.strategy = \"jwt\" needs security.jwt.issuer and security.jwt.audience: \
                                tokens without the expected iss and aud are refused"
                        .to_owned());
                }
            }
            AuthStrategy::Oauth => {
                if self.oauth.resource.is_none() || self.oauth.authorization_servers.is_empty() {
                    return Err("security.strategy = \"oauth\" needs security.oauth.resource (this server's \
                                canonical URI) and security.oauth.authorization_servers"
                        .to_owned());
                }
                if !validates_jwts && self.oauth.introspection_endpoint.is_none() {
                    return Err("security.strategy = \"oauth\" needs a way to check tokens: a key in \
                                [security.jwt] (public_key or jwks_uri) or security.oauth.introspection_endpoint"
                        .to_owned());
                }
                if validates_jwts && jwt.issuer.is_none() {
                    return Err(
                        "security.strategy = \"oauth\" with JWT access tokens needs security.jwt.issuer".to_owned()
                    );
                }
                if self.oauth.introspection_endpoint.is_some() && self.oauth.client_id.is_none() {
                    return Err("security.oauth.introspection_endpoint needs security.oauth.client_id".to_owned());
                }
            }
        }
        Ok(())
    }

    /// Whether requests are authenticated at all.
    pub fn authenticates(&self) -> bool {
        self.strategy != AuthStrategy::None
    }
}

/// `sha256:<64 hex digits>` → the digest.
pub(crate) fn parse_digest(text: &str) -> Result<[u8; 32], String> {
    let digits = text
        .strip_prefix("sha256:")
        .ok_or_else(|| "the hash must look like sha256:<64 hex digits> (print one with --hash-key)".to_owned())?;
    if digits.len() != 64 {
        return Err(format!("a SHA-256 digest has 64 hex digits, this one has {}", digits.len()));
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(digits, &mut digest).map_err(|_| "the digest is not hexadecimal".to_owned())?;
    Ok(digest)
}

/// `10.0.0.0/8`, `2001:db8::/32` or a single address (a network of one) → the network.
pub(crate) fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let (addr, len) = text.split_once('/').map_or((text, None), |(a, l)| (a, Some(l)));
    let addr: IpAddr = addr.trim().parse().map_err(|_| format!("`{text}` is not an address or CIDR block"))?;
    match len {
        None => Ok(IpNet::from(addr)),
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .and_then(|l| IpNet::new(addr, l).ok())
            .ok_or_else(|| format!("`{text}` has a bad prefix length")),
    }
}

pub(crate) fn check_proxies(proxies: &[String]) -> Result<(), String> {
    for proxy in proxies {
        parse_cidr(proxy).map_err(|e| format!("http.trusted_proxies: {e}"))?;
    }
    Ok(())
}

/// Outbound URLs are `https`, or `http` to a loopback host (a local identity provider, tests).
///
/// The URL is parsed as reqwest parses it (the WHATWG rules of the `url` crate), and the host judged is the
/// one the connection goes to: in `http://evil.example\@127.0.0.1/` a backslash ends the authority, so the
/// host is `evil.example`, whatever a naive split on `@` finds.
fn check_url(key: &str, text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{key} {text:?} is not an absolute URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("{key} {text:?} must be an https:// URL (http:// only to a loopback host)")),
    }
}

/// `security.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthStrategy {
    /// No authentication: every caller is anonymous and tool scopes are not enforced. Loopback only.
    None,
    /// API keys, compared by SHA-256 digest.
    ApiKey,
    /// Signed JWTs checked against a configured key or a JWKS.
    Jwt,
    /// An OAuth 2.1 resource server: JWT access tokens and/or RFC 7662 introspection, RFC 9728 metadata.
    Oauth,
}

/// `security.scan_on_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanOnStart {
    /// No scan.
    Off,
    /// Each finding of medium severity or more is logged at warn; the server starts.
    Warn,
    /// As `warn`, and a critical finding refuses the start.
    DenyCritical,
}

/// `security.list_tools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolListing {
    /// Each caller sees only the tools its scopes allow it to call.
    Allowed,
    /// Every caller sees every tool (calls are still checked).
    All,
}

/// `security.keys`: the keys inline, or a reference to a file holding them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApiKeys {
    /// `keys = [{ id = "ops", hash = "sha256:<hex>", scopes = ["inventory:read"] }]`.
    Inline(Vec<ApiKeyEntry>),
    /// `keys = "${file:/run/secrets/mcp-api-keys}"`: a TOML file of `[[keys]]` tables.
    Reference(crate::config::SecretRef),
}

impl Default for ApiKeys {
    fn default() -> Self {
        Self::Inline(Vec::new())
    }
}

/// One API key: who it identifies, its digest (never the key), and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyEntry {
    /// The principal the key identifies (`ops`, `ci-bot`).
    pub id: String,
    /// `sha256:<64 hex digits>` of the key (`--hash-key` prints it).
    pub hash: String,
    /// The scopes the key grants.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `[security.jwt]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// A PEM public key by reference (`${env:JWT_PUBLIC_KEY}`): RSA (RS256), EC P-256 (ES256) or Ed25519
    /// (EdDSA). The key's type pins the algorithm.
    pub public_key: Option<crate::config::SecretRef>,
    /// A shared secret by reference, for HS256.
    pub secret: Option<crate::config::SecretRef>,
    /// Pins another algorithm of the key's family (`RS512`, `ES384`, `HS384`, `PS256`).
    pub algorithm: Option<String>,
    /// Where the signing keys are published (`https://issuer/.well-known/jwks.json`).
    pub jwks_uri: Option<String>,
    /// The required `iss`.
    pub issuer: Option<String>,
    /// Accepted `aud` values (under `oauth`, `security.oauth.resource` is the audience).
    pub audience: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(with = "duration")]
    pub leeway: Duration,
    /// The JWKS is fetched at most once per interval (on an unknown `kid`, or when older than this).
    #[serde(with = "duration")]
    pub jwks_refresh: Duration,
    /// While the JWKS endpoint fails, cached keys serve until they are this old; then tokens are refused.
    #[serde(with = "duration")]
    pub jwks_max_stale: Duration,
    /// The claim that names the principal, in tokens and in introspection answers. A token without it is
    /// refused; no other claim stands in for it (a `client_id` or `azp` names the client, not the subject).
    pub principal_claim: String,
    /// The `typ` header every token must carry (`at+jwt` for RFC 9068 access tokens), compared
    /// case-insensitively, with or without `application/`. Unset: `typ` is not checked.
    pub required_typ: Option<String>,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            public_key: None,
            secret: None,
            algorithm: None,
            jwks_uri: None,
            issuer: None,
            audience: Vec::new(),
            leeway: Duration::from_secs(30),
            jwks_refresh: Duration::from_secs(60),
            jwks_max_stale: Duration::from_secs(3600),
            principal_claim: "sub".to_owned(),
            required_typ: None,
        }
    }
}

/// `[security.oauth]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// This server's canonical URI (`https://mcp.example.com/mcp`): the RFC 9728 `resource` and the
    /// audience every token must carry (RFC 8707).
    pub resource: Option<String>,
    /// The authorization servers that issue tokens for it.
    pub authorization_servers: Vec<String>,
    /// Scopes advertised in the metadata (default: every scope a tool requires).
    pub scopes_supported: Vec<String>,
    /// RFC 7662 endpoint for opaque tokens.
    pub introspection_endpoint: Option<String>,
    /// The client id this server introspects with.
    pub client_id: Option<String>,
    /// Its secret, by reference.
    pub client_secret: Option<crate::config::SecretRef>,
    /// How long an introspection answer is reused (never past the token's `exp`).
    #[serde(with = "duration")]
    pub introspection_cache: Duration,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            resource: None,
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            introspection_endpoint: None,
            client_id: None,
            client_secret: None,
            introspection_cache: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_urls_are_judged_by_the_host_reqwest_connects_to() {
        for ok in [
            "https://idp.example.com/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://127.8.9.10/x",
            "http://[::1]:9/x",
            "http://LOCALHOST/x",
        ] {
            assert!(check_url("k", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example\\@127.0.0.1/",
            "http://evil.example\\@localhost/",
            "http://evil.example/@127.0.0.1",
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil.example/",
            "http://user@evil.example/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "idp.example.com/jwks",
            "https://",
        ] {
            assert!(check_url("k", bad).is_err(), "{bad}");
        }
    }
}
