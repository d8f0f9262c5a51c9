//! [`Outcome`]: how a request ended — one vocabulary for the answer, the logs, the metrics and the audit
//! record. Transports map it to their own form (HTTP: `transport/http/`); nothing translates it back.

use serde::Serialize;

/// How a request ended. The audit record's `reason` is this, in snake_case; so is the metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Answered normally.
    Ok,
    /// The tool returned an error (`isError: true`).
    ToolError,
    /// The arguments failed the tool's input schema (`isError: true`).
    InvalidArguments,
    /// `tools/call` named a tool that does not exist.
    UnknownTool,
    /// The tool ran past its timeout (`isError: true`).
    Timeout,
    /// The handler panicked (−32603), or could not be invoked; the server kept serving.
    Panic,
    /// Under 2026-07-28, the tool asked the client for input: answered `input_required`.
    InputRequired,
    /// Not a request the server can serve: malformed, an unknown method, bad parameters, an unsupported
    /// revision, an unknown session.
    InvalidRequest,
    /// No credentials, or credentials refused.
    Unauthenticated,
    /// A missing scope, or a `Host`/`Origin` the server does not serve.
    Forbidden,
    /// A rate limit, a concurrency cap or a full audit queue refused the call (or the limiter could not decide).
    RateLimited,
    /// The client cancelled it (or hung up under 2026-07-28) before the answer.
    Cancelled,
}

/// Whether the request was let through to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// It ran (whatever its result).
    Allow,
    /// A guard refused it before it ran.
    Deny,
}

impl Outcome {
    /// Every outcome, in declaration order (`outcome as usize` indexes it).
    pub const ALL: [Self; 12] = [
        Self::Ok,
        Self::ToolError,
        Self::InvalidArguments,
        Self::UnknownTool,
        Self::Timeout,
        Self::Panic,
        Self::InputRequired,
        Self::InvalidRequest,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::RateLimited,
        Self::Cancelled,
    ];

    /// The snake_case name used in logs, metrics and audit records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::InvalidArguments => "invalid_arguments",
            Self::UnknownTool => "unknown_tool",
            Self::Timeout => "timeout",
            Self::Panic => "panic",
            Self::InputRequired => "input_required",
            Self::InvalidRequest => "invalid_request",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate_limited",
            Self::Cancelled => "cancelled",
        }
    }

    /// `allow` when the handler ran, `deny` when a guard stopped the request first.
    pub const fn decision(self) -> Decision {
        match self {
            Self::Ok | Self::ToolError | Self::Timeout | Self::Panic | Self::Cancelled | Self::InputRequired => {
                Decision::Allow
            }
            _ => Decision::Deny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_serialized_form_and_the_table_order() {
        for (i, outcome) in Outcome::ALL.into_iter().enumerate() {
            assert_eq!(outcome as usize, i);
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
        assert_eq!(Outcome::RateLimited.decision(), Decision::Deny);
        assert_eq!(Outcome::Cancelled.decision(), Decision::Allow);
    }
}
