//! [`Plan`]: which limits a call meets. `[throttling]` is read when the server starts and again at each
//! reload; a tool's own limits are resolved when it is called, from the tool the server serves at that
//! moment, so a tool added at run time gets its rate and `throttling.tools.<name>` applies to it too.

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

/// The limits of a server, and which methods spend quota: `[throttling]`, checked and parsed.
///
/// A tool's limits are `throttling.tools.<name>` over the tool's own rate (`#[mcp_tool(rate, burst)]`,
/// [`Tool::builder`]'s) over `throttling.default_tool`, resolved by [`Plan::tool_limits`] from the tool itself
/// whenever it is called. [`Plan::new`] may also resolve a fixed set of tools ahead ([`Plan::tool`],
/// [`Plan::limits`]), for code that has tools but no running server (tests, benchmarks).
#[derive(Debug, Clone)]
pub struct Plan {
    global: Option<Quota>,
    per_principal: Option<Quota>,
    default_tool: Option<Rate>,
    overrides: HashMap<String, Override>,
    scope: ToolScope,
    methods: BTreeSet<String>,
    /// The tools given to [`Plan::new`], resolved.
    ahead: HashMap<String, ToolLimits>,
}

/// `throttling.tools.<name>`, parsed.
#[derive(Debug, Clone, Copy)]
struct Override {
    rate: Option<Rate>,
    burst: Option<u32>,
    /// Whether the tool's own burst applies when `burst` is unset (`{ rate = .. }` keeps it; a bare
    /// `"30/min"` replaces the tool's rate and burst both).
    keeps_burst: bool,
    max_concurrent: Option<usize>,
}

/// One tool's rate and concurrency cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolLimits {
    /// Its quota, if it has one.
    pub quota: Option<Quota>,
    /// Calls of it running at once at most.
    pub max_concurrent: Option<usize>,
}

impl Plan {
    /// Reads `[throttling]`, and resolves the limits of `tools` ahead (of [`Tool`]s, or of `#[mcp_tool]`
    /// specs; none for a server, whose tools are resolved as they are called). `throttling.tools` may name
    /// tools that do not exist yet: their limits apply once a tool of that name is added.
    ///
    /// # Errors
    /// A malformed rate.
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
        let mut overrides = HashMap::with_capacity(config.tools.len());
        for (name, limit) in &config.tools {
            let key = format!("tools.{name}");
            let parsed = match limit {
                ToolThrottle::Rate(text) => {
                    Override { rate: Some(parse(&key, text)?), burst: None, keeps_burst: false, max_concurrent: None }
                }
                ToolThrottle::Detailed { rate, burst, max_concurrent } => Override {
                    rate: rate.as_deref().map(|text| parse(&key, text)).transpose()?,
                    burst: *burst,
                    keeps_burst: true,
                    max_concurrent: *max_concurrent,
                },
            };
            overrides.insert(name.clone(), parsed);
        }
        let mut plan = Self {
            global,
            per_principal,
            default_tool,
            overrides,
            scope: config.tool_scope,
            methods: config.methods.iter().cloned().collect(),
            ahead: HashMap::new(),
        };
        for tool in tools {
            let tool: Tool = tool.into();
            let limits = plan.tool_limits(&tool);
            if limits != ToolLimits::default() {
                plan.ahead.insert(tool.name().to_owned(), limits);
            }
        }
        Ok(plan)
    }

    /// `tool`'s limits: `throttling.tools.<name>` over its own rate and burst over `throttling.default_tool`.
    /// Allocates nothing.
    pub fn tool_limits(&self, tool: &Tool) -> ToolLimits {
        self.resolve(tool.name(), tool.rate(), tool.burst())
    }

    /// The limits of a tool named `name` with its own `rate` and `burst`.
    pub fn resolve(&self, name: &str, rate: Option<Rate>, burst: Option<u32>) -> ToolLimits {
        let (rate, burst, max_concurrent) = match self.overrides.get(name) {
            None => (rate, burst, None),
            Some(o) => (o.rate.or(rate), if o.keeps_burst { o.burst.or(burst) } else { o.burst }, o.max_concurrent),
        };
        ToolLimits { quota: rate.or(self.default_tool).map(|r| Quota::new(r, burst)), max_concurrent }
    }

    /// Whether calls of `method` spend quota: those of `throttling.methods`, and always `initialize`, which
    /// opens a session (the caller's and the global budget; a flood of handshakes is a flood of sessions).
    pub fn throttles(&self, method: &str) -> bool {
        method == method::INITIALIZE || method.starts_with("tasks/") || self.methods.contains(method)
    }

    /// Whether no limit is configured and no tool was resolved ahead with one (a tool that brings its own
    /// rate may still be limited).
    pub fn is_empty(&self) -> bool {
        self.global.is_none()
            && self.per_principal.is_none()
            && self.default_tool.is_none()
            && self.overrides.is_empty()
            && self.ahead.is_empty()
    }

    /// Whether every call spends a caller's or the global budget (`throttling.per_principal`, `global`).
    pub fn limits_callers(&self) -> bool {
        self.global.is_some() || self.per_principal.is_some()
    }

    /// The limits of a tool resolved ahead by [`Plan::new`].
    pub fn tool(&self, name: &str) -> Option<&ToolLimits> {
        self.ahead.get(name)
    }

    /// Every tool resolved ahead with limits.
    pub fn tools(&self) -> impl Iterator<Item = (&str, &ToolLimits)> {
        self.ahead.iter().map(|(name, limits)| (name.as_str(), limits))
    }

    /// The concurrency caps `throttling.tools.<name>.max_concurrent` sets, by tool name.
    pub fn concurrency_caps(&self) -> impl Iterator<Item = (&str, usize)> {
        self.overrides.iter().filter_map(|(name, o)| o.max_concurrent.map(|n| (name.as_str(), n)))
    }

    /// Every distinct quota known ahead: the global and per-caller ones, and those of the tools resolved
    /// ahead. A limiter may make these at once; others appear as calls meet them.
    pub fn quotas(&self) -> BTreeSet<Quota> {
        self.global
            .iter()
            .chain(&self.per_principal)
            .chain(self.ahead.values().filter_map(|t| t.quota.as_ref()))
            .copied()
            .collect()
    }

    /// The limits a call by `caller` (of `tool`, for `tools/call`, as resolved ahead) meets, narrowest
    /// first; see [`Plan::limits_for`].
    pub fn limits(&self, caller: &str, tool: Option<&str>) -> Vec<Limit> {
        self.limits_for(caller, tool.and_then(|t| self.ahead.get(t).and_then(|l| l.quota).map(|q| (t, q))))
    }

    /// The limits a call by `caller` meets, `tool` being the called tool's name and quota (when it has one),
    /// narrowest first: the caller's own budgets before the shared ones, so a call refused by a limit has
    /// spent only budgets narrower than it (its caller's), never what other callers share.
    pub fn limits_for(&self, caller: &str, tool: Option<(&str, Quota)>) -> Vec<Limit> {
        let mut limits = Vec::with_capacity(3);
        if let (Some((tool, quota)), ToolScope::Principal) = (tool, self.scope) {
            limits.push(Limit { scope: Scope::Tool, key: format!("pt:{tool}:{caller}"), quota });
        }
        if let Some(quota) = self.per_principal {
            limits.push(Limit { scope: Scope::Principal, key: format!("p:{caller}"), quota });
        }
        if let (Some((tool, quota)), ToolScope::Global) = (tool, self.scope) {
            limits.push(Limit { scope: Scope::Tool, key: format!("t:{tool}"), quota });
        }
        if let Some(quota) = self.global {
            limits.push(Limit { scope: Scope::Global, key: "g".to_owned(), quota });
        }
        limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Option<Rate> {
        Some(text.parse().unwrap())
    }

    fn config(tools: &[(&str, ToolThrottle)]) -> ThrottlingConfig {
        let mut config = ThrottlingConfig { default_tool: Some("60/min".to_owned()), ..ThrottlingConfig::default() };
        config.tools.extend(tools.iter().map(|(n, t)| ((*n).to_owned(), t.clone())));
        config
    }

    fn quota(text: &str, extra: Option<u32>) -> Option<Quota> {
        rate(text).map(|r| Quota::new(r, extra))
    }

    #[test]
    fn a_tool_resolves_when_asked_override_over_own_over_default() {
        let detailed = ToolThrottle::Detailed { rate: None, burst: Some(5), max_concurrent: Some(2) };
        let plan = Plan::new(
            &config(&[("bare", ToolThrottle::Rate("10/min".to_owned())), ("detailed", detailed)]),
            Vec::<Tool>::new(),
        )
        .unwrap();
        // A bare rate replaces the tool's rate and its burst.
        assert_eq!(plan.resolve("bare", rate("3/s"), Some(4)).quota, quota("10/min", None));
        // `{ burst, max_concurrent }` keeps the tool's rate.
        assert_eq!(
            plan.resolve("detailed", rate("2/s"), Some(1)),
            ToolLimits { quota: quota("2/s", Some(5)), max_concurrent: Some(2) }
        );
        // No override: the tool's own rate and burst; without them, the default.
        assert_eq!(plan.resolve("other", rate("2/s"), Some(1)).quota, quota("2/s", Some(1)));
        assert_eq!(plan.resolve("other", None, None).quota, quota("60/min", None));
        let no_default = Plan::new(&ThrottlingConfig::default(), Vec::<Tool>::new()).unwrap();
        assert_eq!(no_default.resolve("other", None, None), ToolLimits::default());
        assert_eq!(plan.concurrency_caps().collect::<Vec<_>>(), vec![("detailed", 2)]);
    }

    #[test]
    fn overrides_may_name_tools_added_later_and_tools_with_their_own_rate_resolve_live() {
        let plan = Plan::new(&config(&[("later", ToolThrottle::Rate("1/s".to_owned()))]), Vec::<Tool>::new()).unwrap();
        let tool = |name: &str, rate: &str| {
            Tool::builder(name).rate(rate).burst(2).handler(|_, _| async { "x" }).build().unwrap()
        };
        let later = tool("later", "100/s");
        assert_eq!(plan.tool_limits(&later).quota, quota("1/s", None), "the override applies to a tool added later");
        let own = tool("own", "7/min");
        assert_eq!(plan.tool_limits(&own).quota, quota("7/min", Some(2)));
        assert!(plan.tool("own").is_none(), "nothing is resolved ahead for a server");
    }

    #[test]
    fn limits_come_narrowest_first_in_either_tool_scope() {
        let mut config = ThrottlingConfig {
            global: Some("100/s".to_owned()),
            per_principal: Some("10/s".to_owned()),
            ..ThrottlingConfig::default()
        };
        let tool = quota("1/s", None).unwrap();
        let plan = Plan::new(&config, Vec::<Tool>::new()).unwrap();
        let keys = |plan: &Plan| plan.limits_for("c", Some(("t", tool))).into_iter().map(|l| l.key).collect::<Vec<_>>();
        assert_eq!(keys(&plan), ["pt:t:c", "p:c", "g"]);
        config.tool_scope = ToolScope::Global;
        let plan = Plan::new(&config, Vec::<Tool>::new()).unwrap();
        assert_eq!(keys(&plan), ["p:c", "t:t", "g"]);
        assert!(plan.limits_callers());
        assert_eq!(plan.quotas().len(), 2);
    }

    #[test]
    fn malformed_rates_name_their_key() {
        let bad = config(&[("x", ToolThrottle::Rate("often".to_owned()))]);
        assert!(Plan::new(&bad, Vec::<Tool>::new()).unwrap_err().contains("throttling.tools.x"));
    }
}
