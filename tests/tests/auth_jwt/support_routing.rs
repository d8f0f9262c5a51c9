//! The support-routing example binary (RS256 with a configured public key): good tokens admitted, every
//! kind of bad one refused, nothing secret logged; without its key it refuses to start.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_tests::{NetworkServer, modern_meta, support_routing_bin};
use serde_json::{Value, json};

use super::{b64, call, challenge, claims, client, fixture, now, sign};

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
