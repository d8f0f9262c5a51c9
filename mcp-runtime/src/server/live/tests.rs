use std::sync::Arc;

use serde_json::json;

use super::Live;
use crate::request::{AuthMethod, Filter, Pending, Principal};
use crate::server::state::StateMap;
use crate::server::{Context, RegistryError, Tool};

fn tool(name: &str, scopes: &[&str]) -> Tool {
    Tool::builder(name)
        .scopes(scopes.iter().copied())
        .handler(|_, _: Context| async { "ok" })
        .build()
        .expect("a valid tool")
}

fn started(tools: Vec<Tool>) -> Live {
    let live = Live::default();
    assert!(live.start(tools, Vec::new(), Vec::new(), &StateMap::default(), &[]).unwrap());
    live
}

fn names(live: &Live) -> Vec<String> {
    live.tool_names()
}

fn tools_only() -> Filter {
    Filter { tools: true, ..Filter::default() }
}

#[tokio::test]
async fn changes_swap_the_snapshot_and_are_announced() {
    let live = started(vec![tool("a", &[])]);
    let listener = live.bus().listen(Arc::new(Principal::anonymous()), "x", tools_only()).unwrap();
    let before = live.catalogs();
    live.add_tool(tool("b", &[])).unwrap();
    assert_eq!(names(&live), ["a", "b"]);
    assert_eq!(before.tools().len(), 1, "a request in flight keeps the set it started with");
    assert_eq!(listener.next().await, Some(Pending { tools: true, ..Pending::default() }));

    assert!(live.set_tool_enabled("a", false));
    assert!(!live.set_tool_enabled("a", false), "no change, no event");
    assert_eq!(names(&live), ["b"]);
    assert!(live.set_tool_enabled("a", true));
    assert!(live.remove_tool("b"));
    assert!(!live.remove_tool("b"));
    assert_eq!(names(&live), ["a"]);
    assert_eq!(listener.next().await, Some(Pending { tools: true, ..Pending::default() }), "coalesced");
}

#[test]
fn additions_are_checked_like_the_start() {
    let live = started(vec![tool("a", &[])]);
    let duplicate = live.add_tool(tool("a", &[])).unwrap_err();
    assert!(matches!(duplicate, RegistryError::DuplicateTool { .. }), "{duplicate}");
    let bad_schema = Tool::builder("s")
        .input_schema_json(json!({"type": "object", "properties": {"x": {"type": "no-such-type"}}}))
        .handler(|_, _: Context| async { "" })
        .build()
        .unwrap();
    let error = live.add_tool(bad_schema).unwrap_err();
    assert!(matches!(error, RegistryError::InvalidSchema { .. }), "{error}");
}

#[test]
fn the_configuration_disables_over_the_application() {
    let live = started(vec![tool("a", &[]), tool("b", &[])]);
    assert_eq!(live.set_config_disabled(&["a".into(), "ghost".into()]), ["ghost"]);
    assert_eq!(names(&live), ["b"]);
    assert!(live.set_tool_enabled("a", false));
    assert!(live.set_tool_enabled("a", true), "the application's flag changes");
    assert_eq!(names(&live), ["b"], "but the configuration still disables it");
    live.set_config_disabled(&[]);
    assert_eq!(names(&live), ["a", "b"]);
}

#[tokio::test]
async fn a_caller_hears_only_of_what_it_may_see() {
    let live = started(vec![tool("public", &[])]);
    live.bus().set_scoped(true);
    let reader = Arc::new(Principal::new("r", ["read"], AuthMethod::ApiKey));
    let listener = live.bus().listen(reader, "r", tools_only()).unwrap();
    live.add_tool(tool("admin", &["admin"])).unwrap();
    live.set_tool_enabled("admin", false);
    live.add_tool(tool("reader", &["read"])).unwrap();
    assert_eq!(listener.next().await, Some(Pending { tools: true, ..Pending::default() }));
    live.remove_tool("admin");
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), listener.next()).await;
    assert!(quiet.is_err(), "the admin tool's removal is not announced to a reader");
}

#[test]
fn handle_additions_before_the_start_meet_the_builders() {
    let live = Live::default();
    live.add_tool(tool("a", &[])).unwrap();
    let error = live.start(vec![tool("a", &[])], Vec::new(), Vec::new(), &StateMap::default(), &[]).unwrap_err();
    assert!(error.to_string().contains("two tools are named `a`"), "{error}");
    let live = Live::default();
    live.add_tool(tool("early", &[])).unwrap();
    live.start(vec![tool("built", &[])], Vec::new(), Vec::new(), &StateMap::default(), &["built".into()]).unwrap();
    assert_eq!(names(&live), ["early"]);
}
