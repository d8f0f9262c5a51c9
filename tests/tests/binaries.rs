//! Servers built with `#[mcp_server]` as a user writes them: defaults, refusals, and signals.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::process::Command;
use std::time::Duration;

use mcp_tests::{StdioServer, result_text};
use serde_json::json;

#[test]
fn a_parameterless_main_serves_every_linked_tool_under_the_package_name() {
    let mut s = StdioServer::spawn(env!("CARGO_BIN_EXE_echo-server").as_ref(), &[], &[]);
    let init = s.initialize("2025-06-18");
    assert_eq!(init["serverInfo"]["name"], "mcp-tests");
    assert_eq!(init["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    let list = s.request(1, "tools/list", json!({}));
    let echo = &list["result"]["tools"][0];
    assert_eq!(echo["name"], "echo");
    assert_eq!(echo["title"], "Echo", "a `# Heading` doc line is the title");
    assert_eq!(echo["description"], "Repeats the message back.");
    assert_eq!(echo["annotations"], json!({"idempotentHint": true}));
    assert_eq!(echo["inputSchema"]["properties"]["message"]["maxLength"], 64);
    let answer = s.request(2, "tools/call", json!({"name": "echo", "arguments": {"message": "hi"}}));
    assert_eq!(result_text(&answer["result"]), "hi");
    assert!(s.close().success());
}

#[test]
fn a_server_without_tools_resources_or_prompts_refuses_to_start_and_says_why() {
    let out = Command::new(env!("CARGO_BIN_EXE_no-tools-server")).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no tools, resources or prompts") && stderr.contains("#[mcp_tool]"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_network_bind_outside_loopback_is_refused_without_authentication() {
    for kind in ["http", "sse"] {
        let out = Command::new(env!("CARGO_BIN_EXE_echo-server"))
            .args(["--transport", kind, "--bind", "0.0.0.0:0"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{kind}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("refusing to serve on 0.0.0.0:0 without authentication"), "{kind}: {stderr}");
    }
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_exits_cleanly() {
    let mut s = StdioServer::spawn(env!("CARGO_BIN_EXE_echo-server").as_ref(), &[], &[]);
    s.initialize("2025-11-25");
    assert_eq!(s.request(1, "ping", json!({}))["result"], json!({}));
    let pid = s.pid().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = s.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}");
}
