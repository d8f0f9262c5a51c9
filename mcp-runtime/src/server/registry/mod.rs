//! The catalogues a server serves — tools, resources and resource templates, prompts — checked
//! when the server starts, sorted so every listing is deterministic, and each definition serialized once
//! per revision dialect (a list page is then a slice).

mod param_headers;
mod prompts;
mod resources;
mod tools;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

pub use prompts::PromptRegistry;
pub use resources::{ResourceRegistry, TemplateEntry};
pub use tools::compile;
pub(crate) use tools::valid_name;
pub use tools::{Registry, ToolEntry};

use crate::protocol::ProtocolVersion;

/// Why a set of tools, resources or prompts cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two tools share a name.
    #[error("two tools are named `{name}`: one at {first}, one at {second}; tool names must be unique in a server")]
    DuplicateTool {
        /// The shared name.
        name: Arc<str>,
        /// Where the first is defined.
        first: Arc<str>,
        /// Where the second is defined.
        second: Arc<str>,
    },
    /// A tool's name is outside the MCP rules.
    #[error("tool name `{name}` (at {location}) must be 1-128 characters of A-Z a-z 0-9 _ - .")]
    InvalidName {
        /// The name.
        name: Arc<str>,
        /// Where the tool is defined.
        location: Arc<str>,
    },
    /// A tool's input schema is not an object schema.
    #[error("the input schema of tool `{name}` must have \"type\": \"object\" at its root")]
    InputNotObject {
        /// The tool.
        name: Arc<str>,
    },
    /// A tool's input schema does not compile as JSON Schema 2020-12.
    #[error("the input schema of tool `{name}` does not compile: {reason}")]
    InvalidSchema {
        /// The tool.
        name: Arc<str>,
        /// The compiler's message.
        reason: String,
    },
    /// A tool, resource or prompt takes `State<T>` that the server does not have.
    #[error(
        "{kind} `{name}` (at {location}) takes State<{type_name}>, but the server has none: call Server::with_state"
    )]
    MissingState {
        /// `tool`, `resource` or `prompt`.
        kind: &'static str,
        /// Its name.
        name: Arc<str>,
        /// Where it is defined.
        location: Arc<str>,
        /// The state type.
        type_name: &'static str,
    },
    /// A tool made with [`Tool::builder`](crate::server::Tool::builder) is incomplete or malformed.
    #[error("tool `{name}` (at {location}): {reason}")]
    InvalidTool {
        /// The name.
        name: Arc<str>,
        /// Where it was built.
        location: Arc<str>,
        /// Every problem, `; `-separated.
        reason: String,
    },
    /// Two resources (or two templates) share a URI.
    #[error(
        "two resources have the URI `{uri}`: one at {first}, one at {second}; resource URIs must be unique in a server"
    )]
    DuplicateResource {
        /// The shared URI or URI template.
        uri: &'static str,
        /// Where the first is defined.
        first: &'static str,
        /// Where the second is defined.
        second: &'static str,
    },
    /// A resource's URI template, name or completions are wrong.
    #[error("resource `{uri}` (at {location}): {reason}")]
    InvalidResource {
        /// The URI or URI template.
        uri: &'static str,
        /// Where the resource is defined.
        location: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Two prompts share a name.
    #[error("two prompts are named `{name}`: one at {first}, one at {second}; prompt names must be unique in a server")]
    DuplicatePrompt {
        /// The shared name.
        name: &'static str,
        /// Where the first is defined.
        first: &'static str,
        /// Where the second is defined.
        second: &'static str,
    },
    /// A prompt's name, arguments or completions are wrong.
    #[error("prompt `{name}` (at {location}): {reason}")]
    InvalidPrompt {
        /// The name.
        name: &'static str,
        /// Where the prompt is defined.
        location: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Which fields of a definition a revision knows; each dialect knows all of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dialect {
    /// 2024-11-05: no titles, no tool annotations.
    Base,
    /// 2025-03-26: adds tool annotations.
    Annotated,
    /// 2025-06-18: adds `title` (tools, resources, templates, prompts and their arguments) and
    /// `outputSchema`.
    Structured,
    /// 2025-11-25 onwards: adds a tool's `execution` (`taskSupport`).
    Tasked,
}

impl Dialect {
    const ALL: [Self; 4] = [Self::Base, Self::Annotated, Self::Structured, Self::Tasked];

    fn of(version: ProtocolVersion) -> Self {
        match version {
            ProtocolVersion::V2024_11_05 => Self::Base,
            ProtocolVersion::V2025_03_26 => Self::Annotated,
            ProtocolVersion::V2025_06_18 => Self::Structured,
            _ => Self::Tasked,
        }
    }

    /// Whether definitions carry `title`.
    fn has_titles(self) -> bool {
        self >= Self::Structured
    }
}

/// Definitions serialized once per dialect, in listing order.
#[derive(Debug)]
struct Listing([Vec<Box<RawValue>>; 4]);

impl Listing {
    fn render<T>(items: &[T], definition: impl Fn(&T, Dialect) -> Box<RawValue>) -> Self {
        Self(Dialect::ALL.map(|d| items.iter().map(|item| definition(item, d)).collect()))
    }

    fn get(&self, version: ProtocolVersion) -> &[Box<RawValue>] {
        &self.0[Dialect::of(version) as usize]
    }
}

/// What every catalogue is made of: entries sorted by their key (so listings are deterministic), found by
/// key, and each entry's definition serialized once per dialect, in entry order.
#[derive(Debug)]
struct Catalog<T> {
    entries: Vec<T>,
    index: HashMap<Box<str>, usize>,
    listing: Listing,
}

impl<T> Catalog<T> {
    /// `entries` must already be sorted and free of duplicate keys.
    fn new(entries: Vec<T>, key: impl Fn(&T) -> &str, definition: impl Fn(&T, Dialect) -> Box<RawValue>) -> Self {
        let index = entries.iter().enumerate().map(|(i, e)| (key(e).into(), i)).collect();
        let listing = Listing::render(&entries, definition);
        Self { entries, index, listing }
    }

    fn get(&self, key: &str) -> Option<&T> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    fn definitions(&self, version: ProtocolVersion) -> &[Box<RawValue>] {
        self.listing.get(version)
    }
}

fn raw<T: Serialize>(definition: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(definition).expect("a definition is plain JSON")
}

/// Definitions show a title only where the revision knows one.
fn title(title: Option<&str>, dialect: Dialect) -> Option<&str> {
    title.filter(|_| dialect.has_titles())
}
