//! The list methods' pages: every entry, or those the caller's scopes allow, a page at a time.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::protocol::ErrorObject;
use crate::request::McpRequest;
use crate::server::App;
use crate::server::format::Cache;
use crate::server::pagination::page;

/// A list method's page: every entry, or (when filtering) those whose scopes the caller holds.
/// `scopes` gives the entries' scopes, in the order of `all`. Tools are listed per caller whenever
/// filtering is on; resources, templates and prompts only when some of them has scopes, so a server
/// without any keeps their lists cacheable by anyone.
pub(crate) fn list_scoped<'a, S: AsRef<str> + 'a, I: Iterator<Item = &'a [S]>>(
    app: &App,
    req: &McpRequest,
    key: &'static str,
    all: &[Box<RawValue>],
    scopes: impl Fn() -> I,
    filter: bool,
) -> Result<Box<RawValue>, ErrorObject> {
    let hidden = |scopes: &[S]| scopes.iter().any(|s| !req.principal.has_scope(s.as_ref()));
    if !filter || (key != "tools" && scopes().all(<[S]>::is_empty)) {
        return list(app, req, key, all);
    }
    // What a caller sees depends on its scopes: 2026-07-28 clients may cache it only privately.
    let private = Cache::Private(app.tools_config().list_ttl);
    if !scopes().any(hidden) {
        return one_page(app, req, key, all, private);
    }
    let allowed: Vec<&RawValue> = scopes().zip(all).filter(|(s, _)| !hidden(s)).map(|(_, d)| &**d).collect();
    one_page(app, req, key, &allowed, private)
}

/// One page of a list method's result (`{<key>: [...], nextCursor?}`), cacheable by anyone.
fn list(app: &App, req: &McpRequest, key: &'static str, all: &[Box<RawValue>]) -> Result<Box<RawValue>, ErrorObject> {
    one_page(app, req, key, all, Cache::Public)
}

fn one_page<T: Serialize>(
    app: &App,
    req: &McpRequest,
    key: &'static str,
    all: &[T],
    cache: Cache,
) -> Result<Box<RawValue>, ErrorObject> {
    let page = page(&req.method, &req.params, all.len(), app.tools_config().page_size)?;
    let body = Page { key, items: &all[page.range], next_cursor: page.next_cursor };
    app.format().finish(req.version, &body, cache)
}

/// A list page: the key differs per method (`tools`, `resources`, `resourceTemplates`, `prompts`).
struct Page<'a, T> {
    key: &'static str,
    items: &'a [T],
    next_cursor: Option<String>,
}

impl<T: Serialize> Serialize for Page<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.key, self.items)?;
        if let Some(cursor) = &self.next_cursor {
            map.serialize_entry("nextCursor", cursor)?;
        }
        map.end()
    }
}
