//! MCP protocol revisions and their negotiation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A published MCP protocol revision.
///
/// Revisions up to 2025-11-25 open with an `initialize` handshake; 2026-07-28 is stateless: every request
/// carries its revision and the client's capabilities in `_meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05: the first revision (HTTP+SSE transport).
    V2024_11_05,
    /// 2025-03-26: Streamable HTTP, OAuth, JSON-RPC batches.
    V2025_03_26,
    /// 2025-06-18: structured tool output, elicitation; batches removed.
    V2025_06_18,
    /// 2025-11-25: tasks, icons, URL elicitation, JSON Schema 2020-12 by default.
    V2025_11_25,
    /// 2026-07-28: stateless requests, `server/discover`, `resultType` on results.
    V2026_07_28,
}

/// A revision string this runtime does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported MCP protocol version {0:?} (supported: {supported})", supported = ProtocolVersion::SUPPORTED_LIST)]
pub struct UnsupportedVersion(pub String);

impl ProtocolVersion {
    /// Every revision, oldest first.
    pub const ALL: [Self; 5] =
        [Self::V2024_11_05, Self::V2025_03_26, Self::V2025_06_18, Self::V2025_11_25, Self::V2026_07_28];
    /// The newest revision.
    pub const LATEST: Self = Self::V2026_07_28;
    /// The newest revision that opens with an `initialize` handshake.
    pub const LATEST_HANDSHAKE: Self = Self::V2025_11_25;
    const SUPPORTED_LIST: &'static str = "2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28";

    /// The revision's date string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Whether the revision is stateless (no `initialize`, per-request `_meta`).
    pub const fn is_stateless(self) -> bool {
        matches!(self, Self::V2026_07_28)
    }

    /// Whether JSON-RPC batches are allowed (they were dropped in 2025-06-18).
    pub const fn allows_batches(self) -> bool {
        matches!(self, Self::V2024_11_05 | Self::V2025_03_26)
    }

    /// Whether tools may declare `outputSchema` and return `structuredContent` (2025-06-18 onwards).
    pub const fn has_structured_output(self) -> bool {
        matches!(self, Self::V2025_06_18 | Self::V2025_11_25 | Self::V2026_07_28)
    }

    /// Whether tool results and tool definitions may carry `title` (2025-06-18 onwards).
    pub const fn has_titles(self) -> bool {
        self.has_structured_output()
    }

    /// The handshake answer to a client that asked for `requested` in `initialize`: the same revision when
    /// this runtime speaks it and it uses a handshake, otherwise the newest handshake revision (the
    /// client then decides whether it can go on).
    pub fn negotiate(requested: &str) -> Self {
        match requested.parse::<Self>() {
            Ok(v) if !v.is_stateless() => v,
            _ => Self::LATEST_HANDSHAKE,
        }
    }

    /// The supported revision strings, newest first (for error data and `server/discover`).
    pub fn supported_strings() -> Vec<&'static str> {
        Self::ALL.iter().rev().map(|v| v.as_str()).collect()
    }
}

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnsupportedVersion(s.to_owned()))
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_revision_round_trips() {
        for v in ProtocolVersion::ALL {
            assert_eq!(v.as_str().parse::<ProtocolVersion>(), Ok(v));
        }
        assert!("2025-01-01".parse::<ProtocolVersion>().is_err());
    }

    #[test]
    fn negotiation_echoes_known_handshake_revisions_and_falls_back_to_the_newest() {
        assert_eq!(ProtocolVersion::negotiate("2024-11-05"), ProtocolVersion::V2024_11_05);
        assert_eq!(ProtocolVersion::negotiate("2025-06-18"), ProtocolVersion::V2025_06_18);
        assert_eq!(ProtocolVersion::negotiate("1999-01-01"), ProtocolVersion::V2025_11_25);
        assert_eq!(ProtocolVersion::negotiate("2026-07-28"), ProtocolVersion::V2025_11_25);
    }

    #[test]
    fn batches_only_before_2025_06_18() {
        let allowed: Vec<_> = ProtocolVersion::ALL.into_iter().filter(|v| v.allows_batches()).collect();
        assert_eq!(allowed, [ProtocolVersion::V2024_11_05, ProtocolVersion::V2025_03_26]);
    }
}
