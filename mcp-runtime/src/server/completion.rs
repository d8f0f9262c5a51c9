//! Argument completion (`completion/complete`): the functions `#[complete(path)]` names on a prompt
//! argument or a resource template variable, and how their suggestions are answered.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use super::context::Context;
use super::inject::{FromInvocation, InvocationError, InvocationParts};

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
    pub(crate) arguments: HashMap<String, String>,
    pub(crate) parts: InvocationParts,
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
pub(crate) struct Answer {
    completion: Values,
}

impl From<Completion> for Answer {
    fn from(completion: Completion) -> Self {
        Self { completion: completion.into() }
    }
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
