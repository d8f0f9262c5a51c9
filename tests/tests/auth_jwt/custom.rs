//! A custom `Authenticator`: it decides, its panic denies, and it cannot be combined with a configured
//! strategy.

use mcp_runtime::Pipeline;
use mcp_runtime::auth::{AuthError, AuthMethod, Authenticator, BoxFuture, Credentials, Principal};
use mcp_runtime::config::{AuthStrategy, Config};
use mcp_runtime::prelude::*;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{call, client, serve_on_listener, whoami};

/// Admits `partner-token-1` only; panics on `boom`.
struct Partners;

impl Authenticator for Partners {
    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move {
            match credentials.presented() {
                None => Err(AuthError::Missing),
                Some("boom") => panic!("the identity system is on fire"),
                Some("partner-token-1") => {
                    Ok(Principal::new("partner-1", ["profiles:read"], AuthMethod::Custom("partners")))
                }
                Some(_) => Err(AuthError::invalid("unknown partner token")),
            }
        })
    }
}

#[tokio::test]
async fn a_custom_authenticator_decides_and_its_panic_denies() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let s = serve_on_listener(listener, Server::new("custom", "0").authenticator(Partners)).await;
    let c = client();
    let r = call(&c, &s.url, Some("partner-token-1"), "whoami", json!({})).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["result"]["structuredContent"],
        json!({"id": "partner-1", "method": "partners", "scopes": ["profiles:read"]})
    );
    assert_eq!(call(&c, &s.url, Some("nope"), "whoami", json!({})).await.status(), 401);
    assert_eq!(call(&c, &s.url, Some("boom"), "whoami", json!({})).await.status(), 503, "a panic denies");
    assert_eq!(
        call(&c, &s.url, Some("partner-token-1"), "whoami", json!({})).await.status(),
        200,
        "and the server goes on"
    );

    let mut config = Config::default();
    config.security.strategy = AuthStrategy::Jwt;
    let both = Pipeline::build(Server::new("both", "0").tool(whoami::SPEC).config(config).authenticator(Partners));
    assert!(both.unwrap_err().to_string().contains("keep one"));
}
