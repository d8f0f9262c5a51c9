//! `initialize`, `server/discover`, `logging/setLevel`: what a client learns of the server and sets for itself.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::protocol::method;
use crate::protocol::{ErrorObject, InitializeParams, InitializeResult, LogLevel, ProtocolVersion, ServerCapabilities};
use crate::request::{ClientInfo, Handshake, McpRequest};
use crate::server::App;
use crate::server::format::{Cache, empty};

pub(crate) fn initialize(app: &App, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
    let Some(session) = &req.session else {
        return Err(ErrorObject::method_not_found(method::INITIALIZE));
    };
    let params = InitializeParams::deserialize(Value::Object(req.params.clone()))
        .map_err(|e| ErrorObject::invalid_params(format_args!("initialize: {e}")))?;
    let version = ProtocolVersion::negotiate(&params.protocol_version);
    let client = ClientInfo { implementation: Some(params.client_info), capabilities: params.capabilities };
    session.open(Handshake { version, client: Arc::new(client) })?;
    // The session's change listener, from now on: what changes before the client's stream opens waits for it.
    super::listen::register_session(app, req, session);
    tracing::debug!(requested = %params.protocol_version, negotiated = %version, "session initialized");
    app.format().finish(
        version,
        &InitializeResult {
            protocol_version: version.as_str(),
            capabilities: app.capabilities_for(version),
            server_info: app.info(),
            instructions: app.instructions(),
        },
        Cache::No,
    )
}

pub(crate) fn discover(app: &App) -> Result<Box<RawValue>, ErrorObject> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Discover<'a> {
        supported_versions: Vec<&'static str>,
        capabilities: &'a ServerCapabilities,
        #[serde(skip_serializing_if = "Option::is_none")]
        instructions: Option<&'a str>,
    }
    let body = Discover {
        supported_versions: ProtocolVersion::supported_strings(),
        capabilities: app.capabilities_for(ProtocolVersion::LATEST),
        instructions: app.instructions(),
    };
    app.format().finish(ProtocolVersion::LATEST, &body, Cache::Public)
}

pub(crate) fn set_level(app: &App, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
    let level = req.params.get("level").and_then(|l| LogLevel::deserialize(l).ok()).ok_or_else(|| {
        ErrorObject::invalid_params(
            "logging/setLevel needs a `level`: debug, info, notice, warning, error, critical, alert or emergency",
        )
    })?;
    if let Some(session) = &req.session {
        session.set_log_level(level);
    }
    app.format().finish(req.version, &empty(), Cache::No)
}
