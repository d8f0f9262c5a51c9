//! The small grammars of mcp-runtime, read with the same code at compile time by `mcp-macros`
//! (`#[mcp_tool(rate = "30/min", timeout = "5s")]`, `#[mcp_resource(ttl = "10min")]`) and at start-up by the
//! runtime's configuration (`[throttling]` rates, every duration key).
//!
//! - [`Rate`]: `"30/min"`, `"5/s"`, `"100/h"`, `"1000/day"`, or a bare number of calls per minute (`"30"`, as
//!   the attribute's `rate = 30`).
//! - [`parse_duration`]: `"250ms"`, `"5s"`, `"2min"` (or `"2m"`), `"1h"`, `"1h 30min"`, or a bare number of
//!   seconds (`"5"`, as a TOML integer).
//! - [`is_header_token`]: an HTTP field name (`Region`, `Tenant-Id`), what `x-mcp-header` names.
//! - [`param_headers`]: a tool input schema's `x-mcp-header` annotations (SEP-2243), each a
//!   [`ParamHeader`], checked against every rule of the specification; read by the runtime when a tool
//!   registers and by `cargo mcp call` when it mirrors arguments into `Mcp-Param-*` headers.
//!
//! Use them through `mcp-runtime` (`mcp_runtime::server::Rate`); this crate is its part that the macros and
//! the CLI need too, and carries no other dependency than `humantime` and `serde_json`.

use std::fmt;

mod duration;
mod header;
mod rate;

pub use duration::parse_duration;
pub use header::{ParamHeader, ParamHeaderError, is_header_token, param_headers};
pub use rate::Rate;

/// A text that is not what its grammar expects; it says what was written and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    text: String,
    kind: ErrorKind,
}

/// What a text failed to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not a rate of at least one call per second, minute, hour or day.
    Rate,
    /// Not a duration.
    Duration,
    /// A duration longer than `u64::MAX` milliseconds.
    DurationTooLong,
    /// A duration that is not a whole number of milliseconds (`"1500us"`).
    DurationTooFine,
}

impl Error {
    fn new(text: &str, kind: ErrorKind) -> Self {
        Self { text: text.to_owned(), kind }
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the text failed to be.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What the grammar expects instead, to follow a message that names the text its own way (as the
    /// macros do: ``"`rate = \"x\"` is not a rate: " + expected``).
    pub fn expected(&self) -> &'static str {
        match self.kind {
            ErrorKind::Rate => "write \"30/min\", \"5/s\", \"100/h\" or \"1000/day\"",
            ErrorKind::Duration => "write \"500ms\", \"5s\", \"2min\" or \"1h\" (a bare number is seconds)",
            ErrorKind::DurationTooLong => "durations are at most u64::MAX milliseconds",
            ErrorKind::DurationTooFine => "durations are whole milliseconds, like \"250ms\"",
        }
    }

    /// What is wrong, without the text: `is not a rate`.
    pub fn problem(&self) -> &'static str {
        match self.kind {
            ErrorKind::Rate => "is not a rate",
            ErrorKind::Duration => "is not a duration",
            ErrorKind::DurationTooLong => "is too long a duration",
            ErrorKind::DurationTooFine => "is finer than a millisecond",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}: {}", self.text, self.problem(), self.expected())
    }
}

impl std::error::Error for Error {}
