use tower::Layer;

use super::Validate;
use crate::server::App;

/// Adds argument validation to the corridor. Cheap to clone. Each tool's input schema is compiled once,
/// when the tool is registered (at start or through the [`ServerHandle`](crate::server::ServerHandle)),
/// and held with it.
#[derive(Debug, Clone)]
pub struct ValidateLayer {
    app: App,
}

impl ValidateLayer {
    /// Validation of the calls of `app`'s tools, whatever they are when the call comes.
    pub fn new(app: &App) -> Self {
        Self { app: app.clone() }
    }
}

impl<S> Layer<S> for ValidateLayer {
    type Service = Validate<S>;

    fn layer(&self, inner: S) -> Validate<S> {
        Validate::new(inner, self.app.clone())
    }
}
