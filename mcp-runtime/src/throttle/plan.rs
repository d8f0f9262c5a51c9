//! [`Plan`]: which limits a call meets, resolved once at start from the tools' attributes and `[throttling]`.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::config::{ThrottlingConfig, ToolScope, ToolThrottle};
use crate::protocol::method;
use crate::server::{Rate, Tool};

/// A GCRA quota: one call's share comes back every `interval`, and `burst` calls may be made at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quota {
    /// The emission interval: the period divided by the calls it allows.
    pub interval: Duration,
    /// Calls allowed back to back from a full budget (at least one).
    pub burst: u32,
}

impl Quota {
    /// `rate` with `extra` calls allowed in a burst above it (`"30/min"` alone allows 30 at once).
    pub fn new(rate: Rate, extra: Option<u32>) -> Self {
        Self { interval: rate.interval(), burst: rate.count.saturating_add(extra.unwrap_or(0)).max(1) }
    }

    /// The GCRA delay tolerance: how far ahead of now the theoretical arrival time may run.
    pub fn tolerance(&self) -> Duration {
        self.interval * (self.burst - 1)
    }
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Every call of every caller.
    Global,
    /// Every call of one caller.
    Principal,
    /// One tool's calls (of one caller under `tool_scope = "principal"`, of everyone under `"global"`).
    Tool,
    /// One tool's calls running at once (`max_concurrent`).
    Concurrency,
}

impl Scope {
    /// The name used in errors, logs and `data.limit`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Principal => "principal",
            Self::Tool => "tool",
            Self::Concurrency => "concurrency",
        }
    }
}

/// One limit a call meets: what it counts, its key in the limiter's store, and its quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// What it counts.
    pub scope: Scope,
    /// The store key: `g`, `p:<caller>`, `t:<tool>` or `pt:<tool>:<caller>` (tool names hold no `:`).
    pub key: String,
    /// Its quota.
    pub quota: Quota,
}

/// The limits of a server, and which methods spend quota.
#[derive(Debug, Clone)]
pub struct Plan {
    global: Option<Quota>,
    per_principal: Option<Quota>,
    tools: HashMap<String, ToolLimits>,
    scope: ToolScope,
    methods: BTreeSet<String>,
}

/// One tool's rate and concurrency cap.
#[derive(Debug, Clone, Copy, Default)]
pub struct ToolLimits {
    /// Its quota, if it has one.
    pub quota: Option<Quota>,
    /// Calls of it running at once at most.
    pub max_concurrent: Option<usize>,
}

impl Plan {
    /// Resolves every tool's limits (of [`Tool`]s, or of `#[mcp_tool]` specs): `throttling.tools.<name>` over
    /// the tool's own rate over `throttling.default_tool`.
    ///
    /// # Errors
    /// A malformed rate, or `throttling.tools` naming a tool the server does not have.
    pub fn new<T: Into<Tool>>(config: &ThrottlingConfig, tools: impl IntoIterator<Item = T>) -> Result<Self, String> {
        let parse = |key: &str, text: &str| text.parse::<Rate>().map_err(|e| format!("throttling.{key}: {e}"));
        let global = config.global.as_deref().map(|r| parse("global", r)).transpose()?.map(|r| Quota::new(r, None));
        let per_principal = config
            .per_principal
            .as_deref()
            .map(|r| parse("per_principal", r))
            .transpose()?
            .map(|r| Quota::new(r, None));
        let default_tool = config.default_tool.as_deref().map(|r| parse("default_tool", r)).transpose()?;
        let mut resolved = HashMap::new();
        for tool in tools {
            let tool: Tool = tool.into();
            let name = tool.name();
            let (rate, burst, max_concurrent) = match config.tools.get(name) {
                None => (tool.rate(), tool.burst(), None),
                Some(ToolThrottle::Rate(text)) => (Some(parse(&format!("tools.{name}"), text)?), None, None),
                Some(ToolThrottle::Detailed { rate, burst, max_concurrent }) => {
                    let rate = match rate {
                        Some(text) => Some(parse(&format!("tools.{name}"), text)?),
                        None => tool.rate(),
                    };
                    (rate, burst.or(tool.burst()), *max_concurrent)
                }
            };
            let quota = rate.or(default_tool).map(|r| Quota::new(r, burst));
            if quota.is_some() || max_concurrent.is_some() {
                resolved.insert(name.to_owned(), ToolLimits { quota, max_concurrent });
            }
        }
        if let Some(unknown) = config.tools.keys().find(|name| !resolved.contains_key(*name)) {
            return Err(format!("throttling.tools.{unknown} names no tool of this server"));
        }
        Ok(Self {
            global,
            per_principal,
            tools: resolved,
            scope: config.tool_scope,
            methods: config.methods.iter().cloned().collect(),
        })
    }

    /// Whether calls of `method` spend quota: those of `throttling.methods`, and always `initialize`, which
    /// opens a session (the caller's and the global budget; a flood of handshakes is a flood of sessions).
    pub fn throttles(&self, method: &str) -> bool {
        method == method::INITIALIZE || self.methods.contains(method)
    }

    /// Whether there is any limit at all.
    pub fn is_empty(&self) -> bool {
        self.global.is_none() && self.per_principal.is_none() && self.tools.is_empty()
    }

    /// A tool's limits.
    pub fn tool(&self, name: &str) -> Option<&ToolLimits> {
        self.tools.get(name)
    }

    /// Every tool with limits.
    pub fn tools(&self) -> impl Iterator<Item = (&str, &ToolLimits)> {
        self.tools.iter().map(|(name, limits)| (name.as_str(), limits))
    }

    /// Every distinct quota the plan uses (one limiter each in memory).
    pub fn quotas(&self) -> BTreeSet<Quota> {
        self.global
            .iter()
            .chain(&self.per_principal)
            .chain(self.tools.values().filter_map(|t| t.quota.as_ref()))
            .copied()
            .collect()
    }

    /// The limits a call by `caller` (of `tool`, for `tools/call`) meets, narrowest first: the caller's own
    /// budgets before the shared ones, so a call refused by a limit has spent only budgets narrower than it
    /// (its caller's), never what other callers share.
    pub fn limits(&self, caller: &str, tool: Option<&str>) -> Vec<Limit> {
        let mut limits = Vec::with_capacity(3);
        let tool_quota = tool.and_then(|t| self.tools.get(t).and_then(|l| l.quota).map(|q| (t, q)));
        if let (Some((tool, quota)), ToolScope::Principal) = (tool_quota, self.scope) {
            limits.push(Limit { scope: Scope::Tool, key: format!("pt:{tool}:{caller}"), quota });
        }
        if let Some(quota) = self.per_principal {
            limits.push(Limit { scope: Scope::Principal, key: format!("p:{caller}"), quota });
        }
        if let (Some((tool, quota)), ToolScope::Global) = (tool_quota, self.scope) {
            limits.push(Limit { scope: Scope::Tool, key: format!("t:{tool}"), quota });
        }
        if let Some(quota) = self.global {
            limits.push(Limit { scope: Scope::Global, key: "g".to_owned(), quota });
        }
        limits
    }
}
