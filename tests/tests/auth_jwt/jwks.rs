//! A JWKS endpoint that rotates and fails: the cache follows rotations at one fetch per interval, resists
//! made-up key ids, serves stale keys until `jwks_max_stale`, and does not count unknown keys toward the
//! lockout.

use std::sync::atomic::Ordering;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use mcp_tests::{JwksServer, eventually};
use serde_json::json;

use super::{b64, call, claims, client, jwk, jwt_config, serve, sign};

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
