//! The binaries under test: the workspace's root, `cargo` as a test should run it, and each example's
//! server binary, built once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_owned()
}

/// The folder cargo put this test binary's profile in (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test>-<hash>
    exe.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps").to_owned()
}

/// `cargo`, without the variables cargo sets for this test process (`CARGO_PKG_*`, `CARGO_MANIFEST_*`,
/// `CARGO_CRATE_NAME`, …). Build scripts declare some of them as inputs (ring's `rerun-if-env-changed`),
/// so a build started from a test with them would differ from `cargo xtask test`'s build and redo ring,
/// rustls, reqwest, the runtime and every binary.
pub fn cargo_command() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let per_crate = ["CARGO_PKG_", "CARGO_MANIFEST_"].iter().any(|p| name.starts_with(p))
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&name);
        if per_crate {
            command.env_remove(name);
        }
    }
    command
}

/// The path of a workspace binary, brought up to date once per test process (`cargo build` is a no-op
/// when nothing changed; without it a test could drive a stale binary).
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = cargo_command()
            .args([
                "build",
                "--quiet",
                "--bins",
                "-p",
                "inventory",
                "-p",
                "support-routing",
                "-p",
                "conformance-server",
                "-p",
                "mcp-cli",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the example binaries failed");
    });
    let path = profile_dir().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// The conformance example's server binary (every tool, resource and prompt of the official suite).
pub fn conformance_bin() -> PathBuf {
    bin("conformance-server")
}

/// The `cargo mcp` binary (`cargo-mcp`; run it without the `mcp` cargo inserts).
pub fn cli_bin() -> PathBuf {
    bin("cargo-mcp")
}

/// The inventory example's server binary.
pub fn inventory_bin() -> PathBuf {
    bin("inventory")
}

/// The support-routing example's server binary (JWT authentication).
pub fn support_routing_bin() -> PathBuf {
    bin("support-routing")
}

/// The inventory example's public demo key of principal `ops` (`inventory:read`, `inventory:write`,
/// `inventory:admin` for `set_maintenance`, `mcp:metrics`): its digest is in `examples/inventory/mcp.toml`.
pub const OPS_KEY: &str = "inv-demo-ops-7f3a9c";
/// The inventory example's public demo key of principal `viewer` (`inventory:read` only).
pub const VIEWER_KEY: &str = "inv-demo-viewer-2b8e41";

/// A finished process's standard output, as text (invalid UTF-8 replaced).
pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A finished process's standard error, as text (invalid UTF-8 replaced).
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
