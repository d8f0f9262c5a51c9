//! Scope hierarchies: a broader scope implies narrower ones (`inventory:admin` → `inventory:write`,
//! `inventory:read`), as the 2026-07-28 authorization text requires servers to honour when deciding
//! whether a token is sufficient. Declared in `[security.scope_implies]`; a principal's granted scopes
//! are widened with everything they imply, once, when it is authenticated.

use std::collections::{BTreeMap, BTreeSet};

/// What each scope implies, transitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScopeHierarchy {
    implied: BTreeMap<String, BTreeSet<String>>,
}

impl ScopeHierarchy {
    /// The closure of `implies` (`broader → [narrower, …]`); cycles are harmless.
    pub(crate) fn new(implies: &BTreeMap<String, Vec<String>>) -> Self {
        let implied = implies
            .keys()
            .map(|scope| {
                let mut seen = BTreeSet::new();
                let mut next: Vec<&String> = implies[scope].iter().collect();
                while let Some(narrower) = next.pop() {
                    if narrower != scope && seen.insert(narrower.clone()) {
                        next.extend(implies.get(narrower).into_iter().flatten());
                    }
                }
                (scope.clone(), seen)
            })
            .collect();
        Self { implied }
    }

    /// `granted` with every scope it implies added.
    pub(crate) fn widen(&self, granted: &mut BTreeSet<String>) {
        if self.implied.is_empty() {
            return;
        }
        let implied: Vec<String> = granted
            .iter()
            .filter_map(|s| self.implied.get(s))
            .flatten()
            .filter(|s| !granted.contains(*s))
            .cloned()
            .collect();
        granted.extend(implied);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(scopes: &[&str]) -> BTreeSet<String> {
        scopes.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn broader_scopes_imply_narrower_ones_transitively() {
        let implies = BTreeMap::from([
            ("admin".to_owned(), vec!["inventory:write".to_owned()]),
            ("inventory:write".to_owned(), vec!["inventory:read".to_owned()]),
            ("loop".to_owned(), vec!["loop".to_owned(), "admin".to_owned()]),
        ]);
        let h = ScopeHierarchy::new(&implies);
        let mut granted = set(&["admin"]);
        h.widen(&mut granted);
        assert_eq!(granted, set(&["admin", "inventory:read", "inventory:write"]));
        let mut granted = set(&["inventory:read"]);
        h.widen(&mut granted);
        assert_eq!(granted, set(&["inventory:read"]), "a narrower scope implies nothing broader");
        let mut granted = set(&["loop"]);
        h.widen(&mut granted);
        assert_eq!(granted, set(&["admin", "inventory:read", "inventory:write", "loop"]));
    }
}
