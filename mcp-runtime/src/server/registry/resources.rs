//! The frozen set of resources and resource templates a server serves, and which one a URI names.

use serde::Serialize;
use serde_json::value::RawValue;

use super::{Catalog, Dialect, Listing, RegistryError};
use crate::protocol::ProtocolVersion;
use crate::server::resource::ResourceSpec;
use crate::server::uri_template::UriTemplate;

/// One registered resource template with its template parsed.
#[derive(Debug)]
pub struct TemplateEntry {
    /// What `#[mcp_resource]` generated.
    pub spec: ResourceSpec,
    /// `spec.uri`, parsed.
    pub template: UriTemplate,
}

/// The resources of a server: direct resources sorted by URI, templates sorted by URI template.
#[derive(Debug)]
pub struct ResourceRegistry {
    direct: Catalog<ResourceSpec>,
    templates: Vec<TemplateEntry>,
    /// Indices into `templates`, most literal characters first: a URI two templates match goes to the
    /// more specific one (`files/{id}/meta` before `files/{path}`).
    match_order: Vec<usize>,
    template_listing: Listing,
}

/// A URI resolved to the resource that serves it.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    pub(crate) spec: &'a ResourceSpec,
    /// The template variables' values (none for a direct resource).
    pub(crate) variables: Vec<(String, String)>,
}

impl ResourceRegistry {
    /// Checks and renders the resources.
    ///
    /// # Errors
    /// Duplicate URIs, malformed URI templates, empty names, and completions of unknown variables.
    pub fn new(specs: impl IntoIterator<Item = ResourceSpec>) -> Result<Self, RegistryError> {
        let mut specs: Vec<ResourceSpec> = specs.into_iter().collect();
        specs.sort_by(|a, b| a.uri.cmp(b.uri).then(a.location.cmp(b.location)));
        for pair in specs.windows(2) {
            if pair[0].uri == pair[1].uri {
                return Err(RegistryError::DuplicateResource {
                    uri: pair[0].uri,
                    first: pair[0].location,
                    second: pair[1].location,
                });
            }
        }
        let (mut direct, mut templates) = (Vec::new(), Vec::new());
        for spec in specs {
            let invalid =
                |reason: String| RegistryError::InvalidResource { uri: spec.uri, location: spec.location, reason };
            if spec.name.is_empty() {
                return Err(invalid("the name cannot be empty".to_owned()));
            }
            let template = UriTemplate::parse(spec.uri).map_err(|e| invalid(e.to_string()))?;
            for completer in spec.completions {
                if !template.variables().any(|v| v == completer.argument) {
                    return Err(invalid(format!(
                        "completes `{}`, which is not a variable of the URI",
                        completer.argument
                    )));
                }
            }
            if template.is_template() {
                templates.push(TemplateEntry { spec, template });
            } else {
                direct.push(spec);
            }
        }
        let mut match_order: Vec<usize> = (0..templates.len()).collect();
        match_order.sort_by_key(|&i| std::cmp::Reverse(templates[i].template.literal_len()));
        let direct = Catalog::new(direct, |s| s.uri, |spec, d| definition(spec, None, d));
        let template_listing = Listing::render(&templates, |t, d| definition(&t.spec, Some(t.template.as_str()), d));
        Ok(Self { direct, templates, match_order, template_listing })
    }

    /// The direct resource with this URI.
    pub fn get(&self, uri: &str) -> Option<&ResourceSpec> {
        self.direct.get(uri)
    }

    /// The template written exactly so (what `completion/complete` refers to).
    pub fn template(&self, uri_template: &str) -> Option<&TemplateEntry> {
        self.templates.iter().find(|t| t.template.as_str() == uri_template)
    }

    /// Every direct resource, sorted by URI.
    pub fn resources(&self) -> &[ResourceSpec] {
        &self.direct.entries
    }

    /// Every template, sorted by URI template.
    pub fn templates(&self) -> &[TemplateEntry] {
        &self.templates
    }

    /// Whether there are neither resources nor templates.
    pub fn is_empty(&self) -> bool {
        self.direct.entries.is_empty() && self.templates.is_empty()
    }

    /// Whether some template variable has a completion function.
    pub fn has_completions(&self) -> bool {
        self.templates.iter().any(|t| !t.spec.completions.is_empty())
    }

    /// What serves `uri`: the direct resource with that URI, else the most specific template matching it.
    pub(crate) fn resolve(&self, uri: &str) -> Option<Resolved<'_>> {
        if let Some(spec) = self.get(uri) {
            return Some(Resolved { spec, variables: Vec::new() });
        }
        self.match_order
            .iter()
            .map(|&i| &self.templates[i])
            .find_map(|t| t.template.matches(uri).map(|variables| Resolved { spec: &t.spec, variables }))
    }

    /// Every `resources/list` definition as `version` knows it.
    pub(crate) fn resource_definitions(&self, version: ProtocolVersion) -> &[Box<RawValue>] {
        self.direct.definitions(version)
    }

    /// Every `resources/templates/list` definition as `version` knows it.
    pub(crate) fn template_definitions(&self, version: ProtocolVersion) -> &[Box<RawValue>] {
        self.template_listing.get(version)
    }
}

/// A `Resource` (no `uri_template`) or `ResourceTemplate` definition.
fn definition(spec: &ResourceSpec, uri_template: Option<&str>, dialect: Dialect) -> Box<RawValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Definition<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        uri: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        uri_template: Option<&'a str>,
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<&'a str>,
    }
    super::raw(&Definition {
        uri: if uri_template.is_none() { Some(spec.uri) } else { None },
        uri_template,
        name: spec.name,
        title: super::title(spec.title, dialect),
        description: spec.description,
        mime_type: spec.mime_type,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::server::resource::{ResourceFuture, ResourceInvocation};

    fn spec(uri: &'static str, location: &'static str) -> ResourceSpec {
        fn handler(_: ResourceInvocation) -> ResourceFuture {
            Box::pin(async { Ok(Ok(Vec::new())) })
        }
        ResourceSpec {
            uri,
            name: "r",
            title: Some("R"),
            description: None,
            mime_type: Some("text/plain"),
            ttl: Duration::ZERO,
            scopes: &[],
            completions: &[],
            state: &[],
            handler,
            location,
        }
    }

    #[test]
    fn direct_uris_win_then_the_most_specific_template() {
        let r = ResourceRegistry::new([
            spec("files://{+path}", "a"),
            spec("files://{id}/meta", "b"),
            spec("files://readme/meta", "c"),
        ])
        .unwrap();
        assert_eq!(r.resolve("files://readme/meta").unwrap().spec.location, "c");
        let meta = r.resolve("files://7/meta").unwrap();
        assert_eq!((meta.spec.location, meta.variables.clone()), ("b", vec![("id".to_owned(), "7".to_owned())]));
        assert_eq!(r.resolve("files://a/b").unwrap().spec.location, "a");
        assert!(r.resolve("other://x").is_none());
    }

    #[test]
    fn listings_are_split_sorted_and_titled_per_revision() {
        let r = ResourceRegistry::new([spec("b://x", "1"), spec("a://x", "2"), spec("t://{id}", "3")]).unwrap();
        let list = |v| -> Vec<Value> {
            r.resource_definitions(v).iter().map(|d| serde_json::from_str(d.get()).unwrap()).collect()
        };
        assert_eq!(
            list(ProtocolVersion::V2025_06_18)[0],
            json!({"uri": "a://x", "name": "r", "title": "R", "mimeType": "text/plain"})
        );
        assert!(list(ProtocolVersion::V2025_03_26)[0].get("title").is_none());
        let t: Value = serde_json::from_str(r.template_definitions(ProtocolVersion::V2025_11_25)[0].get()).unwrap();
        assert_eq!(t["uriTemplate"], "t://{id}");
        assert!(t.get("uri").is_none());
    }

    #[test]
    fn duplicates_and_bad_templates_are_refused() {
        let e = ResourceRegistry::new([spec("a://x", "here"), spec("a://x", "there")]).unwrap_err();
        assert!(e.to_string().contains("here") && e.to_string().contains("there"), "{e}");
        let e = ResourceRegistry::new([spec("a://{x}{y}", "here")]).unwrap_err();
        assert!(matches!(e, RegistryError::InvalidResource { .. }), "{e}");
    }
}
