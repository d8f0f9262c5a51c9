//! Redaction: what of a request's arguments (and a tool's result) may enter a record.
//!
//! A field whose name is in `audit.redact_fields` (any depth, case-insensitive), or an argument marked
//! `#[audit(redact)]`, is replaced by `hmac-sha256:<hex>` of its value under `audit.redact_key` (equal values
//! give equal hashes, so records can be joined without revealing them), or removed when no key is given. An
//! argument marked `#[audit(clear)]` is kept as it is even when its name matches.

use std::collections::HashSet;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};

use crate::config::{AuditArguments, AuditConfig};

pub(crate) struct Redactor {
    fields: HashSet<String>,
    key: Option<Vec<u8>>,
    mode: AuditArguments,
}

/// A tool's own marks: arguments always redacted, arguments never redacted.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Marks {
    pub(crate) redact: &'static [&'static str],
    pub(crate) clear: &'static [&'static str],
}

impl Redactor {
    pub(crate) fn new(config: &AuditConfig, allow_inline: bool) -> Result<Self, String> {
        let key = config
            .redact_key
            .as_ref()
            .map(|k| k.resolve(allow_inline).map(|s| s.expose().as_bytes().to_vec()))
            .transpose()
            .map_err(|e| format!("audit.redact_key: {e}"))?;
        Ok(Self {
            fields: config.redact_fields.iter().map(|f| f.to_ascii_lowercase()).collect(),
            key,
            mode: config.arguments,
        })
    }

    /// The arguments as the record shows them, and the SHA-256 of what was received.
    pub(crate) fn arguments(&self, arguments: Option<&Value>, marks: Marks) -> (Option<Value>, Option<String>) {
        let Some(arguments) = arguments else { return (None, None) };
        let digest = serde_json::to_vec(arguments).ok().map(|bytes| hex(&crate::auth::sha256(&bytes)));
        let shown = match self.mode {
            AuditArguments::Redacted => Some(self.redact(arguments, marks)),
            AuditArguments::HashOnly | AuditArguments::None => None,
        };
        let digest = if self.mode == AuditArguments::None { None } else { digest };
        (shown, digest)
    }

    /// A value with every sensitive field masked; the top level honours the tool's marks.
    pub(crate) fn redact(&self, value: &Value, marks: Marks) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (name, v) in map {
                    let cleared = marks.clear.contains(&name.as_str());
                    let sensitive =
                        marks.redact.contains(&name.as_str()) || self.fields.contains(&name.to_ascii_lowercase());
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
            other => other.clone(),
        }
    }

    fn mask(&self, value: &Value) -> Option<Value> {
        let key = self.key.as_ref()?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(&serde_json::to_vec(value).unwrap_or_default());
        Some(Value::String(format!("hmac-sha256:{}", hex(&mac.finalize().into_bytes()))))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
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
    fn marks_override_the_names() {
        let r = redactor(None);
        let marks = Marks { redact: &["customer_id"], clear: &["email"] };
        let out = r.redact(&json!({"customer_id": "CUST-1", "email": "ok@example.com"}), marks);
        assert_eq!(out, json!({"email": "ok@example.com"}));
    }
}
