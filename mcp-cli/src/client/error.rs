//! Why a command failed: what the CLI reports, with its exit code, and what rmcp says before the side it
//! happened on explains it.

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use rmcp::ServiceError;
use rmcp::model::ErrorData;
use rmcp::service::ClientInitializeError;
use serde_json::Value;

use super::shorten;
use crate::http::TooLarge;

/// Why a request failed.
#[derive(Debug, Clone)]
pub(super) enum ClientError {
    /// The server answered with a JSON-RPC error.
    Rpc { code: i64, message: String, data: Option<Value> },
    /// HTTP 401: no credentials, or refused ones.
    Unauthorized(String),
    /// HTTP 403: a Host/Origin refused, or a missing scope.
    Forbidden(String),
    /// Another HTTP error status.
    Status(u16, String),
    /// The server could not be started or reached.
    Unreachable(String),
    /// The server exited or closed the connection before it answered.
    Closed(String),
    /// No answer within `--timeout`.
    Timeout(Duration, String),
    /// The server said something that is not MCP.
    Protocol(String),
    /// The server answered with a redirect, which is not followed (the message names where it points).
    Redirected(String),
    /// An answer (to the request named) outgrew the cap.
    TooLarge(String, TooLarge),
    /// The server does not speak the revision asked for (`--protocol`), or none the CLI speaks.
    Era(String),
    /// A call still asked for input after the most rounds of answers the CLI gives.
    Rounds(String),
}

impl ClientError {
    /// 1 when the server answered with a refusal or an error, 2 when it could not be talked to.
    pub(super) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Rpc { .. } | Self::Unauthorized(_) | Self::Forbidden(_) | Self::Status(..) | Self::Rounds(_) => {
                ExitCode::FAILURE
            }
            Self::Era(_)
            | Self::Unreachable(_)
            | Self::Closed(_)
            | Self::Timeout(..)
            | Self::Protocol(_)
            | Self::Redirected(_)
            | Self::TooLarge(..) => ExitCode::from(2),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpc { code, message, data } => {
                write!(f, "the server answered with JSON-RPC error {code}: {message}")?;
                match data {
                    Some(data) if !data.is_null() => write!(f, " (data: {data})"),
                    _ => Ok(()),
                }
            }
            Self::Unauthorized(detail) => write!(f, "HTTP 401 Unauthorized: {detail}"),
            Self::Forbidden(detail) => write!(f, "HTTP 403 Forbidden: {detail}"),
            Self::Status(status, detail) => write!(f, "HTTP {status}: {detail}"),
            Self::Unreachable(detail)
            | Self::Closed(detail)
            | Self::Redirected(detail)
            | Self::Era(detail)
            | Self::Rounds(detail) => f.write_str(detail),
            Self::TooLarge(what, too_large) => write!(f, "{what} is {too_large}"),
            Self::Timeout(timeout, method) => {
                write!(f, "no answer to `{method}` within {}s (--timeout)", timeout.as_secs_f64())
            }
            Self::Protocol(detail) => write!(f, "the server's answer is not MCP: {detail}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// The server's JSON-RPC error, or (with rmcp's marker) an answer rmcp saw the connection close before.
fn rpc_error(error: ErrorData) -> Lost {
    if error.data.as_ref().is_some_and(|d| d.get("io.modelcontextprotocol/transportClosed").is_some()) {
        return Lost::Closed(error.message.into_owned());
    }
    let (code, message) = (i64::from(error.code.0), error.message.into_owned());
    Lost::Answered(ClientError::Rpc { code, message, data: error.data })
}

/// What rmcp says went wrong, before the side it happened on explains it.
#[derive(Debug)]
pub(super) enum Lost {
    /// The server answered with an error.
    Answered(ClientError),
    /// The connection closed, or a message could not be sent.
    Closed(String),
    /// The server said something that is not MCP.
    Protocol(String),
}

impl From<ClientInitializeError> for Lost {
    fn from(error: ClientInitializeError) -> Self {
        match error {
            ClientInitializeError::JsonRpcError(error) => rpc_error(error),
            ClientInitializeError::ConnectionClosed(_)
            | ClientInitializeError::TransportError { .. }
            | ClientInitializeError::Cancelled => Self::Closed(error.to_string()),
            other => Self::Protocol(shorten(&other.to_string(), 200)),
        }
    }
}

impl From<ServiceError> for Lost {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::McpError(error) => rpc_error(error),
            ServiceError::TransportSend(_) | ServiceError::TransportClosed | ServiceError::Cancelled { .. } => {
                Self::Closed(error.to_string())
            }
            other => Self::Protocol(shorten(&other.to_string(), 200)),
        }
    }
}
