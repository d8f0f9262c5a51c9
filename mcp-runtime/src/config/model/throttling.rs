//! `[throttling]`: GCRA budgets per caller, per tool and for everyone, and where their state lives.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;
use crate::protocol::method;

/// `[throttling]`: GCRA rate limits, checked after authentication, authorization and validation, so a refused
/// call spends no quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlingConfig {
    /// Every caller's calls together (`"1000/min"`).
    pub global: Option<String>,
    /// Each caller's calls (the principal; its address when unauthenticated).
    pub per_principal: Option<String>,
    /// The rate of tools whose attribute sets none.
    pub default_tool: Option<String>,
    /// Per tool: `"30/min"`, or `{ rate = "30/min", burst = 5, max_concurrent = 4 }`; overrides the attribute.
    pub tools: std::collections::BTreeMap<String, ToolThrottle>,
    /// Whose budget a tool's rate is: `principal` (each caller has its own) or `global` (all share one).
    pub tool_scope: ToolScope,
    /// The methods that spend quota: `tools/call` (always), `resources/read`, `prompts/get`.
    pub methods: Vec<String>,
    /// Where the limiter state lives.
    pub store: StoreConfig,
    /// How often idle limiter state is dropped from memory.
    #[serde(with = "duration")]
    pub retain_interval: Duration,
}

impl Default for ThrottlingConfig {
    fn default() -> Self {
        Self {
            global: None,
            per_principal: None,
            default_tool: None,
            tools: std::collections::BTreeMap::new(),
            tool_scope: ToolScope::Principal,
            methods: vec![method::TOOLS_CALL.to_owned()],
            store: StoreConfig::Memory,
            retain_interval: Duration::from_secs(60),
        }
    }
}

impl ThrottlingConfig {
    pub(crate) fn check(&self) -> Result<(), String> {
        let rates =
            [("global", &self.global), ("per_principal", &self.per_principal), ("default_tool", &self.default_tool)];
        for (key, rate) in rates {
            if let Some(rate) = rate {
                rate.parse::<mcp_grammar::Rate>().map_err(|e| format!("throttling.{key}: {e}"))?;
            }
        }
        for (tool, limit) in &self.tools {
            let (rate, burst, max_concurrent) = match limit {
                ToolThrottle::Rate(rate) => (Some(rate), None, None),
                ToolThrottle::Detailed { rate, burst, max_concurrent } => (rate.as_ref(), *burst, *max_concurrent),
            };
            if let Some(rate) = rate {
                rate.parse::<mcp_grammar::Rate>().map_err(|e| format!("throttling.tools.{tool}: {e}"))?;
            }
            if burst == Some(0) || max_concurrent == Some(0) {
                return Err(format!("throttling.tools.{tool}: burst and max_concurrent must be above zero"));
            }
        }
        for method in &self.methods {
            if !matches!(method.as_str(), method::TOOLS_CALL | method::RESOURCES_READ | method::PROMPTS_GET) {
                return Err(format!(
                    "throttling.methods: `{method}` cannot be throttled: use tools/call, resources/read or prompts/get"
                ));
            }
        }
        if let StoreConfig::Redis { timeout, .. } = &self.store
            && timeout.is_zero()
        {
            return Err("throttling.store.timeout must be above zero".to_owned());
        }
        Ok(())
    }
}

/// `throttling.tools.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolThrottle {
    /// `"30/min"`.
    Rate(String),
    /// `{ rate = "30/min", burst = 5, max_concurrent = 4 }`.
    Detailed {
        /// The steady rate.
        #[serde(default)]
        rate: Option<String>,
        /// Calls allowed at once above the steady rate's budget.
        #[serde(default)]
        burst: Option<u32>,
        /// Calls running at once at most; more are refused at once, not queued.
        #[serde(default)]
        max_concurrent: Option<usize>,
    },
}

/// `throttling.tool_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolScope {
    /// A tool's rate is each caller's budget: two callers of a `30/min` tool get 30 calls a minute each.
    Principal,
    /// A tool's rate is one budget every caller shares (it protects the system behind the tool).
    Global,
}

/// `throttling.store`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// In this process's memory.
    Memory,
    /// In Redis, shared by every replica.
    Redis {
        /// `redis://host:6379/0` (`rediss://` for TLS); by reference (`${env:REDIS_URL}`) when it holds a password.
        url: crate::config::SecretRef,
        /// What a call gets when Redis fails or is slower than `timeout`: `open` admits it, `closed` refuses it
        /// (503), `local` decides with this process's own limiter.
        #[serde(default)]
        on_error: OnRedisError,
        /// The longest a call waits for Redis.
        #[serde(default = "default_redis_timeout", with = "duration")]
        timeout: Duration,
        /// The prefix of every key the limiter writes.
        #[serde(default = "default_redis_prefix")]
        prefix: String,
    },
}

fn default_redis_timeout() -> Duration {
    Duration::from_millis(100)
}

fn default_redis_prefix() -> String {
    "mcp:rl:".to_owned()
}

/// `throttling.store.on_error`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnRedisError {
    /// Admit the call.
    Open,
    /// Refuse the call (503).
    Closed,
    /// Decide with this process's in-memory limiter.
    #[default]
    Local,
}
