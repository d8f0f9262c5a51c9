//! `prompts/get`: the named prompt's arguments checked, its handler run, its messages formatted.

use serde_json::Value;

use crate::protocol::ErrorObject;
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::App;
use crate::server::context::Context;
use crate::server::execute::{failed, guarded, not_invoked, outcome_of_failure, outcome_of_invocation};
use crate::server::format::{Cache, answer};
use crate::server::inject::InvocationParts;
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
    let arguments = match check_arguments(spec, req.params.remove("arguments")) {
        Ok(arguments) => arguments,
        Err(e) => return McpResponse::error(e, Outcome::InvalidArguments),
    };
    let version = req.version;
    let parts = InvocationParts::new(Context::for_request(req, spec.name, app.handle()), app.state().clone());
    let invocation = PromptInvocation { prompt: spec.name, arguments, parts };
    let (error, outcome) = match guarded("prompt", spec.name, app.handler_timeout(), (spec.handler)(invocation)).await {
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
