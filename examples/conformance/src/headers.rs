//! The `x-mcp-header` fixtures (SEP-2243): tools whose arguments are mirrored into `Mcp-Param-*` headers.
//!
//! `http-custom-header-server-validation` takes the first listed tool with an annotated argument, calls
//! it with its first annotated string argument mirrored in plain, Base64 (`=?base64?…?=`), malformed
//! Base64 and missing headers, and its other required arguments filled in and mirrored: the integer and
//! boolean here make it mirror those kinds too (`0`, `false`). The server refuses what disagrees before
//! the tool runs (400, −32020); the tool answers what it was given.

use mcp_runtime::prelude::*;

/// Runs a query in a region; the region, the priority and the dry-run flag travel in headers too, for the
/// load balancer to route on.
#[mcp_tool(read_only)]
async fn test_custom_headers(
    /// The region to run in.
    #[schema(header = "Region")]
    region: String,
    /// How urgent the query is.
    #[schema(header = "Priority")]
    priority: i64,
    /// Whether to only plan the query.
    #[schema(header = "DryRun")]
    dry_run: bool,
    /// The query; not mirrored.
    query: String,
) -> String {
    format!("ran {query:?} in {region} at priority {priority} (dry run: {dry_run})")
}
