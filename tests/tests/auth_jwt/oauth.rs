//! An OAuth 2.1 resource server: its protected-resource metadata, JWT access tokens for this resource only,
//! and opaque tokens introspected (RFC 7662) at an authorization server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use jsonwebtoken::Algorithm;
use mcp_runtime::config::{AuthStrategy, Config, SecretRef};
use mcp_runtime::prelude::*;
use mcp_tests::JwksServer;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{ISSUER, call, challenge, claims, client, jwk, serve_on_listener, sign};

/// An authorization server: a JWKS (`/jwks`) and an RFC 7662 introspection endpoint that records what it is sent.
#[derive(Clone, Default)]
struct AuthServer {
    jwks: JwksServer,
    introspections: Arc<AtomicUsize>,
    seen_headers: Arc<Mutex<Vec<String>>>,
    resource: Arc<Mutex<String>>,
}

impl AuthServer {
    async fn start(self) -> String {
        async fn introspect(
            AxumState(s): AxumState<AuthServer>,
            headers: HeaderMap,
            body: String,
        ) -> axum::response::Response {
            s.introspections.fetch_add(1, Ordering::SeqCst);
            s.seen_headers.lock().unwrap().push(format!("{headers:?}"));
            let basic = base64::engine::general_purpose::STANDARD.encode("mcp-gateway:introspection-secret");
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Basic {basic}")) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            let form: HashMap<String, String> =
                body.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            let resource = s.resource.lock().unwrap().clone();
            let answer = match form.get("token").map(String::as_str) {
                Some("opaque-good-token") => json!({"active": true, "sub": "agent-9", "aud": resource,
                    "scope": "profiles:read", "exp": jsonwebtoken::get_current_timestamp() + 300, "iss": ISSUER}),
                Some("opaque-other-audience") => {
                    json!({"active": true, "sub": "agent-9", "aud": "https://elsewhere.example/mcp",
                    "scope": "profiles:read", "iss": ISSUER})
                }
                _ => json!({"active": false}),
            };
            axum::Json(answer).into_response()
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/introspect", axum::routing::post(introspect))
            .with_state(self.clone())
            .merge(self.jwks.router());
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }
}

#[tokio::test]
async fn an_oauth_resource_server_publishes_its_metadata_and_checks_every_token() {
    let auth = AuthServer::default();
    auth.jwks.serve_keys(vec![jwk("rsa.key.pem", "as-1")]);
    let as_base = auth.clone().start().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let resource = format!("http://localhost:{}/mcp", listener.local_addr().unwrap().port());
    *auth.resource.lock().unwrap() = resource.clone();
    let dir = std::env::temp_dir().join(format!("mcp-oauth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("client-secret"), "introspection-secret\n").unwrap();

    let mut config = Config::default();
    config.security.strategy = AuthStrategy::Oauth;
    config.security.jwt.issuer = Some(ISSUER.to_owned());
    config.security.jwt.jwks_uri = Some(format!("{as_base}/jwks"));
    config.security.oauth.resource = Some(resource.clone());
    config.security.oauth.authorization_servers = vec![as_base.clone()];
    config.security.oauth.introspection_endpoint = Some(format!("{as_base}/introspect"));
    config.security.oauth.client_id = Some("mcp-gateway".to_owned());
    config.security.oauth.client_secret = Some(SecretRef::File(dir.join("client-secret")));
    let s = serve_on_listener(listener, Server::new("oauth-test", "0").config(config)).await;
    let c = client();

    // No token: the challenge points at the metadata, which is served there and names this resource.
    let r = call(&c, &s.url, None, "whoami", json!({})).await;
    assert_eq!(r.status(), 401);
    let www = challenge(&r);
    let metadata_url = www
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no resource_metadata in {www}"))
        .to_owned();
    assert!(www.contains(r#"scope="profiles:read""#), "{www}");
    let path = metadata_url.split_once("/.well-known/").map(|(_, p)| format!("/.well-known/{p}")).unwrap();
    assert_eq!(path, "/.well-known/oauth-protected-resource/mcp");
    for path in [path.as_str(), "/.well-known/oauth-protected-resource"] {
        let document: Value = c.get(format!("{}{path}", s.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            document,
            json!({"resource": resource, "authorization_servers": [as_base], "scopes_supported": ["profiles:read"],
                   "bearer_methods_supported": ["header"]}),
            "{path}"
        );
    }

    // JWT access tokens: the audience must be this resource (RFC 8707).
    let jwt = |aud: &str| sign(Algorithm::RS256, "rsa.key.pem", Some("as-1"), &claims(aud, json!({})));
    assert_eq!(call(&c, &s.url, Some(&jwt(&resource)), "whoami", json!({})).await.status(), 200);
    let r = call(&c, &s.url, Some(&jwt("https://elsewhere.example/mcp")), "whoami", json!({})).await;
    assert_eq!(r.status(), 401);
    assert!(challenge(&r).contains("resource_metadata="), "{}", challenge(&r));

    // Opaque tokens: introspected once, then served from the cache.
    for _ in 0..3 {
        let r = call(&c, &s.url, Some("opaque-good-token"), "whoami", json!({})).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["result"]["structuredContent"]["id"], "agent-9");
        assert_eq!(body["result"]["structuredContent"]["method"], "introspection");
    }
    assert_eq!(auth.introspections.load(Ordering::SeqCst), 1, "the answer was cached");
    for token in ["opaque-other-audience", "opaque-inactive-token"] {
        assert_eq!(call(&c, &s.url, Some(token), "whoami", json!({})).await.status(), 401, "{token}");
    }
    let r = c.post(format!("{}?access_token=opaque-good-token", s.url)).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 400, "tokens in the query string are refused");

    // The inbound token went to the introspection endpoint in the form body, as RFC 7662 asks, and nowhere
    // else: never in a header of any outbound request.
    for headers in auth.seen_headers.lock().unwrap().iter() {
        assert!(!headers.contains("opaque-") && !headers.contains("Bearer"), "{headers}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
