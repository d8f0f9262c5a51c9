//! The server reads its own definitions as a client's model would, with the rules of `cargo mcp scan`
//! (`mcp-lint`), when it starts: `security.scan_on_start`.

use serde_json::Value;

use super::App;
use super::start::StartError;
use crate::config::ScanOnStart;

/// Lints what the server serves (its manifest and its instructions): every finding of medium severity or
/// more is logged at warn; under `deny-critical` a critical one refuses the start.
///
/// # Errors
/// [`StartError::Poisoned`], naming each critical finding.
pub(crate) fn scan_own(app: &App, policy: ScanOnStart) -> Result<(), StartError> {
    if policy == ScanOnStart::Off {
        return Ok(());
    }
    let mut manifest = app.manifest();
    if let Some(instructions) = app.instructions() {
        manifest["instructions"] = Value::String(instructions.to_owned());
    }
    let findings = mcp_lint::lint(&manifest);
    for finding in findings.iter().filter(|f| f.severity >= mcp_lint::Severity::Medium) {
        tracing::warn!(
            rule = finding.rule,
            severity = finding.severity.as_str(),
            at = %finding.pointer,
            "the server's own definitions read as tool poisoning: {}",
            finding.message
        );
    }
    let critical: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == mcp_lint::Severity::Critical)
        .map(|f| format!("{} at {}: {}", f.rule, f.pointer, f.message))
        .collect();
    if policy == ScanOnStart::DenyCritical && !critical.is_empty() {
        return Err(StartError::Poisoned(critical.join("; ")));
    }
    Ok(())
}
