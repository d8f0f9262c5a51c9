//! Argument completion (`completion/complete`): the functions `#[complete(path)]` names on a prompt
//! argument or a resource template variable, and how their suggestions are answered.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::{Map, Value};

use super::builder::App;
use super::context::Context;
use super::execute::{failed, guarded};
use super::format::Cache;
use super::inject::{FromInvocation, InvocationError, InvocationParts};
use super::router::answer;
use crate::protocol::ErrorObject;
use crate::request::{McpRequest, McpResponse, Outcome};

/// At most this many values go in one answer, as the specification requires; `total` and `hasMore` say
/// how many more there were.
pub const MAX_COMPLETION_VALUES: usize = 100;

/// The completion function of one argument: a prompt argument or a template variable.
#[derive(Clone, Copy)]
pub struct Completer {
    /// The argument (or variable) it completes.
    pub argument: &'static str,
    /// The generated wrapper around the function `#[complete(path)]` names.
    pub complete: CompleteFn,
}

impl fmt::Debug for Completer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completer").field("argument", &self.argument).finish_non_exhaustive()
    }
}

/// A completion function: the partial value and what else the client knows.
pub type CompleteFn = fn(String, CompletionContext) -> CompletionFuture;

/// The future a completion function returns.
pub type CompletionFuture = Pin<Box<dyn Future<Output = Completion> + Send + 'static>>;

/// What a completion function knows besides the partial value: the other arguments the client already
/// filled in, the request's [`Context`] and the server's state.
pub struct CompletionContext {
    arguments: HashMap<String, String>,
    parts: InvocationParts,
}

impl fmt::Debug for CompletionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionContext").field("arguments", &self.arguments).finish_non_exhaustive()
    }
}

impl CompletionContext {
    /// The value the client already gave another argument (`context.arguments`).
    pub fn argument(&self, name: &str) -> Option<&str> {
        self.arguments.get(name).map(String::as_str)
    }

    /// Every argument the client already filled in.
    pub fn arguments(&self) -> &HashMap<String, String> {
        &self.arguments
    }

    /// The request's context.
    pub fn context(&self) -> &Context {
        self.parts.context()
    }

    /// Takes [`State<T>`](crate::State) (or the [`Context`]).
    ///
    /// # Errors
    /// When the state was never given to the server.
    pub fn extract<T: FromInvocation>(&self) -> Result<T, InvocationError> {
        self.parts.extract()
    }
}

/// Suggestions for an argument's value, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// The suggestions; only the first [`MAX_COMPLETION_VALUES`] are sent.
    pub values: Vec<String>,
    /// How many suggestions exist in all, when known beyond `values`.
    pub total: Option<usize>,
    /// Whether more suggestions exist than `values` holds.
    pub has_more: bool,
}

/// What a completion function may return: `Vec<String>`, `Vec<&'static str>` or a [`Completion`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a completion function",
    note = "a `#[complete(path)]` function is `async fn(value: String, ctx: CompletionContext) -> Vec<String>`"
)]
pub trait IntoCompletion {
    /// The suggestions.
    fn into_completion(self) -> Completion;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Completion {
        self
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Completion {
        Completion { values: self, ..Completion::default() }
    }
}

impl IntoCompletion for Vec<&'static str> {
    fn into_completion(self) -> Completion {
        self.into_iter().map(str::to_owned).collect::<Vec<_>>().into_completion()
    }
}

#[derive(Serialize)]
struct Answer {
    completion: Values,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Values {
    values: Vec<String>,
    total: usize,
    has_more: bool,
}

impl From<Completion> for Values {
    fn from(c: Completion) -> Self {
        let found = c.values.len();
        let mut values = c.values;
        values.truncate(MAX_COMPLETION_VALUES);
        Self { has_more: c.has_more || found > values.len(), total: c.total.unwrap_or(found).max(found), values }
    }
}

/// The string field `key` of `object`, or −32602 naming `what`.
fn string<'a>(object: Option<&'a Value>, key: &str, what: &str) -> Result<&'a str, ErrorObject> {
    object
        .and_then(|o| o.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| ErrorObject::invalid_params(format_args!("completion/complete needs `{what}` as a string")))
}

impl App {
    /// Runs a `completion/complete` request to its answer.
    pub(crate) async fn complete(&self, req: McpRequest) -> McpResponse {
        let version = req.version;
        let completion = match self.complete_target(&req) {
            Err(e) => return McpResponse::error(e, Outcome::InvalidRequest),
            Ok(None) => Completion::default(),
            Ok(Some(Target { name, completer, value, arguments })) => {
                let parts = InvocationParts::new(Context::for_request(req, name), self.state().clone());
                let context = CompletionContext { arguments, parts };
                match guarded("completion", name, self.handler_timeout(), (completer.complete)(value, context)).await {
                    Ok(completion) => completion,
                    Err(failure) => {
                        return McpResponse::error(
                            failed("completion of", name, failure),
                            Outcome::of_failure(failure),
                        );
                    }
                }
            }
        };
        answer(self.finish(version, &Answer { completion: completion.into() }, Cache::No))
    }

    /// What to complete; `None` for an argument that exists but has no completer (answered with no
    /// suggestions, as the specification allows).
    fn complete_target(&self, req: &McpRequest) -> Result<Option<Target>, ErrorObject> {
        let reference = req.params.get("ref");
        let argument = req.params.get("argument");
        let name = string(argument, "name", "argument.name")?;
        let value = string(argument, "value", "argument.value")?;
        let (target, known, completers): (&'static str, Vec<&str>, &'static [Completer]) =
            match string(reference, "type", "ref.type")? {
                "ref/prompt" => {
                    let prompt = string(reference, "name", "ref.name")?;
                    let spec = self
                        .prompts()
                        .get(prompt)
                        .ok_or_else(|| ErrorObject::invalid_params(format_args!("unknown prompt: {prompt}")))?;
                    (spec.name, spec.arguments.iter().map(|a| a.name).collect(), spec.completions)
                }
                "ref/resource" => {
                    let uri = string(reference, "uri", "ref.uri")?;
                    let entry = self.resources().template(uri).ok_or_else(|| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_capped_with_total_and_has_more() {
        let many: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let v = Values::from(many.into_completion());
        assert_eq!((v.values.len(), v.total, v.has_more), (100, 150, true));
        let few = Values::from(vec!["paris", "park"].into_completion());
        assert_eq!((few.values.len(), few.total, few.has_more), (2, 2, false));
        let told = Values::from(Completion { values: vec!["a".into()], total: Some(40), has_more: true });
        assert_eq!((told.total, told.has_more), (40, true));
    }
}
