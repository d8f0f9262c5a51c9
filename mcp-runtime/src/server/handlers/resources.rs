//! `resources/read`, `resources/subscribe` and `resources/unsubscribe`.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::protocol::method;
use crate::protocol::{ErrorObject, ResourceContents};
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::App;
use crate::server::context::Context;
use crate::server::execute::{failed, guarded, not_invoked, outcome_of_failure, outcome_of_invocation};
use crate::server::format::{Cache, answer, empty};
use crate::server::inject::InvocationParts;
use crate::server::input::{InputExchange, attempt};
use crate::server::resource::{ResourceError, ResourceInvocation, resource_not_found};

/// Runs a `resources/read` request to its answer.
pub(crate) async fn read(app: &App, mut req: McpRequest) -> McpResponse {
    #[derive(Serialize)]
    struct Read {
        contents: Vec<ResourceContents>,
    }
    let uri = match uri_param(method::RESOURCES_READ, &mut req) {
        Ok(uri) => uri,
        Err(e) => return McpResponse::error(e, Outcome::InvalidRequest),
    };
    let version = req.version;
    let catalog = app.catalog();
    let Some(found) = catalog.resources().resolve(&uri) else {
        return McpResponse::error(resource_not_found(version, &uri), Outcome::InvalidRequest);
    };
    let spec = found.spec;
    let inputs = match InputExchange::open(app, &mut req, &uri, None) {
        Ok(inputs) => inputs,
        Err(error) => return McpResponse::error(error, Outcome::InvalidRequest),
    };
    let context = Context::for_request(req, spec.name, app.handle(), inputs.clone());
    let parts = InvocationParts::new(context, app.state().clone());
    let invocation =
        ResourceInvocation { uri: uri.clone(), mime_type: spec.mime_type, variables: found.variables, parts };
    // 2026-07-28: a request to the client ends this attempt with `input_required`.
    let run = guarded("resource", spec.name, app.handler_timeout(), (spec.handler)(invocation));
    let ran = match attempt(app, inputs.as_deref(), run).await {
        Ok(ran) => ran,
        Err(input_required) => return input_required,
    };
    let (error, outcome) = match ran {
        Ok(Ok(Ok(contents))) => {
            return answer(app.format().finish(version, &Read { contents }, Cache::Private(spec.ttl)));
        }
        Ok(Ok(Err(ResourceError::NotFound))) => (resource_not_found(version, &uri), Outcome::InvalidRequest),
        Ok(Ok(Err(ResourceError::Failed(message)))) => {
            (ErrorObject::internal(format_args!("resource `{}`: {message}", spec.name)), Outcome::ToolError)
        }
        Ok(Err(e)) => {
            let outcome = outcome_of_invocation(&e);
            (not_invoked("resource", spec.name, e), outcome)
        }
        Err(failure) => (failed("resource", spec.name, failure), outcome_of_failure(failure)),
    };
    McpResponse::error(error, outcome)
}

/// `resources/subscribe` (`subscribe`) and `resources/unsubscribe`: recorded in the handshake session.
/// Only resources this server can read may be subscribed to.
pub(crate) fn subscription(app: &App, mut req: McpRequest, subscribe: bool) -> Result<Box<RawValue>, ErrorObject> {
    let method = if subscribe { method::RESOURCES_SUBSCRIBE } else { method::RESOURCES_UNSUBSCRIBE };
    let uri = uri_param(method, &mut req)?;
    let Some(session) = &req.session else { return Err(ErrorObject::method_not_found(method)) };
    if subscribe {
        if app.catalog().resources().resolve(&uri).is_none() {
            return Err(resource_not_found(req.version, &uri));
        }
        session.subscriptions().insert(uri)?;
    } else {
        session.subscriptions().remove(&uri);
    }
    app.format().finish(req.version, &empty(), Cache::No)
}

/// The `uri` parameter of a resource request.
fn uri_param(method: &str, req: &mut McpRequest) -> Result<String, ErrorObject> {
    match req.params.remove("uri") {
        Some(serde_json::Value::String(uri)) => Ok(uri),
        _ => Err(ErrorObject::invalid_params(format_args!("{method} needs a `uri` string"))),
    }
}
