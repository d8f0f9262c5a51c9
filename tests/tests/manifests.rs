//! Snapshots of what the examples advertise (`--print-manifest`: every tool, resource, template and
//! prompt definition), so a change to a schema is seen in review. Bless with `./update-tests.sh` (or
//! `MCP_BLESS=1 cargo test -p mcp-tests --test manifests`) and review the diff.

use std::path::Path;
use std::process::Command;

use mcp_tests::{conformance_bin, inventory_bin, support_routing_bin, workspace_root};
use serde_json::Value;

fn check(binary: &Path, snapshot: &str) {
    let out = Command::new(binary).arg("--print-manifest").output().expect("the example runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: Value = serde_json::from_slice(&out.stdout).expect("the manifest is JSON");
    let rendered = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
    let path = workspace_root().join("tests/snapshots").join(snapshot);
    if std::env::var_os("MCP_BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let blessed = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: bless it with ./update-tests.sh", path.display()));
    assert!(
        blessed == rendered,
        "{} changed; if that is intended, bless it with ./update-tests.sh and review the diff.\nnow:\n{rendered}",
        path.display()
    );
}

#[test]
fn inventory_manifest() {
    check(&inventory_bin(), "inventory.manifest.json");
}

#[test]
fn conformance_manifest() {
    check(&conformance_bin(), "conformance.manifest.json");
}

#[test]
fn support_routing_manifest() {
    // No JWT_PUBLIC_KEY: printing what a server advertises resolves no secret.
    check(&support_routing_bin(), "support-routing.manifest.json");
}
