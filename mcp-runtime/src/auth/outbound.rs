//! The one HTTP client authentication uses (JWKS, token introspection).
//!
//! It sends only what its callers build — never a header of an inbound request, so an inbound token is
//! never passed through to anyone — follows no redirects (a redirect could carry a request elsewhere), gives
//! each call a deadline, and reads at most [`MAX_BODY`] bytes of an answer.

use std::time::Duration;

use serde::de::DeserializeOwned;

/// The largest answer read from an identity provider.
const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    client: reqwest::Client,
}

impl Outbound {
    pub(crate) fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("mcp-runtime/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client })
    }

    /// GETs a JSON document.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let request = self.client.get(url).header(reqwest::header::ACCEPT, "application/json");
        read_json(request.send().await.map_err(|e| describe(&e))?).await
    }

    /// POSTs a form with HTTP Basic client authentication (RFC 7662 §2.1) and reads a JSON answer.
    pub(crate) async fn post_form<T: DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
        client: Option<(&str, Option<&str>)>,
    ) -> Result<T, String> {
        let mut request = self.client.post(url).header(reqwest::header::ACCEPT, "application/json").form(form);
        if let Some((id, secret)) = client {
            request = request.basic_auth(id, secret);
        }
        read_json(request.send().await.map_err(|e| describe(&e))?).await
    }
}

async fn read_json<T: DeserializeOwned>(mut response: reqwest::Response) -> Result<T, String> {
    let status = response.status();
    if !status.is_success() {
        return Err(format!("answered HTTP {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("answered more than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("answered malformed JSON: {e}"))
}

/// The error without the URL's query (an identity provider's URL carries no secret, but be sure).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed"
    };
    match std::error::Error::source(e) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}
