//! What every generated handler (tool, resource, prompt) injects its non-argument parameters from: the
//! request's [`Context`] and the server's state.

use std::any::TypeId;
use std::fmt;

use super::context::Context;
use super::state::StateMap;

/// The parts of a request a handler's injected parameters come from: the [`Context`] and the values given
/// to [`Server::with_state`](crate::Server::with_state).
pub struct InvocationParts {
    pub(crate) context: Context,
    pub(crate) state: StateMap,
}

impl fmt::Debug for InvocationParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationParts").field("context", &self.context).finish_non_exhaustive()
    }
}

impl InvocationParts {
    pub(crate) fn new(context: Context, state: StateMap) -> Self {
        Self { context, state }
    }

    /// The request's context.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Takes a value to inject: [`Context`] or [`State<T>`](crate::State).
    ///
    /// # Errors
    /// When the value cannot be provided (state never registered).
    pub fn extract<T: FromInvocation>(&self) -> Result<T, InvocationError> {
        T::from_invocation(self)
    }

    pub(crate) fn state(&self) -> &StateMap {
        &self.state
    }
}

/// Why a generated handler could not run the user's function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvocationError {
    /// The arguments passed the checks but did not deserialize (tools), or a prompt argument or URI
    /// template variable the function takes is absent.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// A `State<T>` the function takes was never given to the server.
    #[error("application state `{0}` was not provided: call Server::with_state")]
    MissingState(&'static str),
}

/// A value an annotated function takes that is not an argument from the client: [`Context`] and
/// [`State<T>`](crate::State). `#[mcp_tool]`, `#[mcp_resource]` and `#[mcp_prompt]` inject parameters of
/// these types instead of treating them as arguments.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be injected into a handler",
    note = "only `Context` and `State<T>` are injected; other parameters are the client's arguments"
)]
pub trait FromInvocation: Sized {
    /// Takes the value out of the request's parts.
    ///
    /// # Errors
    /// When the value is not available.
    fn from_invocation(parts: &InvocationParts) -> Result<Self, InvocationError>;
}

impl FromInvocation for Context {
    fn from_invocation(parts: &InvocationParts) -> Result<Self, InvocationError> {
        Ok(parts.context.clone())
    }
}

/// A `State<T>` a handler takes, so a missing `Server::with_state` is reported at start-up.
#[derive(Clone, Copy)]
pub struct StateRequirement {
    /// `TypeId::of::<T>`.
    pub type_id: fn() -> TypeId,
    /// `type_name::<T>`.
    pub type_name: fn() -> &'static str,
}

impl fmt::Debug for StateRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((self.type_name)())
    }
}
