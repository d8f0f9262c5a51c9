//! Coverage-guided fuzz targets for the runtime's untrusted-input surfaces.
//!
//! Each module is one target: a `run(&[u8])` function that feeds the bytes to the runtime and checks an
//! invariant, panicking (a crash, for the fuzzer) when it does not hold. The AFL++ binaries in `src/bin`
//! (feature `afl`, built by `cargo xtask fuzz`) call them under instrumentation; `tests/replay.rs` calls
//! them on every file of `corpus/` and `regressions/`, so `cargo test` guards what fuzzing found without
//! a fuzzer.
//!
//! Inputs are text where that helps writing seeds by hand: see each target's format.

pub mod arguments;
pub mod http_request;
pub mod jsonrpc;
pub mod jwt;
pub mod request_state;
pub mod sse;
pub mod stateless_headers;

mod text;

use std::sync::OnceLock;

/// A target: runs one input, panics when an invariant does not hold.
pub type Target = fn(&[u8]);

/// Every target by name, as `cargo xtask fuzz` and the replay test know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("jsonrpc", jsonrpc::run),
    ("http_request", http_request::run),
    ("stateless_headers", stateless_headers::run),
    ("jwt", jwt::run),
    ("arguments", arguments::run),
    ("sse", sse::run),
    ("request_state", request_state::run),
];

/// The one current-thread runtime the asynchronous targets block on (a fuzzer runs one input at a time).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime starts")
    })
}
