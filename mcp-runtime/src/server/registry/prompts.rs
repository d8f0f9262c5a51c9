//! The frozen set of prompts a server serves.

use serde::Serialize;
use serde_json::value::RawValue;

use super::{Catalog, Dialect, RegistryError};
use crate::protocol::ProtocolVersion;
use crate::server::prompt::PromptSpec;

/// The prompts of a server, sorted by name.
#[derive(Debug)]
pub struct PromptRegistry {
    prompts: Catalog<PromptSpec>,
}

impl PromptRegistry {
    /// Checks and renders the prompts.
    ///
    /// # Errors
    /// Duplicate names, empty names, arguments declared twice, and completions of unknown arguments.
    pub fn new(specs: impl IntoIterator<Item = PromptSpec>) -> Result<Self, RegistryError> {
        let mut prompts: Vec<PromptSpec> = specs.into_iter().collect();
        prompts.sort_by(|a, b| a.name.cmp(b.name).then(a.location.cmp(b.location)));
        for pair in prompts.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(RegistryError::DuplicatePrompt {
                    name: pair[0].name,
                    first: pair[0].location,
                    second: pair[1].location,
                });
            }
        }
        for spec in &prompts {
            let invalid =
                |reason: String| RegistryError::InvalidPrompt { name: spec.name, location: spec.location, reason };
            if spec.name.is_empty() {
                return Err(invalid("the name cannot be empty".to_owned()));
            }
            for (i, argument) in spec.arguments.iter().enumerate() {
                if spec.arguments[..i].iter().any(|a| a.name == argument.name) {
                    return Err(invalid(format!("argument `{}` is declared twice", argument.name)));
                }
            }
            for completer in spec.completions {
                if !spec.arguments.iter().any(|a| a.name == completer.argument) {
                    return Err(invalid(format!("completes `{}`, which is not an argument", completer.argument)));
                }
            }
        }
        Ok(Self { prompts: Catalog::new(prompts, |p| p.name, definition) })
    }

    /// The prompt with this name.
    pub fn get(&self, name: &str) -> Option<&PromptSpec> {
        self.prompts.get(name)
    }

    /// Every prompt, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &PromptSpec> {
        self.prompts.entries.iter()
    }

    /// How many prompts there are.
    pub fn len(&self) -> usize {
        self.prompts.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.prompts.entries.is_empty()
    }

    /// Whether some argument has a completion function.
    pub fn has_completions(&self) -> bool {
        self.prompts.entries.iter().any(|p| !p.completions.is_empty())
    }

    /// Every `prompts/list` definition as `version` knows it.
    pub(crate) fn definitions(&self, version: ProtocolVersion) -> &[Box<RawValue>] {
        self.prompts.definitions(version)
    }
}

fn definition(spec: &PromptSpec, dialect: Dialect) -> Box<RawValue> {
    #[derive(Serialize)]
    struct Argument<'a> {
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
        required: bool,
    }
    #[derive(Serialize)]
    struct Definition<'a> {
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        arguments: Vec<Argument<'a>>,
    }
    let arguments = spec
        .arguments
        .iter()
        .map(|a| Argument {
            name: a.name,
            title: super::title(a.title, dialect),
            description: a.description,
            required: a.required,
        })
        .collect();
    super::raw(&Definition {
        name: spec.name,
        title: super::title(spec.title, dialect),
        description: spec.description,
        arguments,
    })
}
