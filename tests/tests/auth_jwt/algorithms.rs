//! The key type pins the algorithm: ES256, EdDSA and RS256 keys accept only their own, HS256 a shared secret.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::config::SecretRef;
use serde_json::{Value, json};

use super::{call, claims, client, fixture, jwt_config, serve, sign};

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
