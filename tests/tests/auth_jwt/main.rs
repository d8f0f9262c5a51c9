//! JWT, JWKS and OAuth 2.1 resource-server authentication over real HTTP: the support-routing binary
//! (RS256 with a configured public key), in-process servers for the other algorithms, a JWKS endpoint that
//! rotates and fails, and an authorization server that introspects opaque tokens.
//!
//! `main.rs` holds the tokens, the client and the in-process server the topics share; `support_routing.rs`
//! drives the example binary, `algorithms.rs` pins algorithms to key types, `jwks.rs` follows a JWKS
//! endpoint (`mcp_tests::JwksServer`) through rotations and failures, `oauth.rs` is the resource server
//! with its authorization server, and `custom.rs` a custom authenticator.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

mod algorithms;
mod custom;
mod jwks;
mod oauth;
mod support_routing;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::Pipeline;
use mcp_runtime::config::{AuthStrategy, Config};
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_tests::{modern_meta, rsa_signing_key, workspace_root};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const ISSUER: &str = "https://idp.example.com";

fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/jwt").join(name)
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims the support-routing server accepts; `changes` replace or (with `null`) remove claims.
fn claims(audience: &str, changes: Value) -> Value {
    let mut claims = json!({
        "sub": "agent-7", "iss": ISSUER, "aud": audience, "exp": now() + 300, "iat": now(), "scope": "profiles:read",
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

fn sign(alg: Algorithm, key: &str, kid: Option<&str>, claims: &Value) -> String {
    let pem = std::fs::read(fixture(key)).unwrap();
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
        _ => unreachable!(),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn b64(json: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// One stateless (2026-07-28) `tools/call`, with `token` as the bearer.
async fn call(c: &reqwest::Client, url: &str, token: Option<&str>, tool: &str, arguments: Value) -> reqwest::Response {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": modern_meta()}});
    let mut r = c
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&body);
    if let Some(token) = token {
        r = r.bearer_auth(token);
    }
    r.send().await.unwrap()
}

fn challenge(r: &reqwest::Response) -> String {
    r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Who a request was authenticated as.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Who {
    id: String,
    method: String,
    scopes: Vec<String>,
}

/// Answers with the principal the request was authenticated as.
#[mcp_tool(scopes = ["profiles:read"])]
async fn whoami(ctx: Context) -> Json<Who> {
    let p = ctx.principal();
    Json(Who { id: p.id.clone(), method: p.method.as_str().to_owned(), scopes: p.scopes.iter().cloned().collect() })
}

struct Running {
    url: String,
    base: String,
    _stop: oneshot::Sender<()>,
}

async fn serve_on_listener(listener: TcpListener, server: Server) -> Running {
    let addr = listener.local_addr().unwrap();
    let pipeline = Pipeline::build(server.tool(whoami::SPEC)).expect("the server starts");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, pipeline, Flavor::Streamable, async move {
        let _ = stopped.await;
    }));
    Running { url: format!("http://{addr}/mcp"), base: format!("http://{addr}"), _stop: stop }
}

async fn serve(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on_listener(listener, Server::new("jwt-test", "0").config(config)).await
}

fn jwt_config(configure: impl FnOnce(&mut mcp_runtime::config::JwtConfig)) -> Config {
    let mut config = Config::default();
    config.security.strategy = AuthStrategy::Jwt;
    config.security.max_failures = 0; // these tests send many refused tokens from one address on purpose
    config.security.jwt.issuer = Some(ISSUER.to_owned());
    config.security.jwt.audience = vec!["jwt-test".to_owned()];
    configure(&mut config.security.jwt);
    config
}

/// The public JWK, named `kid`, of the RSA key in fixture `private`.
fn jwk(private: &str, kid: &str) -> Jwk {
    rsa_signing_key(&fixture(private), kid).unwrap().1
}
