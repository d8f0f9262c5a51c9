//! Helpers shared by the integration tests and the soak (`src/bin/soak/`): finding the binaries under test
//! (`binaries.rs`), driving a server over stdio by hand (`stdio.rs`: a child process; `harness.rs`: in-process
//! through the real stdio transport code) or over the network (`process.rs`: a child process; `served.rs`:
//! in-process on a real socket, and the POST a 2026-07-28 client sends), and the peers a server talks
//! to, one set for the tests, the soak and the benchmarks: a real `redis-server` (`redis.rs`), an identity
//! provider's JWKS endpoint (`jwks.rs`), an OTLP collector (`otlp.rs`), and the real MCP clients
//! `cargo xtask test` installs (`interop.rs`).

mod binaries;
pub mod gcra;
mod harness;
mod interop;
mod jwks;
mod otlp;
mod process;
mod redis;
mod served;
mod stdio;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use binaries::{
    OPS_KEY, VIEWER_KEY, bin, cargo_command, cli_bin, conformance_bin, inventory_bin, stderr_of, stdout_of,
    support_routing_bin, workspace_root,
};
pub use harness::Harness;
pub use interop::{interop_dir, node, run_json};
pub use jwks::{JwksServer, rsa_signing_key};
pub use otlp::OtlpReceiver;
pub use process::{NetworkServer, ServerLog, rss_kib, send_signal};
pub use redis::RedisServer;
pub use served::{ServedHttp, answer_of, modern_post};
pub use stdio::StdioServer;

/// How long a test waits for one message before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Installs a bare `Registry` as the process's global subscriber, once. Call it before a test captures
/// spans with `tracing::subscriber::set_default`: a thread without any subscriber that reaches a callsite
/// first caches "never interested" in it for the whole process (tokio-rs/tracing#3611), and the capturing
/// test on another thread then sees nothing. With a real global subscriber, every thread registers
/// callsites as interesting.
pub fn global_registry() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

/// Polls `check` until it yields a value, for at most [`TIMEOUT`]: a bounded wait on something the test can
/// observe (a status, a counter), where a fixed sleep would guess how long it takes.
///
/// # Panics
/// When `check` yields nothing within [`TIMEOUT`]; the message names `what`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `_meta` for a 2026-07-28 request.
pub fn modern_meta() -> Value {
    modern_meta_with(json!({}))
}

/// `_meta` for a 2026-07-28 request whose client declares `capabilities`.
#[allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value at call sites
pub fn modern_meta_with(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "mcp-tests", "version": "0"}
    })
}

/// The text of a tool result's content blocks, joined.
pub fn result_text(result: &Value) -> String {
    result["content"].as_array().into_iter().flatten().filter_map(|c| c["text"].as_str()).collect::<Vec<_>>().join("\n")
}
