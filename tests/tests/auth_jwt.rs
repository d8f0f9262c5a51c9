//! JWT, JWKS and OAuth 2.1 resource-server authentication over real HTTP: the support-routing binary
//! (RS256 with a configured public key), in-process servers for the other algorithms, a JWKS endpoint that
//! rotates and fails, and an authorization server that introspects opaque tokens.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::Pipeline;
use mcp_runtime::auth::{AuthError, AuthMethod, Authenticator, BoxFuture, Credentials, Principal};
use mcp_runtime::config::{AuthStrategy, Config, SecretRef};
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_tests::{NetworkServer, eventually, modern_meta, support_routing_bin, workspace_root};
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

#[tokio::test]
async fn the_support_routing_server_admits_only_good_tokens() {
    let public_key = std::fs::read_to_string(fixture("rsa.pub.pem")).unwrap();
    // Every refused token below is a failure from 127.0.0.1: allow more than the default 10 per minute.
    let env =
        [("JWT_PUBLIC_KEY", public_key.as_str()), ("MCP_LOG__LEVEL", "debug"), ("MCP_SECURITY__MAX_FAILURES", "100")];
    let server = NetworkServer::start_with(&support_routing_bin(), "http", &env);
    let url = format!("{}/mcp", server.base);
    let c = client();
    let profile = json!({"customer_id": "CUST-00000042"});
    let aud = "support-routing";

    let good = sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({})));
    let r = call(&c, &url, Some(&good), "fetch_customer_profile", profile.clone()).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let found = &body["result"]["structuredContent"];
    assert_eq!(found["requested_by"], "agent-7", "{body}");
    assert!(found["email"].as_str().unwrap().ends_with("@example.com"));

    let r = call(&c, &url, None, "fetch_customer_profile", profile.clone()).await;
    assert_eq!(r.status(), 401);
    assert_eq!(challenge(&r), r#"Bearer realm="support-routing""#);

    let public_pem = public_key.as_bytes();
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims(aud, json!({}))));
    let hs256_with_public_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(aud, json!({})),
        &EncodingKey::from_secret(public_pem).unwrap(),
    )
    .unwrap();
    let bad = [
        ("alg none", none),
        ("HS256 signed with the RSA public key", hs256_with_public_key),
        ("wrong aud", sign(Algorithm::RS256, "rsa.key.pem", None, &claims("someone-else", json!({})))),
        (
            "wrong iss",
            sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"iss": "https://evil.example"}))),
        ),
        ("expired", sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"exp": now() - 3600})))),
        (
            "string exp",
            sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"exp": (now() + 300).to_string()}))),
        ),
        ("no exp", sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"exp": null})))),
        ("no aud", sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"aud": null})))),
        ("not yet valid", sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"nbf": now() + 3600})))),
        ("another key", sign(Algorithm::RS256, "rsa2.key.pem", None, &claims(aud, json!({})))),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    let mut answers = String::new();
    for (what, token) in &bad {
        let r = call(&c, &url, Some(token), "fetch_customer_profile", profile.clone()).await;
        assert_eq!(r.status(), 401, "{what}");
        assert!(challenge(&r).contains(r#"error="invalid_token""#), "{what}: {}", challenge(&r));
        answers += &format!("{} {:?} {}\n", r.status(), r.headers().clone(), r.text().await.unwrap());
    }

    // Scopes: `scp` works as well as `scope`; without profiles:read the tool is neither listed nor callable.
    let scp =
        sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"scope": null, "scp": ["profiles:read"]})));
    assert_eq!(call(&c, &url, Some(&scp), "fetch_customer_profile", profile.clone()).await.status(), 200);
    let other = sign(Algorithm::RS256, "rsa.key.pem", None, &claims(aud, json!({"scope": "tickets:read"})));
    let r = call(&c, &url, Some(&other), "fetch_customer_profile", profile.clone()).await;
    assert_eq!(r.status(), 403);
    assert!(challenge(&r).contains(r#"error="insufficient_scope", scope="profiles:read""#), "{}", challenge(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["data"]["missingScopes"], json!(["profiles:read"]));
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": modern_meta()}});
    let r = c
        .post(&url)
        .bearer_auth(&other)
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .json(&list)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["tools"], json!([]), "a caller sees only the tools it may call: {body}");
    assert_eq!(
        body["result"]["_meta"]["io.modelcontextprotocol/cacheScope"]
            .as_str()
            .or(body["result"]["cacheScope"].as_str()),
        Some("private"),
        "{body}"
    );

    let logs = server.logs();
    assert!(logs.contains("the token has expired"), "failures are logged with their reason");
    for (what, token) in
        bad.iter().map(|(w, t)| (*w, t.as_str())).chain([("good", good.as_str()), ("scp", scp.as_str())])
    {
        let signature = token.rsplit('.').next().unwrap();
        let secret = if signature.len() > 8 { signature } else { token };
        assert!(!logs.contains(secret), "the {what} token is in the logs");
        assert!(!answers.contains(secret), "the {what} token is in an answer");
    }
}

#[test]
fn a_jwt_server_without_its_key_refuses_to_start() {
    let out = std::process::Command::new(support_routing_bin())
        .args(["--bind", "127.0.0.1:0"])
        .env_remove("JWT_PUBLIC_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success(), "fail closed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("security.jwt.public_key") && stderr.contains("JWT_PUBLIC_KEY"), "{stderr}");
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

#[tokio::test]
async fn the_key_type_pins_the_algorithm() {
    let c = client();
    let ok = |r: &reqwest::Response| r.status() == 200;
    for (public, private, alg, wrong_private, wrong_alg) in [
        ("ec.pub.pem", "ec.key.pem", Algorithm::ES256, "ed25519.key.pem", Algorithm::EdDSA),
        ("ed25519.pub.pem", "ed25519.key.pem", Algorithm::EdDSA, "ec.key.pem", Algorithm::ES256),
        ("rsa.pub.pem", "rsa.key.pem", Algorithm::RS256, "ec.key.pem", Algorithm::ES256),
    ] {
        let s = serve(jwt_config(|j| j.public_key = Some(SecretRef::File(fixture(public))))).await;
        let token = sign(alg, private, None, &claims("jwt-test", json!({})));
        let r = call(&c, &s.url, Some(&token), "whoami", json!({})).await;
        assert!(ok(&r), "{alg:?}: {}", r.status());
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["result"]["structuredContent"],
            json!({"id": "agent-7", "method": "jwt", "scopes": ["profiles:read"]})
        );
        let token = sign(wrong_alg, wrong_private, None, &claims("jwt-test", json!({})));
        assert_eq!(
            call(&c, &s.url, Some(&token), "whoami", json!({})).await.status(),
            401,
            "{wrong_alg:?} against {alg:?}"
        );
    }
    // HS256 with a shared secret (at least 32 bytes, by reference).
    let dir = std::env::temp_dir().join(format!("mcp-hs256-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "a-shared-secret-of-at-least-32-bytes!";
    std::fs::write(dir.join("secret"), secret).unwrap();
    let s = serve(jwt_config(|j| j.secret = Some(SecretRef::File(dir.join("secret"))))).await;
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("jwt-test", json!({})),
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(call(&c, &s.url, Some(&token), "whoami", json!({})).await.status(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A JWKS endpoint that counts its fetches, can rotate its keys, and can fail.
#[derive(Clone, Default)]
struct JwksServer {
    keys: Arc<Mutex<JwkSet>>,
    fetches: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

fn jwk(private: &str, kid: &str) -> Jwk {
    let key = EncodingKey::from_rsa_pem(&std::fs::read(fixture(private)).unwrap()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

impl JwksServer {
    async fn start(self) -> String {
        async fn jwks(AxumState(s): AxumState<JwksServer>) -> axum::response::Response {
            s.fetches.fetch_add(1, Ordering::SeqCst);
            if s.failing.load(Ordering::SeqCst) {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            axum::Json(s.keys.lock().unwrap().clone()).into_response()
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/jwks", axum::routing::get(jwks)).with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn serve_keys(&self, keys: Vec<Jwk>) {
        *self.keys.lock().unwrap() = JwkSet { keys };
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn the_jwks_cache_follows_rotations_and_resists_made_up_kids() {
    let idp = JwksServer::default();
    idp.serve_keys(vec![jwk("rsa.key.pem", "k1")]);
    let jwks_uri = idp.clone().start().await;
    let s = serve(jwt_config(|j| {
        j.jwks_uri = Some(jwks_uri);
        j.jwks_refresh = Duration::from_secs(1);
        j.jwks_max_stale = Duration::from_secs(8);
    }))
    .await;
    let c = client();
    let token = |key: &str, kid: &str| sign(Algorithm::RS256, key, Some(kid), &claims("jwt-test", json!({})));

    assert_eq!(call(&c, &s.url, Some(&token("rsa.key.pem", "k1")), "whoami", json!({})).await.status(), 200);
    let before = idp.fetches();
    assert!((1..=2).contains(&before), "a fetch at start, or on the first token: {before}");

    // A flood of made-up kids costs at most one fetch per interval. The server looks the kid up before it
    // checks a signature, so one signed token with its header swapped serves for all of them.
    let signed = token("rsa.key.pem", "k1");
    let (_, rest) = signed.split_once('.').unwrap();
    let made_up: Vec<String> = (0..1000)
        .map(|i| format!("{}.{rest}", b64(&json!({"alg": "RS256", "typ": "JWT", "kid": format!("made-up-{i}")}))))
        .collect();
    let started = std::time::Instant::now();
    let mut refused = 0;
    for batch in made_up.chunks(50) {
        let answers =
            futures_util::future::join_all(batch.iter().map(|t| call(&c, &s.url, Some(t), "whoami", json!({})))).await;
        refused += answers.iter().filter(|r| r.status() == 401).count();
    }
    let elapsed = started.elapsed();
    assert_eq!(refused, 1000);
    let during = idp.fetches() - before;
    eprintln!("1000 unknown kids in {elapsed:?} caused {during} JWKS fetch(es)");
    let intervals = elapsed.as_secs() as usize + 1;
    assert!(during <= intervals, "1000 unknown kids over {elapsed:?} caused {during} fetches");

    // The issuer rotates to k2. Until the interval has passed a k2 token is refused without a fetch; the
    // first one after it costs exactly one fetch.
    idp.serve_keys(vec![jwk("rsa2.key.pem", "k2")]);
    let before = idp.fetches();
    let (c, url) = (&c, s.url.as_str());
    let status = move |t: String| async move { call(c, url, Some(&t), "whoami", json!({})).await.status() };
    let k2 = move || token("rsa2.key.pem", "k2");
    eventually("a k2 token admitted after the rotation", || async move { (status(k2()).await == 200).then_some(()) })
        .await;
    assert_eq!(idp.fetches() - before, 1, "the rotation was picked up with one fetch");
    assert_eq!(status(token("rsa.key.pem", "k1")).await, 401);

    // The endpoint fails. Once a fetch has failed, a key the cache does not hold may be a rotation it could
    // not learn of: "unavailable, retry" (503), not "invalid", and not a failure toward the lockout.
    idp.failing.store(true, Ordering::SeqCst);
    let k3 = move || token("rsa.key.pem", "k3");
    eventually("a fetch failed", || async move { (status(k3()).await == 503).then_some(()) }).await;
    for _ in 0..12 {
        assert_eq!(status(k3()).await, 503, "an unknown kid while the JWKS cannot be fetched");
    }
    // Cached keys serve until max_stale (8 s after the rotation's fetch, seconds away), then every token is
    // refused (fail closed); it recovers once the endpoint does.
    assert_eq!(status(k2()).await, 200, "cached keys serve while the endpoint fails");
    eventually("stale keys refused", || async move { (status(k2()).await == 503).then_some(()) }).await;
    idp.failing.store(false, Ordering::SeqCst);
    eventually("recovered with the endpoint", || async move { (status(k2()).await == 200).then_some(()) }).await;
}

/// The lockout after repeated failures counts checked credentials only: a token naming a key the server
/// does not hold (a rotation it has not fetched yet, or the JWKS is down) never locks its client out, while
/// forged signatures do.
#[tokio::test]
async fn unknown_signing_keys_do_not_count_toward_the_lockout() {
    let idp = JwksServer::default();
    idp.serve_keys(vec![jwk("rsa.key.pem", "k1")]);
    let jwks_uri = idp.clone().start().await;
    let mut config = jwt_config(|j| {
        j.jwks_uri = Some(jwks_uri);
        j.jwks_refresh = Duration::from_secs(60);
    });
    config.security.max_failures = 3;
    let s = serve(config).await;
    let c = client();
    let token = |key: &str, kid: &str| sign(Algorithm::RS256, key, Some(kid), &claims("jwt-test", json!({})));
    assert_eq!(call(&c, &s.url, Some(&token("rsa.key.pem", "k1")), "whoami", json!({})).await.status(), 200);

    // The issuer rotated to k2; this server fetched k1 a moment ago and will not fetch again for 60 s.
    for _ in 0..10 {
        let r = call(&c, &s.url, Some(&token("rsa2.key.pem", "k2")), "whoami", json!({})).await;
        assert_eq!(r.status(), 401, "a key not fetched yet is not accepted");
    }
    assert_eq!(call(&c, &s.url, Some(&token("rsa.key.pem", "k1")), "whoami", json!({})).await.status(), 200);

    // Signatures that do not verify under a known key are guesses: the fourth attempt is throttled.
    for _ in 0..3 {
        let r = call(&c, &s.url, Some(&token("rsa2.key.pem", "k1")), "whoami", json!({})).await;
        assert_eq!(r.status(), 401);
    }
    let r = call(&c, &s.url, Some(&token("rsa.key.pem", "k1")), "whoami", json!({})).await;
    assert_eq!(r.status(), 429, "locked out after three forged signatures");
}

/// An authorization server: a JWKS and an RFC 7662 introspection endpoint that records what it is sent.
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
        async fn jwks(AxumState(s): AxumState<AuthServer>) -> axum::Json<JwkSet> {
            s.jwks.fetches.fetch_add(1, Ordering::SeqCst);
            axum::Json(s.jwks.keys.lock().unwrap().clone())
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/introspect", axum::routing::post(introspect))
            .route("/jwks", axum::routing::get(jwks))
            .with_state(self);
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
