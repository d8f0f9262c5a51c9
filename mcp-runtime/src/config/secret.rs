//! Secrets by reference: `${env:NAME}` or `${file:PATH}`, resolved at start-up, never printed.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a secret comes from. Configuration names secrets only by reference; an inline literal is refused
/// at start-up (accepted with a warning under `--dev`).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `${env:NAME}`: an environment variable.
    Env(String),
    /// `${file:PATH}`: a file's contents, trailing newline trimmed (Kubernetes and Docker secrets).
    File(PathBuf),
    /// A literal written into the configuration. Refused unless in `--dev`.
    Inline(String),
}

/// A resolved secret value. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the code that must use it (comparing a key, signing a token).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A secret reference that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// `${env:NAME}` names an unset (or non-UTF-8) variable.
    #[error("secret ${{env:{0}}}: the environment variable is not set")]
    MissingEnv(String),
    /// `${file:PATH}` could not be read.
    #[error("secret ${{file:{path}}}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
    /// An inline literal outside `--dev`.
    #[error("an inline secret is refused: write ${{env:NAME}} or ${{file:PATH}} instead (or run with --dev)")]
    Inline,
    /// `${...}` with an unknown scheme.
    #[error("`{0}` is not a secret reference: use ${{env:NAME}} or ${{file:PATH}}")]
    Malformed(String),
}

impl SecretRef {
    /// Parses `${env:NAME}`, `${file:PATH}`, or takes any other text as an inline literal.
    ///
    /// # Errors
    /// Text that starts like a reference but names no known scheme.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
            return Ok(Self::Inline(text.to_owned()));
        };
        match inner.split_once(':') {
            Some(("env", name)) if !name.is_empty() => Ok(Self::Env(name.to_owned())),
            Some(("file", path)) if !path.is_empty() => Ok(Self::File(PathBuf::from(path))),
            _ => Err(SecretError::Malformed(text.to_owned())),
        }
    }

    /// Reads the secret.
    ///
    /// # Errors
    /// An unset variable, an unreadable file, or an inline literal when `allow_inline` is false.
    pub fn resolve(&self, allow_inline: bool) -> Result<Secret, SecretError> {
        match self {
            Self::Env(name) => std::env::var(name).map(Secret).map_err(|_| SecretError::MissingEnv(name.clone())),
            Self::File(path) => std::fs::read_to_string(path)
                .map(|s| Secret(s.trim_end_matches(['\n', '\r']).to_owned()))
                .map_err(|e| SecretError::File { path: path.clone(), reason: e.to_string() }),
            Self::Inline(value) if allow_inline => Ok(Secret(value.clone())),
            Self::Inline(_) => Err(SecretError::Inline),
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "${{env:{name}}}"),
            Self::File(path) => write!(f, "${{file:{}}}", path.display()),
            Self::Inline(_) => f.write_str("***"),
        }
    }
}

/// Serializes as the reference (an inline literal as `***`): what `--print-config` shows.
impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_mask() {
        assert_eq!(SecretRef::parse("${env:API_KEYS}"), Ok(SecretRef::Env("API_KEYS".into())));
        assert_eq!(SecretRef::parse("${file:/run/secrets/k}"), Ok(SecretRef::File("/run/secrets/k".into())));
        assert!(matches!(SecretRef::parse("${vault:x}"), Err(SecretError::Malformed(_))));
        let inline = SecretRef::parse("hunter2").unwrap();
        assert_eq!(inline.to_string(), "***");
        assert_eq!(inline.resolve(false), Err(SecretError::Inline));
        assert_eq!(inline.resolve(true).unwrap().expose(), "hunter2");
        assert_eq!(format!("{:?}", inline.resolve(true).unwrap()), "Secret(***)");
    }

    #[test]
    fn files_resolve_without_the_trailing_newline() {
        let dir = std::env::temp_dir().join(format!("mcp-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(SecretRef::File(path.clone()).resolve(false).unwrap().expose(), "s3cret");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(SecretRef::File(path).resolve(false), Err(SecretError::File { .. })));
        assert!(matches!(
            SecretRef::Env("MCP_TEST_SURELY_UNSET_VARIABLE".into()).resolve(false),
            Err(SecretError::MissingEnv(_))
        ));
    }
}
