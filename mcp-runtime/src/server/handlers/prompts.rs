//! `prompts/get`: the named prompt's arguments checked, its handler run, its messages formatted.

use serde_json::Value;

use crate::protocol::ErrorObject;
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::App;
use crate::server::context::Context;
use crate::server::execute::{failed, guarded, not_invoked, outcome_of_failure, outcome_of_invocation};
use crate::server::format::{Cache, answer};
use crate::server::inject::InvocationParts;
use crate::server::input::{InputExchange, attempt};
use crate::server::prompt::{PromptInvocation, check_arguments};

/// Runs a `prompts/get` request to its answer.
pub(crate) async fn get(app: &App, mut req: McpRequest) -> McpResponse {
    let Some(Value::String(name)) = req.params.remove("name") else {
        return McpResponse::error(
            ErrorObject::invalid_params("prompts/get needs a prompt `name`"),
            Outcome::InvalidRequest,
        );
    };
    let catalog = app.catalog();
    let Some(spec) = catalog.prompts().get(&name) else {
        let error = ErrorObject::invalid_params(format_args!("unknown prompt: {name}"));
        return McpResponse::error(error, Outcome::InvalidRequest);
    };
    let raw = req.params.remove("arguments");
    let inputs = match InputExchange::open(app, &mut req, spec.name, raw.as_ref().and_then(Value::as_object)) {
        Ok(inputs) => inputs,
        Err(error) => return McpResponse::error(error, Outcome::InvalidRequest),
    };
    let arguments = match check_arguments(spec, raw) {
        Ok(arguments) => arguments,
        Err(e) => return McpResponse::error(e, Outcome::InvalidArguments),
    };
    let version = req.version;
    let context = Context::for_request(req, spec.name, app.handle(), inputs.clone());
    let parts = InvocationParts::new(context, app.state().clone());
    let invocation = PromptInvocation { prompt: spec.name, arguments, parts };
    // 2026-07-28: a request to the client ends this attempt with `input_required`.
    let run = guarded("prompt", spec.name, app.handler_timeout(), (spec.handler)(invocation));
    let ran = match attempt(app, inputs.as_deref(), run).await {
        Ok(ran) => ran,
        Err(input_required) => return input_required,
    };
    let (error, outcome) = match ran {
        Ok(Ok(Ok(mut result))) => {
            if result.description.is_none() {
                result.description = spec.description.map(str::to_owned);
            }
            return answer(app.format().finish(version, &result, Cache::No));
        }
        Ok(Ok(Err(e))) => (ErrorObject::internal(format_args!("prompt `{}`: {e}", spec.name)), Outcome::ToolError),
        Ok(Err(e)) => {
            let outcome = outcome_of_invocation(&e);
            (not_invoked("prompt", spec.name, e), outcome)
        }
        Err(failure) => (failed("prompt", spec.name, failure), outcome_of_failure(failure)),
    };
    McpResponse::error(error, outcome)
}
