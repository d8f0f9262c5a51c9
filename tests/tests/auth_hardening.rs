//! Who the caller is, as the security review found it could be faked, over real HTTP: a token without
//! `sub` or of the wrong `typ` (the support-routing binary), a principal that forges log lines (its stderr),
//! and an `X-Forwarded-For` that names a client with a port, or an IPv6 client that hops within its /64
//! (in-process servers behind a trusted proxy, 127.0.0.1).

use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::auth::key_digest;
use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuthStrategy, Config};
use mcp_runtime::prelude::*;
use mcp_tests::{NetworkServer, ServedHttp, modern_meta, support_routing_bin, workspace_root};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.com";
const AUDIENCE: &str = "support-routing";
const TOOL: &str = "fetch_customer_profile";

fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/jwt").join(name)
}

/// Claims support-routing accepts; `changes` replace or (with `null`) remove claims.
fn claims(changes: &Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "sub": "agent-7", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now, "scope": "profiles:read",
    });
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

/// An RS256 token with header `typ` (`None`: no `typ` at all).
fn token(typ: Option<&str>, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa.key.pem")).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn support_routing(extra: &[(&str, &str)]) -> NetworkServer {
    let public_key = std::fs::read_to_string(fixture("rsa.pub.pem")).unwrap();
    let mut env = vec![("JWT_PUBLIC_KEY", public_key.as_str()), ("MCP_SECURITY__MAX_FAILURES", "0")];
    env.extend_from_slice(extra);
    NetworkServer::start_with(&support_routing_bin(), "http", &env)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// One stateless `tools/call` of `tool`, with `token` as the bearer and `forwarded` as `X-Forwarded-For`.
async fn call(url: &str, token: Option<&str>, forwarded: Option<&str>, tool: &str, arguments: Value) -> u16 {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": modern_meta()}});
    let mut r = client()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&body);
    if let Some(token) = token {
        r = r.bearer_auth(token);
    }
    if let Some(forwarded) = forwarded {
        r = r.header("x-forwarded-for", forwarded);
    }
    r.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_principal_is_sub_alone_and_typ_is_checked_when_configured() {
    let server = support_routing(&[("MCP_SECURITY__JWT__REQUIRED_TYP", "at+jwt")]);
    let url = format!("{}/mcp", server.base);
    let profile = json!({"customer_id": "CUST-00000042"});
    let status = |token: String| {
        let (url, profile) = (url.clone(), profile.clone());
        async move { call(&url, Some(&token), None, TOOL, profile).await }
    };
    assert_eq!(status(token(Some("at+jwt"), &claims(&json!({})))).await, 200);
    assert_eq!(status(token(Some("application/AT+JWT"), &claims(&json!({})))).await, 200, "RFC 7515 §4.1.9");
    // An ID token or any other JWT of the same issuer and key is not an access token.
    assert_eq!(status(token(Some("JWT"), &claims(&json!({})))).await, 401, "typ JWT");
    assert_eq!(status(token(None, &claims(&json!({})))).await, 401, "no typ");
    // Without sub, a client_id or azp (which name the client, not the subject) does not stand in for it.
    for stand_in in &[json!({"sub": null, "client_id": "admin"}), json!({"sub": null, "azp": "admin"})] {
        assert_eq!(status(token(Some("at+jwt"), &claims(stand_in))).await, 401, "{stand_in}");
    }
}

#[tokio::test]
async fn a_principal_cannot_forge_log_lines_or_drive_the_terminal() {
    let server = support_routing(&[]);
    let url = format!("{}/mcp", server.base);
    let forged = "agent-7\n2030-01-01T00:00:00.000000Z  INFO mcp_runtime: FORGED admin granted\x1b[2K";
    // A valid token without the tool's scope: the refusal logs the principal at info.
    let token = token(Some("JWT"), &claims(&json!({"sub": forged, "scope": "other"})));
    let profile = json!({"customer_id": "CUST-00000042"});
    assert_eq!(call(&url, Some(&token), None, TOOL, profile).await, 403);
    assert!(server.logged("insufficient scope"), "{}", server.logs());
    let logs = server.logs();
    assert!(!logs.lines().any(|line| line.starts_with("2030-01-01")), "a forged line:\n{logs}");
    assert!(!logs.contains('\x1b'), "a raw escape sequence:\n{logs}");
    assert!(logs.contains(r"agent-7\n2030-01-01T00:00:00.000000Z  INFO mcp_runtime: FORGED admin granted\u{1b}[2K"));
}

/// Answers with nothing in particular.
#[mcp_tool]
async fn ping_tool() -> String {
    "pong".to_owned()
}

/// Answers callers granted `ops:read`.
#[mcp_tool(scopes = ["ops:read"])]
async fn scoped_ping() -> String {
    "pong".to_owned()
}

/// A server on a port of its own behind a trusted proxy: this test's client, at 127.0.0.1.
async fn behind_a_proxy(configure: impl FnOnce(&mut Config)) -> ServedHttp {
    let mut config = Config::default();
    config.http.trusted_proxies = vec!["127.0.0.1".to_owned()];
    config.audit.destination = "none".to_owned();
    configure(&mut config);
    ServedHttp::serve(Server::new("hardening", "0").config(config).tool(ping_tool::SPEC).tool(scoped_ping::SPEC)).await
}

#[tokio::test]
async fn failures_count_against_the_client_the_proxy_names_even_with_a_port() {
    let s = behind_a_proxy(|c| {
        c.security.strategy = AuthStrategy::ApiKey;
        c.security.keys =
            ApiKeys::Inline(vec![ApiKeyEntry { id: "ops".into(), hash: key_digest("good-key"), scopes: vec![] }]);
        c.security.max_failures = 2;
    })
    .await;
    // The client sent a made-up first hop; the proxy appended the address it saw, with its port.
    let spoofed = Some("203.0.113.66, 198.51.100.7:4711");
    for _ in 0..2 {
        assert_eq!(call(&s.url, Some("wrong-key"), spoofed, "ping_tool", json!({})).await, 401);
    }
    assert_eq!(call(&s.url, Some("good-key"), Some("198.51.100.7"), "ping_tool", json!({})).await, 429, "the guesser");
    assert_eq!(call(&s.url, Some("good-key"), Some("203.0.113.66"), "ping_tool", json!({})).await, 200, "not framed");
    // A hop that names no address ends the walk: the peer (the proxy) answers for it, not the hop before.
    let s = behind_a_proxy(|c| {
        c.security.strategy = AuthStrategy::ApiKey;
        c.security.keys =
            ApiKeys::Inline(vec![ApiKeyEntry { id: "ops".into(), hash: key_digest("good-key"), scopes: vec![] }]);
        c.security.max_failures = 1;
    })
    .await;
    assert_eq!(call(&s.url, Some("wrong-key"), Some("203.0.113.66, unknown"), "ping_tool", json!({})).await, 401);
    assert_eq!(call(&s.url, Some("good-key"), Some("203.0.113.66"), "ping_tool", json!({})).await, 200, "not framed");
    assert_eq!(call(&s.url, Some("good-key"), None, "ping_tool", json!({})).await, 429, "the peer is throttled");
}

#[tokio::test]
async fn anonymous_ipv6_clients_spend_the_budget_of_their_64() {
    let s = behind_a_proxy(|c| c.throttling.per_principal = Some("1/min".to_owned())).await;
    assert_eq!(call(&s.url, None, Some("2001:db8:1:2::1"), "ping_tool", json!({})).await, 200);
    assert_eq!(call(&s.url, None, Some("[2001:db8:1:2::ffff]:443"), "ping_tool", json!({})).await, 429, "same /64");
    assert_eq!(call(&s.url, None, Some("2001:db8:1:3::1"), "ping_tool", json!({})).await, 200, "another /64");
}

#[tokio::test]
async fn a_broader_scope_implies_the_narrower_ones_it_names() {
    let s = behind_a_proxy(|c| {
        c.security.strategy = AuthStrategy::ApiKey;
        c.security.keys = ApiKeys::Inline(vec![
            ApiKeyEntry { id: "admin".into(), hash: key_digest("admin-key"), scopes: vec!["ops:admin".into()] },
            ApiKeyEntry { id: "writer".into(), hash: key_digest("writer-key"), scopes: vec!["ops:write".into()] },
        ]);
        c.security.scope_implies = [("ops:admin".to_owned(), vec!["ops:write".to_owned()])].into_iter().collect();
        c.security.scope_implies.insert("ops:write".to_owned(), vec!["ops:read".to_owned()]);
    })
    .await;
    assert_eq!(call(&s.url, Some("admin-key"), None, "scoped_ping", json!({})).await, 200, "admin ⊃ write ⊃ read");
    assert_eq!(call(&s.url, Some("writer-key"), None, "scoped_ping", json!({})).await, 200, "write ⊃ read");
    let s = behind_a_proxy(|c| {
        c.security.strategy = AuthStrategy::ApiKey;
        c.security.keys = ApiKeys::Inline(vec![ApiKeyEntry {
            id: "admin".into(),
            hash: key_digest("admin-key"),
            scopes: vec!["ops:admin".into()],
        }]);
    })
    .await;
    assert_eq!(call(&s.url, Some("admin-key"), None, "scoped_ping", json!({})).await, 403, "no hierarchy declared");
}
