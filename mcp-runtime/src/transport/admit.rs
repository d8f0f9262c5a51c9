//! Admission and refusal: how a decoded request enters the corridor, or is refused before it, the same on
//! every transport.
//!
//! A connection serves both eras at once, as the 2026-07-28 revision allows: a request carrying
//! `io.modelcontextprotocol/protocolVersion` in `_meta` is served statelessly under that revision (an
//! `initialize` or a `ping` so sent is a method that revision removed: −32601); any other request belongs
//! to the connection's handshake session, opened by `initialize`. Over Streamable HTTP the
//! `MCP-Protocol-Version` header also tells the era: a request it says is 2026-07-28 but whose `_meta`
//! lacks the version is refused there (−32602), before admission (`http/streamable.rs`).
//!
//! A request refused before the corridor is a [`Refused`]: the error it is answered with and its
//! [`Outcome`]. Every transport records it through [`Pipeline::refused`] (its audit record and its
//! metrics), which gives the audit refusal (−32014) to answer with instead when the audit queue stays full.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::audit::Refusal;
use crate::auth::Rejection;
use crate::pipeline::Pipeline;
use crate::protocol::{ErrorCode, ErrorObject, Implementation, LogLevel, ProtocolVersion, Request, meta, method};
use crate::request::{ClientInfo, LogGate, McpRequest, Notifier, Outcome, Session, TransportKind, anonymous};

/// A request refused before the corridor: what it is answered with, and how it ended (the audit record's
/// reason, the metrics' label; over HTTP, what the edge records for the response).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Refused {
    /// The JSON-RPC error to answer with.
    pub error: ErrorObject,
    /// How the request ended.
    pub outcome: Outcome,
}

impl Refused {
    /// A refusal with its outcome.
    pub fn new(error: ErrorObject, outcome: Outcome) -> Self {
        Self { error, outcome }
    }

    /// Not a request the server can serve (malformed, before `initialize`, an unknown session, ...):
    /// [`Outcome::InvalidRequest`].
    pub fn invalid(error: ErrorObject) -> Self {
        Self::new(error, Outcome::InvalidRequest)
    }

    /// Authentication refused it: `unauthenticated`, or `rate_limited` when its address failed too often.
    pub(crate) fn rejected(rejection: &Rejection) -> Self {
        let outcome = match rejection {
            Rejection::Unauthenticated(_) => Outcome::Unauthenticated,
            Rejection::Throttled(_) => Outcome::RateLimited,
        };
        Self::new(rejection.error(), outcome)
    }

    /// Records it ([`Pipeline::refused`]) and gives the error to answer with: its own, or the audit
    /// refusal (−32014) when its record could not be kept.
    pub(crate) async fn record(self, pipeline: &Pipeline, refusal: Refusal<'_>) -> ErrorObject {
        match pipeline.refused(refusal, self.outcome).await {
            Ok(()) => self.error,
            Err(audit) => audit,
        }
    }
}

/// Admits a decoded request: picks its revision (per-request `_meta` or `session`'s handshake),
/// checks the per-request fields 2026-07-28 requires, and builds the corridor's request.
///
/// # Errors
/// The refusal ([`Outcome::InvalidRequest`]) to answer with: −32022 for an unsupported revision (with the
/// supported ones in `data`), −32602 for missing or malformed per-request fields or a request before
/// `initialize`.
pub fn admit(
    session: &Session,
    request: Request,
    notifier: Notifier,
    cancel: CancellationToken,
    transport: TransportKind,
) -> Result<McpRequest, Refused> {
    let Request { id, method, mut params } = request;
    let meta = match params.remove("_meta") {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(Refused::invalid(ErrorObject::invalid_params("_meta must be an object"))),
    };
    // The era is the request's: `_meta` naming a protocol version makes it a 2026-07-28 request, whatever its
    // method (`initialize` and `ping` included, which that revision removed: the router answers −32601).
    let (version, client, session, log) = if meta.contains_key(meta::PROTOCOL_VERSION) {
        let stateless = Stateless::read(&meta).map_err(Refused::invalid)?;
        (stateless.version, Arc::new(stateless.client), None, LogGate::Fixed(stateless.log_level))
    } else if let Some(h) = session.handshake() {
        (h.version, Arc::clone(&h.client), Some(session.clone()), session.log_gate())
    } else if method == method::INITIALIZE || method == method::PING {
        (ProtocolVersion::LATEST_HANDSHAKE, Arc::default(), Some(session.clone()), session.log_gate())
    } else {
        return Err(Refused::invalid(ErrorObject::invalid_params(format_args!(
            "no protocol version for `{method}`: send `initialize` first (revisions up to 2025-11-25), \
             or carry `{}` and `{}` in `_meta` (2026-07-28)",
            meta::PROTOCOL_VERSION,
            meta::CLIENT_CAPABILITIES
        ))));
    };
    let principal = anonymous();
    Ok(McpRequest {
        id,
        method,
        params,
        meta,
        version,
        client,
        session,
        notifier,
        cancel,
        transport,
        principal,
        source: None,
        log,
    })
}

/// The per-request fields of a 2026-07-28 request.
struct Stateless {
    version: ProtocolVersion,
    client: ClientInfo,
    log_level: Option<LogLevel>,
}

impl Stateless {
    fn read(meta: &Map<String, Value>) -> Result<Self, ErrorObject> {
        let requested = match meta.get(meta::PROTOCOL_VERSION) {
            Some(Value::String(v)) => v.as_str(),
            _ => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` must be a string",
                    meta::PROTOCOL_VERSION
                )));
            }
        };
        let version = match requested.parse::<ProtocolVersion>() {
            Ok(v) if v.is_stateless() => v,
            _ => return Err(unsupported_version(requested)),
        };
        let capabilities = match meta.get(meta::CLIENT_CAPABILITIES) {
            Some(Value::Object(c)) => c.clone(),
            Some(_) => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` must be an object",
                    meta::CLIENT_CAPABILITIES
                )));
            }
            None => {
                return Err(ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` is required under {version}",
                    meta::CLIENT_CAPABILITIES
                )));
            }
        };
        let implementation = match meta.get(meta::CLIENT_INFO) {
            None => None,
            Some(v) => Some(Implementation::deserialize(v).map_err(|e| {
                ErrorObject::invalid_params(format_args!("`_meta.{}` is malformed: {e}", meta::CLIENT_INFO))
            })?),
        };
        let log_level = match meta.get(meta::LOG_LEVEL) {
            None => None,
            Some(v) => Some(LogLevel::deserialize(v).map_err(|_| {
                ErrorObject::invalid_params(format_args!(
                    "`_meta.{}` must be one of debug, info, notice, warning, error, critical, alert, emergency",
                    meta::LOG_LEVEL
                ))
            })?),
        };
        Ok(Self { version, client: ClientInfo { implementation, capabilities }, log_level })
    }
}

/// −32022 with the revisions this server speaks, so the client can retry with one of them.
pub(crate) fn unsupported_version(requested: &str) -> ErrorObject {
    ErrorObject::new(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION, format!("unsupported protocol version {requested:?}"))
        .with_data(json!({ "supported": ProtocolVersion::supported_strings(), "requested": requested }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::{ErrorCode, RequestId};
    use crate::request::Handshake;

    fn request(method: &str, params: Value) -> Request {
        let Value::Object(params) = params else { panic!() };
        Request { id: RequestId::number(1), method: method.into(), params }
    }

    fn admit(s: &Session, method: &str, params: Value) -> Result<McpRequest, ErrorObject> {
        super::admit(
            s,
            request(method, params),
            Notifier::discard(),
            CancellationToken::new(),
            TransportKind::InProcess,
        )
        .map_err(|refused| {
            assert_eq!(refused.outcome, Outcome::InvalidRequest);
            refused.error
        })
    }

    fn modern_meta() -> Value {
        json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}})
    }

    #[test]
    fn stateless_requests_need_no_handshake() {
        let s = Session::new();
        let r = admit(&s, method::TOOLS_LIST, json!({"_meta": modern_meta()})).unwrap();
        assert_eq!(r.version, ProtocolVersion::V2026_07_28);
        assert!(r.session.is_none());
        assert!(!r.params.contains_key("_meta"));
        // `initialize` and `ping` so sent are 2026-07-28 requests (for methods that revision removed), not
        // the start of a handshake.
        for removed in [method::INITIALIZE, method::PING] {
            let r = admit(&s, removed, json!({"_meta": modern_meta()})).unwrap();
            assert_eq!(r.version, ProtocolVersion::V2026_07_28, "{removed}");
            assert!(r.session.is_none(), "{removed}");
        }
        assert!(s.handshake().is_none());
    }

    #[test]
    fn stateless_requests_name_what_is_wrong() {
        let s = Session::new();
        let e =
            admit(&s, method::TOOLS_LIST, json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}))
                .unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("clientCapabilities"));
        let mut meta = modern_meta();
        meta["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
        let e = admit(&s, method::TOOLS_LIST, json!({"_meta": meta})).unwrap_err();
        assert_eq!(e.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(e.data.as_ref().unwrap()["requested"], "2025-11-25");
        assert_eq!(e.data.as_ref().unwrap()["supported"][0], "2026-07-28");
        let mut meta = modern_meta();
        meta["io.modelcontextprotocol/logLevel"] = json!("loud");
        assert_eq!(admit(&s, method::TOOLS_LIST, json!({"_meta": meta})).unwrap_err().code, ErrorCode::INVALID_PARAMS);
    }

    #[test]
    fn handshake_requests_wait_for_initialize_except_ping() {
        let s = Session::new();
        assert_eq!(admit(&s, method::TOOLS_LIST, json!({})).unwrap_err().code, ErrorCode::INVALID_PARAMS);
        assert!(admit(&s, method::PING, json!({})).is_ok());
        s.open(Handshake { version: ProtocolVersion::V2025_06_18, client: Arc::default() }).unwrap();
        assert_eq!(admit(&s, method::TOOLS_LIST, json!({})).unwrap().version, ProtocolVersion::V2025_06_18);
        assert!(s.open(Handshake { version: ProtocolVersion::V2025_06_18, client: Arc::default() }).is_err());
    }
}
