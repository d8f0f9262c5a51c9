//! Which field names are sensitive: `audit.redact_fields` matched on normalised names and their words.
//!
//! A configured name is normalised (lowercased, `_` and `-` removed: `api_key` → `apikey`). A field's name is
//! split into words at separators (`_`, `-`, `.`, spaces) and at camel-case humps (`refreshToken` →
//! `refresh` `token`, `APIKey` → `api` `key`), lowercased and joined. The configured name matches when it
//! ends where one of the field's words ends, optionally followed by a plural `s`:
//!
//! - `token` matches `token`, `access_token`, `refreshToken`, `x-auth-token`, `accesstoken` (a compound
//!   written as one word), `tokens`; not `tokenizer` (`token` does not end a word there);
//! - `password` matches `new_password`, `password_hash`, `passwordConfirmation`; `apikey` matches
//!   `api_key`, `x-api-key`, `apiKey`, `API_KEY`;
//! - a field with a measuring word (`count`, `total`, `used`, `remaining`, `limit`, `max`, `min`, `len`,
//!   `length`, `size`) is kept even when a name matches, so usage figures stay readable: `token_count`,
//!   `max_tokens`, `tokens_used`, `password_length`. Such a field holds a figure about the secret, not the
//!   secret; a tool that puts a secret under such a name defeats this rule (mark it `#[audit(redact)]`).
//!
//! The cost of matching inside words is the odd false positive (`iphone_model` under `phone`): a value
//! hidden, never a value leaked.

/// Words that make a field a measure of something rather than the thing itself.
const MEASURES: &[&str] = &["count", "total", "used", "remaining", "limit", "max", "min", "len", "length", "size"];

/// The normalised configured names, ready to match.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names(Vec<String>);

impl Names {
    /// Normalises `configured` (lowercase, `_` and `-` removed); empty names are ignored.
    pub(crate) fn new<S: AsRef<str>>(configured: &[S]) -> Self {
        let mut names: Vec<String> = configured
            .iter()
            .map(|n| n.as_ref().chars().filter(|c| !matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect())
            .filter(|n: &String| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        Self(names)
    }

    /// Whether a field called `field` is sensitive.
    pub(crate) fn matches(&self, field: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let words = words(field);
        if words.iter().any(|w| MEASURES.contains(&w.as_str())) {
            return false;
        }
        let mut joined = String::with_capacity(field.len());
        for word in &words {
            joined.push_str(word);
            if self.0.iter().any(|name| joined.ends_with(name.as_str()) || ends_with_plural(&joined, name)) {
                return true;
            }
        }
        false
    }
}

fn ends_with_plural(text: &str, name: &str) -> bool {
    text.strip_suffix('s').is_some_and(|t| t.ends_with(name))
}

/// `refreshToken` → `refresh` `token`; `X-API-Key` → `x` `api` `key`; `sha256_sum` → `sha256` `sum`.
fn words(field: &str) -> Vec<String> {
    let chars: Vec<char> = field.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        // A hump: `aB` or `1B`, or the last capital of an acronym followed by a lowercase (`APIKey`: `K`).
        let hump = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if hump && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuditConfig;

    #[test]
    fn words_split_at_separators_and_humps() {
        assert_eq!(words("refreshToken"), ["refresh", "token"]);
        assert_eq!(words("X-API-Key"), ["x", "api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("client_secret"), ["client", "secret"]);
        assert_eq!(words("sha256Sum"), ["sha256", "sum"]);
        assert_eq!(words("__a..b"), ["a", "b"]);
    }

    /// The default `redact_fields` against names seen in real tools: hidden or kept.
    #[test]
    fn the_defaults_hide_credentials_and_keep_measures() {
        let names = Names::new(&AuditConfig::default().redact_fields);
        let hidden = [
            "password",
            "Password",
            "new_password",
            "passwordConfirmation",
            "password_hash",
            "passwd",
            "passphrase",
            "secret",
            "client_secret",
            "clientSecret",
            "CLIENT-SECRET",
            "secrets",
            "token",
            "access_token",
            "refresh_token",
            "refreshToken",
            "id_token",
            "accesstoken",
            "x-auth-token",
            "tokens",
            "api_key",
            "apiKey",
            "API_KEY",
            "x-api-key",
            "apikey",
            "private_key",
            "privateKey",
            "credential",
            "credentials",
            "aws_credentials",
            "authorization",
            "Authorization",
            "proxy_authorization",
            "cookie",
            "Set-Cookie",
            "session_cookie",
            "session_id",
            "sessionId",
        ];
        for name in hidden {
            assert!(names.matches(name), "{name} should be hidden");
        }
        let kept = [
            "name",
            "email_verified",
            "token_count",
            "tokenCount",
            "max_tokens",
            "tokens_used",
            "prompt_tokens_total",
            "password_length",
            "tokenizer",
            "secretary",
            "keyboard",
            "session_name",
            "auth_method",
            "cookie_limit",
            "warehouse",
        ];
        for name in kept {
            assert!(!names.matches(name), "{name} should be kept");
        }
    }

    #[test]
    fn configured_names_are_normalised() {
        let names = Names::new(&["E-Mail", "Phone_Number", "pin", ""]);
        for name in ["email", "EMAIL", "e_mail", "contactEmail", "phoneNumber", "phone_number", "pin", "card_pin"] {
            assert!(names.matches(name), "{name}");
        }
        for name in ["shipping", "pinned", "phone"] {
            assert!(!names.matches(name), "{name}");
        }
        assert!(!Names::new::<&str>(&[]).matches("password"), "an empty list hides nothing");
    }
}
