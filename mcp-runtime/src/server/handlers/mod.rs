//! The handlers, one family per file, each a free function of the [`App`](super::App) and the request;
//! the [`Router`](super::Router) dispatches to them.

pub(crate) mod completion;
pub(crate) mod lifecycle;
pub(crate) mod listen;
pub(crate) mod lists;
pub(crate) mod prompts;
pub(crate) mod resources;
pub(crate) mod tasks;
pub(crate) mod tools;
