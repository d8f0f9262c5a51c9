//! `cargo mcp new`: the projects it generates for each transport and authentication, the names and folders
//! it refuses, and generated projects built, tested and scanned offline.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use mcp_tests::{NetworkServer, cargo_command, cli_bin, workspace_root};
use serde_json::Value;

/// A scratch folder, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cli-new-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("the scratch folder is created");
        Self(dir)
    }

    /// The names in the folder, sorted.
    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `cargo-mcp mcp new ARGS…` in `dir`, the way cargo runs it for `cargo mcp new ARGS…`.
fn cargo_mcp_new(dir: &Path, args: &[&str]) -> Output {
    Command::new(cli_bin()).args(["mcp", "new"]).args(args).current_dir(dir).output().expect("cargo-mcp runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn toml_file(path: &Path) -> toml::Table {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).parse().unwrap()
}

/// The three combinations that differ most: stdio without authentication, Streamable HTTP with API keys,
/// legacy SSE with JWTs.
const COMBINATIONS: [(&str, &str, &str); 3] =
    [("stdio", "none", "none"), ("http", "api-key", "api-key"), ("sse", "jwt", "jwt")];

#[test]
fn each_transport_and_authentication_gets_a_complete_project_with_secure_defaults() {
    let scratch = Scratch::new("combinations");
    let runtime = workspace_root().join("mcp-runtime").canonicalize().unwrap();
    for (transport, auth, strategy) in COMBINATIONS {
        let parent = scratch.0.join(format!("{transport}-{auth}"));
        fs::create_dir(&parent).unwrap();
        let output = cargo_mcp_new(&parent, &["demo", "--transport", transport, "--auth", auth]);
        assert!(output.status.success(), "{transport}/{auth}: {}", stderr(&output));
        let dir = parent.join("demo");
        for file in [
            "Cargo.toml",
            "src/main.rs",
            "mcp.toml",
            ".env.example",
            "README.md",
            ".gitignore",
            ".github/workflows/ci.yml",
        ] {
            assert!(dir.join(file).is_file(), "{transport}/{auth}: {file} is missing");
        }
        assert_eq!(dir.join("keys.example.toml").is_file(), auth == "api-key");

        let manifest = toml_file(&dir.join("Cargo.toml"));
        assert_eq!(manifest["package"]["name"].as_str(), Some("demo"));
        assert_eq!(manifest["dependencies"]["mcp-runtime"]["path"].as_str(), runtime.to_str(), "this checkout");
        assert!(manifest["workspace"].as_table().is_some_and(toml::Table::is_empty), "a workspace of its own");

        let config = toml_file(&dir.join("mcp.toml"));
        assert_eq!(config["transport"]["kind"].as_str(), Some(transport));
        assert_eq!(config["security"]["strategy"].as_str(), Some(strategy));
        if transport != "stdio" {
            assert_eq!(config["transport"]["bind"].as_str(), Some("127.0.0.1:8080"), "loopback");
            assert_eq!(config["http"]["cors_origins"].as_array().map(Vec::len), Some(0));
        }
        assert_eq!(config["audit"]["destination"].as_str(), Some("auto"));
        // Secrets by reference only.
        match auth {
            "api-key" => assert_eq!(config["security"]["keys"].as_str(), Some("${file:keys.toml}")),
            "jwt" => {
                let jwt = &config["security"]["jwt"];
                assert_eq!(jwt["public_key"].as_str(), Some("${env:JWT_PUBLIC_KEY}"));
                assert_eq!(jwt["audience"][0].as_str(), Some("demo"));
            }
            _ => {}
        }

        let main = fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("#[mcp_server(config = \"mcp.toml\")]"));
        assert_eq!(main.contains(r#"scopes = ["demo:read"]"#), auth != "none", "scopes come with authentication");
        let env = fs::read_to_string(dir.join(".env.example")).unwrap();
        match auth {
            "api-key" => assert!(env.contains("MCP_CLIENT_KEY=") && env.contains("--hash-key"), "{env}"),
            "jwt" => assert!(env.contains("JWT_PUBLIC_KEY=") && env.contains("MCP_CLIENT_TOKEN="), "{env}"),
            _ => {}
        }
        let ci = fs::read_to_string(dir.join(".github/workflows/ci.yml")).unwrap();
        assert!(ci.contains("cargo test"), "{ci}");
        assert!(ci.contains("cargo mcp scan --config mcp.toml --format sarif --fail-on high -- target/debug/demo"));
        assert!(ci.contains("upload-sarif"));
        let readme = fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(readme.contains("cargo mcp call greet"), "{readme}");
        assert!(!fs::read_dir(&parent).unwrap().any(|e| e.unwrap().file_name() != "demo"), "no temporary folder left");
    }
}

#[test]
fn an_existing_folder_and_invalid_names_are_refused_and_nothing_is_written() {
    let scratch = Scratch::new("refusals");
    fs::create_dir(scratch.0.join("demo")).unwrap();
    fs::write(scratch.0.join("demo/notes.txt"), "mine").unwrap();
    let output = cargo_mcp_new(&scratch.0, &["demo"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("already exists"), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(scratch.0.join("demo/notes.txt")).unwrap(), "mine");
    assert_eq!(fs::read_dir(scratch.0.join("demo")).unwrap().count(), 1, "the folder is untouched");

    let output = cargo_mcp_new(&scratch.0, &["other", "--path", "demo"]);
    assert_eq!(output.status.code(), Some(2), "--path to an existing folder: {}", stderr(&output));

    for (name, reason) in
        [("1abc", "starts with '1'"), ("self", "keyword"), ("a b", "contains ' '"), ("test", "reserved")]
    {
        let output = cargo_mcp_new(&scratch.0, &[name]);
        assert_eq!(output.status.code(), Some(2), "{name:?}");
        let message = stderr(&output);
        assert!(message.contains("invalid project name") && message.contains(reason), "{name:?}: {message}");
    }
    let output = cargo_mcp_new(&scratch.0, &["fine", "--path", "no/such/parent/fine"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(scratch.entries(), ["demo"], "nothing was written");
}

/// The folder cargo builds this workspace into: `target`, above `target/<profile>/deps/<this test>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).expect("tests run from target/<profile>/deps").to_owned()
}

/// Runs cargo offline in a generated project, into this workspace's target folder: the project depends on
/// this checkout's mcp-runtime, so with the same dependency versions, features and profile the workspace
/// has already built everything but the project itself. The environment is this test process's, as for
/// `mcp_tests::bin`'s build just before: some build scripts (ring's) rerun when variables such as
/// `CARGO_MANIFEST_DIR` change, and a rerun rebuilds every crate above them.
fn cargo_offline(dir: &Path, args: &[&str]) -> Output {
    cargo_command()
        .args(args)
        .arg("--offline")
        // The workspace's dev profile (.cargo/config.toml): debug info in line tables for its own crates, none for
        // the others. A different profile is a different build of every dependency.
        .args(["--config", r#"profile.dev.debug="line-tables-only""#])
        .args(["--config", r#"profile.dev.package."*".debug=false"#])
        .args(["--config", r#"profile.dev.package.mcp-runtime.debug="line-tables-only""#])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .current_dir(dir)
        .output()
        .expect("cargo runs")
}

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(cli_bin()).arg("mcp").args(args).current_dir(dir).output().expect("cargo-mcp runs")
}

#[test]
fn generated_projects_build_and_pass_their_own_tests_offline() {
    let scratch = Scratch::new("build");
    let bin = target_dir().join("debug/demo");
    for (i, (transport, auth, strategy)) in COMBINATIONS.into_iter().enumerate() {
        let parent = scratch.0.join(format!("{transport}-{auth}"));
        fs::create_dir(&parent).unwrap();
        let output = cargo_mcp_new(&parent, &["demo", "--transport", transport, "--auth", auth]);
        assert!(output.status.success(), "{}", stderr(&output));
        let dir = parent.join("demo");
        // The workspace's lock file pins every dependency to the version the workspace built, so the
        // project resolves offline and reuses those builds (a fresh resolution could pick newer versions,
        // which are neither downloaded nor built here).
        fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

        let started = Instant::now();
        if i == 1 {
            // One project runs its own tests: the tool called directly, through the corridor in-process,
            // and its bundled configuration loaded.
            let test = cargo_offline(&dir, &["test"]);
            let out = String::from_utf8_lossy(&test.stdout);
            assert!(test.status.success(), "cargo test failed:\n{out}\n{}", stderr(&test));
            assert!(out.contains("test result: ok. 3 passed"), "{out}");
        }
        let build = cargo_offline(&dir, &["build"]);
        assert!(build.status.success(), "{transport}/{auth}: cargo build failed:\n{}", stderr(&build));
        eprintln!("{transport}/{auth}: built (and tested) in {:?}", started.elapsed());

        // The binary serves the configuration the project ships.
        let printed = Command::new(&bin).arg("--print-config").current_dir(&dir).output().unwrap();
        assert!(printed.status.success(), "{}", stderr(&printed));
        let effective: toml::Table = String::from_utf8(printed.stdout).unwrap().parse().unwrap();
        assert_eq!(effective["transport"]["kind"].as_str(), Some(transport));
        assert_eq!(effective["security"]["strategy"].as_str(), Some(strategy));

        // And advertises its tool with a constrained, closed schema.
        let manifest = Command::new(&bin).arg("--print-manifest").current_dir(&dir).output().unwrap();
        assert!(manifest.status.success(), "{}", stderr(&manifest));
        let manifest: Value = serde_json::from_slice(&manifest.stdout).unwrap();
        let greet = &manifest["tools"][0];
        assert_eq!(greet["name"], "greet");
        assert_eq!(greet["annotations"]["readOnlyHint"], true);
        assert_eq!(greet["inputSchema"]["additionalProperties"], false);
        assert_eq!(greet["inputSchema"]["properties"]["name"]["maxLength"], 64);
        assert_eq!(greet["inputSchema"]["required"], serde_json::json!(["name"]));

        if auth == "api-key" {
            serve_and_call(&dir, &bin);
        }

        // Its own CI gate: no finding of high severity or worse.
        let scan = cli(&dir, &["scan", "--config", "mcp.toml", "--fail-on", "high", "--", bin.to_str().unwrap()]);
        assert!(
            scan.status.success(),
            "{transport}/{auth}: cargo mcp scan found something:\n{}\n{}",
            String::from_utf8_lossy(&scan.stdout),
            stderr(&scan)
        );
    }
    let _ = fs::remove_file(&bin);
}

/// Serves the generated API-key project over Streamable HTTP with a key file made the way its README says
/// (`--hash-key`), and calls its tool with `cargo mcp call`: with the key, and with a wrong one.
fn serve_and_call(dir: &Path, bin: &Path) {
    let key = "cli-new-test-key-5d8c1f0e9a7b";
    let mut hashing = Command::new(bin).arg("--hash-key").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    hashing.stdin.take().unwrap().write_all(key.as_bytes()).unwrap();
    let digest = hashing.wait_with_output().unwrap();
    assert!(digest.status.success());
    let digest = String::from_utf8(digest.stdout).unwrap();
    let example = fs::read_to_string(dir.join("keys.example.toml")).unwrap();
    let placeholder = format!("sha256:{}", "0".repeat(64));
    assert!(example.contains(&placeholder), "{example}");
    fs::write(dir.join("keys.toml"), example.replace(&placeholder, digest.trim())).unwrap();
    // mcp.toml says `${file:keys.toml}`, relative to the working directory, which here is the test's.
    let keys = format!("${{file:{}}}", dir.join("keys.toml").display());
    let mut server = NetworkServer::start_with(bin, "http", &[("MCP_SECURITY__KEYS", keys.as_str())]);
    let url = format!("{}/mcp", server.base);
    let call = |key: &str| {
        let header = format!("Authorization: Bearer {key}");
        cli(dir, &["call", "greet", "name=Ada", "times=2", "--url", &url, "--header", &header])
    };
    let called = call(key);
    let out = String::from_utf8_lossy(&called.stdout);
    assert!(called.status.success(), "{out}\n{}", stderr(&called));
    assert!(out.contains("Hello, Ada! Hello, Ada!"), "{out}");
    let refused = call("not-the-key");
    assert!(!refused.status.success(), "a wrong key is refused: {}", String::from_utf8_lossy(&refused.stdout));
    assert!(server.logged("authentication failed"), "{}", server.logs());
    server.terminate();
}
