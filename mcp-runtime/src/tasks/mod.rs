//! Tasks: a `tools/call` that answers at once with a task the client polls, while the tool runs on.

/// Whether a tool may be called as a task (`#[mcp_tool(task = "optional")]`, [`ToolBuilder::task`]
/// (crate::server::ToolBuilder::task)); listed as the tool's `execution.taskSupport`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskSupport {
    /// Never as a task (the default): a call that asks for one is refused.
    #[default]
    Forbidden,
    /// Either way: the client chooses.
    Optional,
    /// Only as a task: a call that is not one is refused.
    Required,
}

impl TaskSupport {
    /// The wire name: `forbidden`, `optional`, `required`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }
}
