use tower::Layer;

use super::{Validate, Validators};
use crate::server::{App, StartError};

/// Adds argument validation to the corridor. Cheap to clone: the compiled schemas are shared.
#[derive(Debug, Clone)]
pub struct ValidateLayer {
    app: App,
    validators: Validators,
}

impl ValidateLayer {
    /// Compiles every tool's input schema once.
    ///
    /// # Errors
    /// A schema that is not valid JSON Schema 2020-12, naming the tool.
    pub fn new(app: &App) -> Result<Self, StartError> {
        Ok(Self { app: app.clone(), validators: Validators::compile(app)? })
    }
}

impl<S> Layer<S> for ValidateLayer {
    type Service = Validate<S>;

    fn layer(&self, inner: S) -> Validate<S> {
        Validate::new(inner, self.app.clone(), self.validators.clone())
    }
}
