//! A 2026-07-28 request that cannot be processed without a client capability the client did not declare
//! (SEP-2575): answered −32021 MissingRequiredClientCapability (HTTP 400).
//!
//! A handler's request for what needs such a capability (sampling, elicitation, roots) is refused to the
//! handler, [`PeerError::Unsupported`], and the exchange notes it (`InputExchange::refuse`). The handler
//! may do without (ask only for what was declared, use a default) and is answered as usual. When it fails
//! instead, the request needed what was refused: [`super::attempt`] answers −32021 with
//! `data.requiredCapabilities` naming every capability refused.
//!
//! [`PeerError::Unsupported`]: crate::request::PeerError::Unsupported

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::protocol::{CallToolResult, ErrorCode, ErrorObject, meta};
use crate::server::execute::Failure;
use crate::server::inject::InvocationError;

/// What a handler's run came to, as far as [`super::attempt`] needs to know.
pub(crate) trait Ran {
    /// Whether the handler itself failed: a tool's `isError` result, a prompt's or resource's error (not a
    /// panic, a timeout or arguments it was not given).
    fn failed(&self) -> bool;
}

impl Ran for Result<Result<CallToolResult, InvocationError>, Failure> {
    fn failed(&self) -> bool {
        matches!(self, Ok(Ok(result)) if result.is_error)
    }
}

/// A prompt's (`Result<GetPromptResult, ToolError>`) or a resource's (`ReadResult`) run.
impl<T, E> Ran for Result<Result<Result<T, E>, InvocationError>, Failure> {
    fn failed(&self) -> bool {
        matches!(self, Ok(Ok(Err(_))))
    }
}

/// −32021 MissingRequiredClientCapability (HTTP 400): the request needs the client's `capabilities`,
/// which it did not declare; `data.requiredCapabilities` is a `ClientCapabilities` object naming them
/// (`{"sampling": {}}`), as the schema defines it.
pub(crate) fn missing_capabilities(capabilities: &BTreeSet<&'static str>) -> ErrorObject {
    let names: Vec<&str> = capabilities.iter().copied().collect();
    let required: Map<String, Value> = names.iter().map(|name| ((*name).to_owned(), json!({}))).collect();
    ErrorObject::new(
        ErrorCode::MISSING_CLIENT_CAPABILITY,
        format!(
            "this request needs the client's {} capability: declare it in `_meta.{}`",
            names.join(" and "),
            meta::CLIENT_CAPABILITIES
        ),
    )
    .with_data(json!({ "requiredCapabilities": required }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_capabilities_are_named_as_client_capabilities() {
        let e = missing_capabilities(&BTreeSet::from(["sampling", "elicitation"]));
        assert_eq!(e.code, ErrorCode::MISSING_CLIENT_CAPABILITY);
        assert_eq!(e.data.as_ref().unwrap()["requiredCapabilities"], json!({"elicitation": {}, "sampling": {}}));
        assert!(e.message.contains("elicitation and sampling"), "{}", e.message);
    }

    #[test]
    fn only_the_handlers_own_failure_counts() {
        type ToolRun = Result<Result<CallToolResult, InvocationError>, Failure>;
        type PromptRun = Result<Result<Result<(), String>, InvocationError>, Failure>;
        assert!(ToolRun::Ok(Ok(CallToolResult::error("no sampling"))).failed());
        assert!(!ToolRun::Ok(Ok(CallToolResult::default())).failed());
        assert!(!ToolRun::Err(Failure::TimedOut).failed());
        assert!(PromptRun::Ok(Ok(Err("no roots".into()))).failed());
        assert!(!PromptRun::Ok(Ok(Ok(()))).failed());
        assert!(!PromptRun::Err(Failure::Panicked).failed());
    }
}
