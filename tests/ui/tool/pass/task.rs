//! `task = "..."` sets the spec's `TaskSupport`; a tool without it is never called as a task.
//! Checked at compile time: a wrong setting fails the build of this case.

use mcp_runtime::TaskSupport;
use mcp_runtime::prelude::*;

/// Builds the monthly report, as a task only.
#[mcp_tool(task = "required")]
async fn monthly_report(month: String) -> String {
    month
}

/// Either way.
#[mcp_tool(task = "optional", read_only)]
async fn summary() -> String {
    String::new()
}

/// Never as a task, said outright.
#[mcp_tool(task = "forbidden")]
async fn ping() {}

/// Never as a task, by default.
#[mcp_tool]
async fn pong() {}

const _: () = assert!(matches!(monthly_report::SPEC.task, TaskSupport::Required));
const _: () = assert!(matches!(summary::SPEC.task, TaskSupport::Optional));
const _: () = assert!(matches!(ping::SPEC.task, TaskSupport::Forbidden));
const _: () = assert!(matches!(pong::SPEC.task, TaskSupport::Forbidden));

fn main() {}
