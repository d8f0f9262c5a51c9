//! `completion/complete`: suggestions for an argument of a prompt or resource template.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::protocol::ErrorObject;
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::App;
use crate::server::completion::{Answer, Completer, Completion, CompletionContext};
use crate::server::context::Context;
use crate::server::execute::{failed, guarded, outcome_of_failure};
use crate::server::format::{Cache, answer};
use crate::server::inject::InvocationParts;

/// Runs a `completion/complete` request to its answer.
pub(crate) async fn complete(app: &App, req: McpRequest) -> McpResponse {
    let version = req.version;
    let completion = match complete_target(app, &req) {
        Err(e) => return McpResponse::error(e, Outcome::InvalidRequest),
        Ok(None) => Completion::default(),
        Ok(Some(Target { name, completer, value, arguments })) => {
            let parts = InvocationParts::new(Context::for_request(req, name, app.handle(), None), app.state().clone());
            let context = CompletionContext { arguments, parts };
            match guarded("completion", name, app.handler_timeout(), (completer.complete)(value, context)).await {
                Ok(completion) => completion,
                Err(failure) => {
                    return McpResponse::error(failed("completion of", name, failure), outcome_of_failure(failure));
                }
            }
        }
    };
    answer(app.format().finish(version, &Answer::from(completion), Cache::No))
}

/// What to complete; `None` for an argument that exists but has no completer (answered with no
/// suggestions, as the specification allows).
fn complete_target(app: &App, req: &McpRequest) -> Result<Option<Target>, ErrorObject> {
    let reference = req.params.get("ref");
    let argument = req.params.get("argument");
    let name = string(argument, "name", "argument.name")?;
    let value = string(argument, "value", "argument.value")?;
    let catalog = app.catalog();
    let (target, known, completers): (&'static str, Vec<&str>, &'static [Completer]) =
        match string(reference, "type", "ref.type")? {
            "ref/prompt" => {
                let prompt = string(reference, "name", "ref.name")?;
                let spec = catalog
                    .prompts()
                    .get(prompt)
                    .ok_or_else(|| ErrorObject::invalid_params(format_args!("unknown prompt: {prompt}")))?;
                (spec.name, spec.arguments.iter().map(|a| a.name).collect(), spec.completions)
            }
            "ref/resource" => {
                let uri = string(reference, "uri", "ref.uri")?;
                let entry = catalog.resources().template(uri).ok_or_else(|| {
                    ErrorObject::invalid_params(format_args!("no resource template `{uri}` on this server"))
                })?;
                (entry.spec.name, entry.template.variables().collect(), entry.spec.completions)
            }
            other => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "unknown ref.type `{other}`: expected ref/prompt or ref/resource"
                )));
            }
        };
    if !known.contains(&name) {
        return Err(ErrorObject::invalid_params(format_args!("`{target}` has no argument `{name}`")));
    }
    let Some(completer) = completers.iter().find(|c| c.argument == name).copied() else { return Ok(None) };
    let arguments = match req.params.get("context").and_then(|c| c.get("arguments")) {
        None | Some(Value::Null) => HashMap::new(),
        Some(Value::Object(map)) => strings(map)?,
        Some(_) => {
            return Err(ErrorObject::invalid_params("completion/complete `context.arguments` must be an object"));
        }
    };
    Ok(Some(Target { name: target, completer, value: value.to_owned(), arguments }))
}

/// The string field `key` of `object`, or −32602 naming `what`.
fn string<'a>(object: Option<&'a Value>, key: &str, what: &str) -> Result<&'a str, ErrorObject> {
    object
        .and_then(|o| o.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| ErrorObject::invalid_params(format_args!("completion/complete needs `{what}` as a string")))
}

/// A completion request resolved: whose argument, its completer, the partial value, the other arguments.
struct Target {
    name: &'static str,
    completer: Completer,
    value: String,
    arguments: HashMap<String, String>,
}

fn strings(map: &Map<String, Value>) -> Result<HashMap<String, String>, ErrorObject> {
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(ErrorObject::invalid_params(format_args!("context argument `{k}` must be a string"))),
        })
        .collect()
}
