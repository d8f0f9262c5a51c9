//! 2026-07-28 multi-round-trip requests (SEP-2322) and `x-mcp-header` (SEP-2243) as the official clients
//! drive them: the TypeScript v2 client and the Python SDK client, each pinned to 2026-07-28, against the
//! conformance example over stdio and Streamable HTTP. Their input-required drivers answer each
//! `input_required` from the handlers the scripts register and retry with `inputResponses` and the
//! echoed `requestState`: a tool that asks over two rounds, one that asks three things in one round, one
//! whose state must come back intact, and a prompt. Over HTTP each also calls `test_custom_headers`, whose
//! arguments it mirrors into `Mcp-Param-*` headers the server checks before the tool runs.
//!
//! `tests/interop/{node/mrtr.mjs,python/mrtr.py}` print what the client saw; the assertions are here. Like
//! the other interop tests these need the clients `cargo xtask test` installs, so plain `cargo test` lists
//! them as ignored.

use std::process::Command;

use mcp_tests::{NetworkServer, conformance_bin, interop_dir, node, run_json};
use serde_json::Value;

/// The client scripts, by name.
#[derive(Clone, Copy)]
enum Peer {
    TypeScript,
    Python,
}

impl Peer {
    /// Runs the peer's script at `--http URL`, or against the conformance binary over stdio.
    fn run(self, http: Option<&str>) -> Value {
        let dir = interop_dir();
        let mut command = match self {
            Self::TypeScript => {
                let mut c = Command::new(node());
                c.arg(dir.join("node/mrtr.mjs")).current_dir(dir.join("node"));
                c
            }
            Self::Python => {
                let mut c = Command::new(dir.join("python/.venv/bin/python"));
                c.arg(dir.join("python/mrtr.py"));
                c
            }
        };
        match http {
            Some(url) => command.args(["--http", url]),
            None => command.arg("--").arg(conformance_bin()),
        };
        // The server's audit trail goes to its stderr; keep it out of the test's output.
        command.env("MCP_AUDIT__DESTINATION", "none");
        run_json(&mut command)
    }
}

/// The result named `what`, asserting it completed: its text and what the client was asked.
#[track_caller]
fn completed<'a>(out: &'a Value, what: &str) -> (&'a str, Vec<&'a str>) {
    let results = out["results"].as_array().unwrap_or_else(|| panic!("no results: {out}"));
    let result = results.iter().find(|r| r["what"] == what).unwrap_or_else(|| panic!("no {what} in {out}"));
    assert_eq!(result["error"], Value::Null, "{what}: {result}");
    let asked = result["asked"].as_array().into_iter().flatten().filter_map(|a| a["method"].as_str()).collect();
    (result["text"].as_str().unwrap_or_else(|| panic!("{what}: no text in {result}")), asked)
}

fn check(out: &Value, http: bool) {
    assert_eq!(out["protocolVersion"], "2026-07-28", "{out}");
    let (text, asked) = completed(out, "test_input_required_result_multi_round");
    assert_eq!(text, "Ada likes teal", "the first round's answer came back through requestState");
    assert_eq!(asked, ["elicitation/create", "elicitation/create"], "two rounds, one question each");

    let (text, mut asked) = completed(out, "test_input_required_result_multiple_inputs");
    assert_eq!(text, "Paris Ada, with 1 root(s)");
    asked.sort_unstable();
    assert_eq!(asked, ["elicitation/create", "roots/list", "sampling/createMessage"], "three asked in one round");

    let (text, _) = completed(out, "test_input_required_result_request_state");
    assert_eq!(text, "Confirmed: true");
    let (text, asked) = completed(out, "test_input_required_result_prompt");
    assert_eq!(text, "Use this context: tides");
    assert_eq!(asked, ["elicitation/create"]);

    if http {
        let (text, _) = completed(out, "test_custom_headers");
        assert_eq!(text, r#"ran "SELECT 1" in eu-west-1 at priority 3 (dry run: true)"#, "the mirrored headers agreed");
    }
}

fn over_http(peer: Peer) {
    let server = NetworkServer::start(&conformance_bin(), "http");
    let out = peer.run(Some(&format!("{}/mcp", server.base)));
    check(&out, true);
}

#[test]
#[ignore = "needs the Node clients `cargo xtask test` installs"]
fn the_typescript_client_resumes_over_stdio() {
    check(&Peer::TypeScript.run(None), false);
}

#[test]
#[ignore = "needs the Node clients `cargo xtask test` installs"]
fn the_typescript_client_resumes_and_mirrors_headers_over_http() {
    over_http(Peer::TypeScript);
}

#[test]
#[ignore = "needs the Python client `cargo xtask test` installs"]
fn the_python_client_resumes_over_stdio() {
    check(&Peer::Python.run(None), false);
}

#[test]
#[ignore = "needs the Python client `cargo xtask test` installs"]
fn the_python_client_resumes_and_mirrors_headers_over_http() {
    over_http(Peer::Python);
}
