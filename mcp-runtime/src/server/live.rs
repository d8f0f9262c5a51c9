//! What a server serves, live: the tools, resources, resource templates and prompts it holds, which of them
//! are served, and the snapshot every request reads ([`Catalogs`]).
//!
//! Changes come through a [`ServerHandle`](super::ServerHandle): each one is checked as the start checks
//! (names, schemas, duplicates, `State<T>`), applied under one lock so that snapshots follow one another in
//! the order of the changes, swapped in atomically (a request in flight keeps the snapshot it started with),
//! and published on the bus as one level-triggered [`Change`] for those who may see what changed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;

use super::inject::StateRequirement;
use super::prompt::PromptSpec;
use super::registry::{PromptRegistry, Registry, RegistryError, ResourceRegistry, ToolEntry};
use super::resource::ResourceSpec;
use super::start::StartError;
use super::state::StateMap;
use super::tool::Tool;
use crate::request::{Audience, Bus, Change};

/// One snapshot of what a server serves: the enabled tools, resources, templates and prompts, each
/// catalogue sorted and rendered. A request reads one snapshot from its start to its answer.
#[derive(Debug)]
pub struct Catalogs {
    tools: Arc<Registry>,
    resources: Arc<ResourceRegistry>,
    prompts: Arc<PromptRegistry>,
}

impl Catalogs {
    /// The tools served.
    pub fn tools(&self) -> &Registry {
        &self.tools
    }

    /// The resources and resource templates served.
    pub fn resources(&self) -> &ResourceRegistry {
        &self.resources
    }

    /// The prompts served.
    pub fn prompts(&self) -> &PromptRegistry {
        &self.prompts
    }

    fn empty() -> Self {
        Self {
            tools: Arc::new(Registry::new(Vec::<Tool>::new()).expect("no tools, no conflict")),
            resources: Arc::new(ResourceRegistry::new([]).expect("no resources, no conflict")),
            prompts: Arc::new(PromptRegistry::new([]).expect("no prompts, no conflict")),
        }
    }
}

/// An entry and whether the application serves it (`enable_*` / `disable_*`).
#[derive(Debug, Clone)]
struct Held<T> {
    item: T,
    enabled: bool,
}

/// Everything the server holds, served or not.
#[derive(Debug, Default)]
struct Held3 {
    tools: BTreeMap<Arc<str>, Held<ToolEntry>>,
    /// By URI, or URI template as written.
    resources: BTreeMap<&'static str, Held<ResourceSpec>>,
    prompts: BTreeMap<&'static str, Held<PromptSpec>>,
    /// `[tools] disabled`: not served whatever the application says.
    config_disabled: BTreeSet<String>,
    /// The server's state, once it started: what later additions' `State<T>` are checked against.
    state: Option<StateMap>,
}

impl Held3 {
    fn served_tool(&self, held: &Held<ToolEntry>) -> bool {
        held.enabled && !self.config_disabled.contains(held.item.tool.name())
    }
}

/// The live catalogues of one server and its event bus.
#[derive(Debug)]
pub(crate) struct Live {
    held: Mutex<Held3>,
    current: ArcSwap<Catalogs>,
    bus: Bus,
}

/// The kinds of entry, for messages and state checks.
const TOOL: &str = "tool";
const RESOURCE: &str = "resource";
const PROMPT: &str = "prompt";

impl Default for Live {
    fn default() -> Self {
        Self { held: Mutex::default(), current: ArcSwap::from_pointee(Catalogs::empty()), bus: Bus::default() }
    }
}

impl Live {
    fn held(&self) -> MutexGuard<'_, Held3> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current snapshot.
    pub(crate) fn catalogs(&self) -> Arc<Catalogs> {
        self.current.load_full()
    }

    /// The current snapshot, for a look that does not cross an `.await` (no reference count touched).
    pub(crate) fn glance(&self) -> arc_swap::Guard<Arc<Catalogs>> {
        self.current.load()
    }

    pub(crate) fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Takes in what the builder collected, checks everything held (duplicates across the builder's and the
    /// handle's entries, `State<T>` against `state`), applies `[tools] disabled` and publishes the first
    /// snapshot. Returns whether anything is held at all.
    pub(crate) fn start(
        &self,
        tools: Vec<Tool>,
        resources: Vec<ResourceSpec>,
        prompts: Vec<PromptSpec>,
        state: &StateMap,
        disabled: &[String],
    ) -> Result<bool, StartError> {
        let mut held = self.held();
        let mut entries: Vec<ToolEntry> = held.tools.values().map(|h| h.item.clone()).collect();
        for tool in tools {
            entries.push(ToolEntry::render(tool)?);
        }
        // The registries' own checks, over everything at once: deterministic messages for duplicates.
        let all_tools = Registry::of_entries(entries)?;
        let resource_specs: Vec<ResourceSpec> = held.resources.values().map(|h| h.item).chain(resources).collect();
        ResourceRegistry::new(resource_specs.iter().copied())?;
        let prompt_specs: Vec<PromptSpec> = held.prompts.values().map(|h| h.item).chain(prompts).collect();
        PromptRegistry::new(prompt_specs.iter().copied())?;
        for entry in all_tools.iter() {
            let tool = &entry.tool;
            check_state(state, TOOL, tool.name(), tool.location(), tool.state())?;
        }
        for spec in &resource_specs {
            check_state(state, RESOURCE, spec.name, spec.location, spec.state)?;
        }
        for spec in &prompt_specs {
            check_state(state, PROMPT, spec.name, spec.location, spec.state)?;
        }
        let keep = |enabled: Option<bool>| enabled.unwrap_or(true);
        let tools: BTreeMap<_, _> = all_tools
            .iter()
            .map(|entry| {
                let enabled = keep(held.tools.get(entry.tool.name()).map(|h| h.enabled));
                (Arc::clone(entry.tool.shared_name()), Held { item: entry.clone(), enabled })
            })
            .collect();
        let resources: BTreeMap<_, _> = resource_specs
            .into_iter()
            .map(|spec| (spec.uri, Held { item: spec, enabled: keep(held.resources.get(spec.uri).map(|h| h.enabled)) }))
            .collect();
        let prompts: BTreeMap<_, _> = prompt_specs
            .into_iter()
            .map(|spec| (spec.name, Held { item: spec, enabled: keep(held.prompts.get(spec.name).map(|h| h.enabled)) }))
            .collect();
        let anything = !(tools.is_empty() && resources.is_empty() && prompts.is_empty());
        held.tools = tools;
        held.resources = resources;
        held.prompts = prompts;
        held.config_disabled = disabled.iter().cloned().collect();
        held.state = Some(state.clone());
        let catalogs = Catalogs {
            tools: Arc::new(tool_registry(&held)),
            resources: Arc::new(resource_registry(&held)),
            prompts: Arc::new(prompt_registry(&held)),
        };
        self.current.store(Arc::new(catalogs));
        Ok(anything)
    }

    /// Everything held, served or not: what the capabilities are decided from at start.
    pub(crate) fn held_kinds(&self) -> (bool, bool, bool) {
        let held = self.held();
        (!held.tools.is_empty(), !held.resources.is_empty(), !held.prompts.is_empty())
    }

    // ---- tools ----

    pub(crate) fn add_tool(&self, tool: Tool) -> Result<(), RegistryError> {
        let entry = ToolEntry::render(tool)?;
        let mut held = self.held();
        if let Some(existing) = held.tools.get(entry.tool.name()) {
            return Err(RegistryError::DuplicateTool {
                name: Arc::clone(entry.tool.shared_name()),
                first: existing.item.tool.location().into(),
                second: entry.tool.location().into(),
            });
        }
        let tool = &entry.tool;
        check_added(held.state.as_ref(), TOOL, tool.name(), tool.location(), tool.state())?;
        let audience = tool_audience([&entry.tool]);
        let name = Arc::clone(entry.tool.shared_name());
        let held_entry = Held { item: entry, enabled: true };
        let served = held.served_tool(&held_entry);
        held.tools.insert(name, held_entry);
        if served {
            self.publish_tools(&held, &audience);
        }
        Ok(())
    }

    pub(crate) fn remove_tool(&self, name: &str) -> bool {
        let mut held = self.held();
        let Some(removed) = held.tools.remove(name) else { return false };
        if held.served_tool(&removed) {
            self.publish_tools(&held, &tool_audience([&removed.item.tool]));
        }
        true
    }

    pub(crate) fn set_tool_enabled(&self, name: &str, enabled: bool) -> bool {
        let mut held = self.held();
        let Some(entry) = held.tools.get_mut(name) else { return false };
        if entry.enabled == enabled {
            return false;
        }
        entry.enabled = enabled;
        let tool = entry.item.tool.clone();
        if !held.config_disabled.contains(name) {
            self.publish_tools(&held, &tool_audience([&tool]));
        }
        true
    }

    /// Replaces `[tools] disabled`; returns the names that are no tool of this server.
    pub(crate) fn set_config_disabled(&self, names: &[String]) -> Vec<String> {
        let mut held = self.held();
        let next: BTreeSet<String> = names.iter().cloned().collect();
        let unknown = next.iter().filter(|n| !held.tools.contains_key(n.as_str())).cloned().collect();
        let changed: Vec<Tool> = held
            .tools
            .values()
            .filter(|h| h.enabled)
            .filter(|h| held.config_disabled.contains(h.item.tool.name()) != next.contains(h.item.tool.name()))
            .map(|h| h.item.tool.clone())
            .collect();
        held.config_disabled = next;
        if !changed.is_empty() {
            self.publish_tools(&held, &tool_audience(changed.iter()));
        }
        unknown
    }

    /// The names of the tools served, sorted.
    pub(crate) fn tool_names(&self) -> Vec<String> {
        self.catalogs().tools().iter().map(|t| t.tool.name().to_owned()).collect()
    }

    fn publish_tools(&self, held: &Held3, audience: &Audience) {
        let current = self.current.load();
        let next = Catalogs {
            tools: Arc::new(tool_registry(held)),
            resources: Arc::clone(&current.resources),
            prompts: Arc::clone(&current.prompts),
        };
        self.current.store(Arc::new(next));
        self.bus.publish(&Change::Tools, audience);
    }

    // ---- resources ----

    pub(crate) fn add_resource(&self, spec: ResourceSpec) -> Result<(), RegistryError> {
        let mut held = self.held();
        // The registry's checks (URI template syntax, completions, duplicates) over the set it would make.
        ResourceRegistry::new(held.resources.values().map(|h| h.item).chain([spec]))?;
        check_added(held.state.as_ref(), RESOURCE, spec.name, spec.location, spec.state)?;
        held.resources.insert(spec.uri, Held { item: spec, enabled: true });
        self.publish_resources(&held, &scoped(spec.scopes));
        Ok(())
    }

    pub(crate) fn remove_resource(&self, uri: &str) -> bool {
        let mut held = self.held();
        let Some(removed) = held.resources.remove(uri) else { return false };
        if removed.enabled {
            self.publish_resources(&held, &scoped(removed.item.scopes));
        }
        true
    }

    pub(crate) fn set_resource_enabled(&self, uri: &str, enabled: bool) -> bool {
        let mut held = self.held();
        let Some(entry) = held.resources.get_mut(uri) else { return false };
        if entry.enabled == enabled {
            return false;
        }
        entry.enabled = enabled;
        let scopes = entry.item.scopes;
        self.publish_resources(&held, &scoped(scopes));
        true
    }

    fn publish_resources(&self, held: &Held3, audience: &Audience) {
        let current = self.current.load();
        let next = Catalogs {
            tools: Arc::clone(&current.tools),
            resources: Arc::new(resource_registry(held)),
            prompts: Arc::clone(&current.prompts),
        };
        self.current.store(Arc::new(next));
        self.bus.publish(&Change::Resources, audience);
    }

    /// Tells subscribers of `uri` that it changed. Only those who may read it hear of it.
    pub(crate) fn resource_updated(&self, uri: &str) {
        let catalogs = self.catalogs();
        let audience = catalogs.resources().resolve(uri).map_or(Audience::Everyone, |r| scoped(r.spec.scopes));
        self.bus.publish(&Change::ResourceUpdated(Arc::from(uri)), &audience);
    }

    // ---- prompts ----

    pub(crate) fn add_prompt(&self, spec: PromptSpec) -> Result<(), RegistryError> {
        let mut held = self.held();
        PromptRegistry::new(held.prompts.values().map(|h| h.item).chain([spec]))?;
        check_added(held.state.as_ref(), PROMPT, spec.name, spec.location, spec.state)?;
        held.prompts.insert(spec.name, Held { item: spec, enabled: true });
        self.publish_prompts(&held, &scoped(spec.scopes));
        Ok(())
    }

    pub(crate) fn remove_prompt(&self, name: &str) -> bool {
        let mut held = self.held();
        let Some(removed) = held.prompts.remove(name) else { return false };
        if removed.enabled {
            self.publish_prompts(&held, &scoped(removed.item.scopes));
        }
        true
    }

    pub(crate) fn set_prompt_enabled(&self, name: &str, enabled: bool) -> bool {
        let mut held = self.held();
        let Some(entry) = held.prompts.get_mut(name) else { return false };
        if entry.enabled == enabled {
            return false;
        }
        entry.enabled = enabled;
        let scopes = entry.item.scopes;
        self.publish_prompts(&held, &scoped(scopes));
        true
    }

    fn publish_prompts(&self, held: &Held3, audience: &Audience) {
        let current = self.current.load();
        let next = Catalogs {
            tools: Arc::clone(&current.tools),
            resources: Arc::clone(&current.resources),
            prompts: Arc::new(prompt_registry(held)),
        };
        self.current.store(Arc::new(next));
        self.bus.publish(&Change::Prompts, audience);
    }
}

/// The served tools' registry: entries already checked, so building it cannot fail.
fn tool_registry(held: &Held3) -> Registry {
    let served = held.tools.values().filter(|h| held.served_tool(h)).map(|h| h.item.clone()).collect();
    Registry::of_entries(served).expect("held tools have unique names")
}

fn resource_registry(held: &Held3) -> ResourceRegistry {
    ResourceRegistry::new(held.resources.values().filter(|h| h.enabled).map(|h| h.item))
        .expect("held resources were checked when added")
}

fn prompt_registry(held: &Held3) -> PromptRegistry {
    PromptRegistry::new(held.prompts.values().filter(|h| h.enabled).map(|h| h.item))
        .expect("held prompts were checked when added")
}

/// Who may hear that these tools changed: whoever holds the scopes of one of them.
fn tool_audience<'a>(tools: impl IntoIterator<Item = &'a Tool>) -> Audience {
    Audience::Scoped(tools.into_iter().map(|t| Arc::from(t.scopes())).collect())
}

fn scoped(scopes: &[&str]) -> Audience {
    Audience::Scoped(vec![scopes.iter().map(|s| Arc::from(*s)).collect()])
}

/// The type name of the first `State<T>` in `needs` that `state` lacks.
fn missing(state: &StateMap, needs: &[StateRequirement]) -> Option<&'static str> {
    needs.iter().find(|req| !state.contains((req.type_id)())).map(|req| (req.type_name)())
}

fn check_state(
    state: &StateMap,
    kind: &'static str,
    name: &str,
    location: &str,
    needs: &[StateRequirement],
) -> Result<(), StartError> {
    match missing(state, needs) {
        Some(type_name) => {
            Err(StartError::MissingState { kind, name: name.into(), location: location.into(), type_name })
        }
        None => Ok(()),
    }
}

/// A missing `State<T>` of an entry added at run time.
fn check_added(
    state: Option<&StateMap>,
    kind: &'static str,
    name: &str,
    location: &str,
    needs: &[StateRequirement],
) -> Result<(), RegistryError> {
    match state.and_then(|state| missing(state, needs)) {
        Some(type_name) => {
            Err(RegistryError::MissingState { kind, name: name.into(), location: location.into(), type_name })
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
