//! An identity provider's JWKS endpoint, and the RSA keys it publishes.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey};
use tokio::net::TcpListener;

/// A JWKS endpoint (`GET /jwks`) that counts its fetches, can rotate its keys, and can fail.
#[derive(Clone, Default)]
pub struct JwksServer {
    /// The keys it publishes.
    pub keys: Arc<Mutex<JwkSet>>,
    /// How many times it was fetched, failed fetches included.
    pub fetches: Arc<AtomicUsize>,
    /// While set, every fetch is answered 500.
    pub failing: Arc<AtomicBool>,
}

impl JwksServer {
    /// Serves it on a loopback port of its own, until the runtime ends; returns its URL
    /// (`http://127.0.0.1:PORT/jwks`).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}/jwks", listener.local_addr().expect("a bound address"));
        let app = self.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    /// Its route (`GET /jwks`), to serve beside others on one listener.
    pub fn router(self) -> axum::Router {
        async fn jwks(State(s): State<JwksServer>) -> Response {
            s.fetches.fetch_add(1, Ordering::SeqCst);
            if s.failing.load(Ordering::SeqCst) {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            axum::Json(s.keys.lock().unwrap_or_else(PoisonError::into_inner).clone()).into_response()
        }
        axum::Router::new().route("/jwks", axum::routing::get(jwks)).with_state(self)
    }

    /// Publishes `keys` instead of those it published (a rotation).
    pub fn serve_keys(&self, keys: Vec<Jwk>) {
        *self.keys.lock().unwrap_or_else(PoisonError::into_inner) = JwkSet { keys };
    }

    /// How many times it was fetched so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// The RSA private key in the PEM file `pem`, to sign RS256 tokens with, and its public JWK named `kid`, to
/// publish.
///
/// # Errors
/// When the file cannot be read or holds no RSA private key.
pub fn rsa_signing_key(pem: &Path, kid: &str) -> std::io::Result<(EncodingKey, Jwk)> {
    let bytes =
        std::fs::read(pem).map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", pem.display())))?;
    let invalid = |e: jsonwebtoken::errors::Error| std::io::Error::other(format!("{}: {e}", pem.display()));
    let key = EncodingKey::from_rsa_pem(&bytes).map_err(invalid)?;
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(invalid)?;
    jwk.common.key_id = Some(kid.to_owned());
    Ok((key, jwk))
}
