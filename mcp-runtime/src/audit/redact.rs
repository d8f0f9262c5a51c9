//! Redaction: what of a request's arguments (and a tool's result) may enter a record.
//!
//! A field whose name matches `audit.redact_fields` (any depth; normalised names and their words, see
//! [`names`](super::names)), or an argument marked `#[audit(redact)]`, is replaced by `hmac-sha256:<hex>` of
//! its value under `audit.redact_key` (equal values give equal hashes, so records can be joined without
//! revealing them), or removed when no key is given. An argument marked `#[audit(clear)]` is kept as it is
//! even when its name matches.
//!
//! A string that holds a JSON object or array is redacted as JSON too: before 2025-06-18 a tool's
//! structured result reaches the record only as its text mirror in `content`, and a JSON string inside an
//! argument is no less sensitive for being quoted.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};

use super::names::Names;
use crate::config::{AuditArguments, AuditConfig};
use crate::server::Tool;

pub(crate) struct Redactor {
    fields: Names,
    key: Option<Vec<u8>>,
    mode: AuditArguments,
}

/// A tool's own marks: arguments always redacted, arguments never redacted — read from the tool the request
/// names (one `Arc` clone; none without a tool).
#[derive(Debug, Clone, Default)]
pub(crate) struct Marks {
    tool: Option<Tool>,
    /// Whether the "never redacted" marks apply (to arguments; a result honours only the redactions).
    clears: bool,
}

impl Marks {
    pub(crate) fn of(tool: &Tool) -> Self {
        Self { tool: Some(tool.clone()), clears: true }
    }

    /// The same tool's redactions only.
    pub(crate) fn redactions(&self) -> Self {
        Self { tool: self.tool.clone(), clears: false }
    }

    fn redact(&self) -> &[Arc<str>] {
        self.tool.as_ref().map_or(&[], Tool::audit_redact)
    }

    fn clear(&self) -> &[Arc<str>] {
        self.tool.as_ref().filter(|_| self.clears).map_or(&[], Tool::audit_clear)
    }
}

impl Redactor {
    pub(crate) fn new(config: &AuditConfig, allow_inline: bool) -> Result<Self, String> {
        let key = config
            .redact_key
            .as_ref()
            .map(|k| k.resolve(allow_inline).map(|s| s.expose().as_bytes().to_vec()))
            .transpose()
            .map_err(|e| format!("audit.redact_key: {e}"))?;
        Ok(Self { fields: Names::new(&config.redact_fields), key, mode: config.arguments })
    }

    /// The arguments as the record shows them, and the HMAC-SHA256 (hex, under `audit.redact_key`) of what
    /// was received. Without a key there is no digest: an unkeyed hash of the arguments would let anyone
    /// holding the record guess a redacted PIN or phone number offline.
    pub(crate) fn arguments(&self, arguments: Option<&Value>, marks: Marks) -> (Option<Value>, Option<String>) {
        let Some(arguments) = arguments else { return (None, None) };
        let digest =
            self.key.as_ref().map(|key| hex::encode(hmac(key, &serde_json::to_vec(arguments).unwrap_or_default())));
        let shown = match self.mode {
            AuditArguments::Redacted => Some(self.redact(arguments, marks)),
            AuditArguments::HashOnly | AuditArguments::None => None,
        };
        let digest = if self.mode == AuditArguments::None { None } else { digest };
        (shown, digest)
    }

    /// A value with every sensitive field masked; the top level honours the tool's marks.
    #[allow(clippy::needless_pass_by_value)] // one `Arc`, taken as the `Copy` marks of old were: callers unchanged
    pub(crate) fn redact(&self, value: &Value, marks: Marks) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (name, v) in map {
                    let cleared = marks.clear().iter().any(|c| **c == **name);
                    let sensitive = marks.redact().iter().any(|r| **r == **name) || self.fields.matches(name);
                    if cleared {
                        out.insert(name.clone(), v.clone());
                    } else if sensitive {
                        if let Some(masked) = self.mask(v) {
                            out.insert(name.clone(), masked);
                        }
                    } else {
                        out.insert(name.clone(), self.redact(v, Marks::default()));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.redact(v, Marks::default())).collect()),
            Value::String(text) => self.redact_embedded(text).map_or_else(|| value.clone(), Value::String),
            other => other.clone(),
        }
    }

    /// A string holding a JSON object or array, redacted and serialised again; `None` when it holds none,
    /// or nothing in it is sensitive (the text is then kept byte for byte).
    fn redact_embedded(&self, text: &str) -> Option<String> {
        if !text.trim_start().starts_with(['{', '[']) {
            return None;
        }
        let parsed: Value = serde_json::from_str(text).ok()?;
        let redacted = self.redact(&parsed, Marks::default());
        (redacted != parsed).then(|| redacted.to_string())
    }

    fn mask(&self, value: &Value) -> Option<Value> {
        let key = self.key.as_ref()?;
        let mac = hmac(key, &serde_json::to_vec(value).unwrap_or_default());
        Some(Value::String(format!("hmac-sha256:{}", hex::encode(mac))))
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub(crate) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::SecretRef;

    fn redactor(key: Option<&str>) -> Redactor {
        let config = AuditConfig {
            redact_fields: vec!["email".into(), "Phone".into()],
            redact_key: key.map(|k| SecretRef::Inline(k.into())),
            ..AuditConfig::default()
        };
        Redactor::new(&config, true).unwrap()
    }

    #[test]
    fn fields_are_masked_at_any_depth_case_insensitively() {
        let r = redactor(Some("k"));
        let v = json!({"name": "Ada", "EMAIL": "ada@example.com", "contacts": [{"phone": "+1-555"}], "note": {"Email": "ada@example.com"}});
        let out = r.redact(&v, Marks::default());
        assert_eq!(out["name"], "Ada");
        let masked = out["EMAIL"].as_str().unwrap();
        assert!(masked.starts_with("hmac-sha256:"));
        assert_eq!(out["note"]["Email"], out["EMAIL"], "equal values, equal hashes");
        assert_ne!(out["contacts"][0]["phone"], json!("+1-555"));
        assert!(!out.to_string().contains("ada@example.com") && !out.to_string().contains("555"));
        let removed = redactor(None).redact(&v, Marks::default());
        assert_eq!(removed, json!({"name": "Ada", "contacts": [{}], "note": {}}), "without a key, removed");
    }

    #[test]
    fn json_inside_strings_is_redacted_and_other_text_kept() {
        let r = redactor(Some("k"));
        // What a 2025-03-26 client's result looks like: the structured value only as its text mirror.
        let mirror = json!({"name": "Ada", "email": "ada@example.com", "contact": {"phone": "+1-555-0100"}});
        let content = json!([{"type": "text", "text": mirror.to_string()}, {"type": "text", "text": "{not json"}]);
        let out = r.redact(&content, Marks::default());
        let text = out[0]["text"].as_str().unwrap();
        assert!(!text.contains("ada@example.com") && !text.contains("555"), "{text}");
        let reparsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(reparsed["name"], "Ada");
        assert!(reparsed["email"].as_str().unwrap().starts_with("hmac-sha256:"));
        assert_eq!(out[1]["text"], "{not json");
        let plain = json!({"note": "[1, 2]  ", "list": "{\"a\": 1}"});
        assert_eq!(r.redact(&plain, Marks::default()), plain, "nothing sensitive: kept byte for byte");
    }

    #[test]
    fn the_arguments_digest_is_keyed_or_absent() {
        let args = json!({"pin": "1234"});
        let (_, keyed) = redactor(Some("k")).arguments(Some(&args), Marks::default());
        let (_, other) = redactor(Some("another key")).arguments(Some(&args), Marks::default());
        let keyed = keyed.expect("a digest under a key");
        assert_eq!(keyed.len(), 64);
        assert_ne!(Some(keyed.clone()), other, "the digest depends on the key");
        let unkeyed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(serde_json::to_vec(&args).unwrap()));
        assert_ne!(keyed, unkeyed, "not the plain SHA-256 anyone can recompute");
        assert_eq!(redactor(None).arguments(Some(&args), Marks::default()).1, None, "no key, no digest");
    }

    #[test]
    fn marks_override_the_names() {
        let r = redactor(None);
        let tool = Tool::builder("t")
            .audit_redact(["customer_id"])
            .audit_clear(["email"])
            .handler(|_, _: crate::server::Context| async { "" })
            .build()
            .unwrap();
        let marks = Marks::of(&tool);
        let out = r.redact(&json!({"customer_id": "CUST-1", "email": "ok@example.com"}), marks);
        assert_eq!(out, json!({"email": "ok@example.com"}));
    }
}
