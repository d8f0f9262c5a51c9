//! The audit trail against the security review: results redacted whatever the revision, credentials
//! redacted under any spelling, an argument digest no one can reverse without the key, a keyed hash chain
//! anchored across rotation and closed by signed checkpoints (checked by the library, `--verify-audit` and
//! `cargo mcp audit verify`), and a file sink that never removes a file it did not create.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::path::{Path, PathBuf};
use std::process::Command;

use mcp_runtime::Pipeline;
use mcp_runtime::audit::{ChainKey, VerifyError, verify_with};
use mcp_runtime::config::{Config, SecretRef};
use mcp_runtime::prelude::*;
use mcp_tests::{Harness, cli_bin, inventory_bin};
use serde_json::{Value, json};

const HMAC_KEY: &str = "audit-hardening-hmac-key";
const EMAIL: &str = "ada@example.com";
const PHONE: &str = "+1-555-0100";

/// A customer's profile.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Profile {
    name: String,
    email: String,
    phone: String,
}

/// Looks a customer up.
#[mcp_tool]
async fn profile(customer: String) -> Json<Profile> {
    Json(Profile { name: customer, email: EMAIL.to_owned(), phone: PHONE.to_owned() })
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-audit-hardening-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Audit to `dir/audit.log` with results and `email`/`phone` redacted; keyed by `dir/hmac` when `keyed`.
fn config(dir: &Path, keyed: bool) -> Config {
    let mut config = Config::default();
    config.audit.destination = format!("file:{}", dir.join("audit.log").display());
    config.audit.results = true;
    config.audit.redact_fields.extend(["email".to_owned(), "phone".to_owned()]);
    if keyed {
        std::fs::write(dir.join("hmac"), format!("{HMAC_KEY}\n")).unwrap();
        config.audit.redact_key = Some(SecretRef::File(dir.join("hmac")));
    }
    config
}

/// Serves `config` under `version`, runs `calls` (tool arguments) one after another, then closes the
/// input: the server drains and flushes its audit trail before `finished` returns.
async fn run(config: Config, version: &str, calls: &[Value]) {
    let mut h = Harness::serve(Server::new("audited", "0").tool(profile::SPEC).config(config)).await;
    h.initialize(version).await;
    for (id, arguments) in calls.iter().enumerate() {
        h.request(id as i64 + 1, "tools/call", json!({"name": "profile", "arguments": arguments})).await;
    }
    h.close_input().await;
    h.finished().await.unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

fn records(path: &Path) -> Vec<Value> {
    lines(path)
        .iter()
        .filter(|l| !l.starts_with(r#"{"checkpoint""#))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Review item 2: before 2025-06-18 the structured result reached the record only as its JSON text mirror,
/// which redaction did not look into.
#[tokio::test]
async fn results_are_redacted_whatever_the_revision() {
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let dir = temp(&format!("results-{version}"));
        run(config(&dir, false), version, &[json!({"customer": "Ada"})]).await;
        let file = dir.join("audit.log");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(EMAIL) && !text.contains("555-0100"), "{version}: PII in the record: {text}");
        let call = records(&file).into_iter().find(|r| r["tool"] == "profile").expect("the call's record");
        assert!(call["result"].to_string().contains("Ada"), "{version}: the rest of the result is kept: {call}");
        // Review item 3: without a key there is no digest of the arguments to guess from.
        assert_eq!(call["arguments_sha256"], Value::Null, "{version}: {call}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Review items 4 and 3: credentials under the spellings tools use, redacted by the default names; a
/// measure (`token_count`) kept; the digest of the arguments keyed.
#[tokio::test]
async fn credentials_under_any_spelling_are_redacted() {
    let dir = temp("names");
    let secrets = [
        ("access_token", "s-access-1f"),
        ("refreshToken", "s-refresh-2e"),
        ("client_secret", "s-client-3d"),
        ("new_password", "s-newpw-4c"),
        ("passwd", "s-passwd-5b"),
        ("private_key", "s-private-6a"),
        ("x-api-key", "s-apikey-79"),
        ("Authorization", "s-authz-88"),
        ("cookie", "s-cookie-97"),
        ("sessionId", "s-session-a6"),
    ];
    let mut arguments = json!({"customer": "Ada", "token_count": 12});
    for (name, value) in secrets {
        arguments[name] = json!(value);
    }
    run(config(&dir, true), "2025-11-25", &[arguments]).await;
    let file = dir.join("audit.log");
    let text = std::fs::read_to_string(&file).unwrap();
    for (name, value) in secrets {
        assert!(!text.contains(value), "{name} is in the audit file: {text}");
    }
    let call = records(&file).into_iter().find(|r| r["tool"] == "profile").unwrap();
    assert_eq!(call["reason"], "invalid_arguments", "unknown arguments are refused, and still recorded");
    assert_eq!(call["arguments"]["customer"], "Ada");
    assert_eq!(call["arguments"]["token_count"], 12, "a measure is kept");
    assert!(call["arguments"]["access_token"].as_str().unwrap().starts_with("hmac-sha256:"));
    assert_eq!(call["arguments_sha256"].as_str().map(str::len), Some(64), "keyed digest: {call}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs enough calls through a chained, keyed file sink that rotates every few records; returns the
/// files, oldest first.
async fn rotated_chain(dir: &Path) -> Vec<PathBuf> {
    let mut config = config(dir, true);
    config.audit.hash_chain = true;
    config.audit.max_file_bytes = 2500;
    config.audit.keep_files = 20;
    let calls: Vec<Value> = (0..16).map(|n| json!({"customer": format!("customer-{n}")})).collect();
    run(config, "2025-11-25", &calls).await;
    let live = dir.join("audit.log");
    let mut files: Vec<PathBuf> =
        (1..=20).rev().map(|n| dir.join(format!("audit.log.{n}"))).filter(|p| p.exists()).collect();
    files.push(live);
    files
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

fn broken_line(result: Result<mcp_runtime::audit::Verified, VerifyError>) -> usize {
    match result {
        Err(VerifyError::Broken { line, .. }) => line,
        other => panic!("expected a broken line, got {other:?}"),
    }
}

/// Review item 6: the chain is keyed, each rotated file is anchored to the one before and closed by a
/// signed checkpoint, and every cut the review named is reported.
#[tokio::test]
async fn the_chain_is_keyed_anchored_across_rotation_and_closed() {
    let dir = temp("chain");
    let files = rotated_chain(&dir).await;
    assert!(files.len() >= 3, "the file rotated at least twice: {files:?}");
    let key = ChainKey::new(HMAC_KEY.as_bytes());
    let mut total = 0;
    for (i, file) in files.iter().enumerate() {
        let verified = verify_with(file, &key).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(verified.keyed);
        total += verified.records;
        assert_eq!(verified.chain_length, total as u64, "{}: counted since the genesis", file.display());
        if i > 0 {
            // The rotation's checkpoint closes the old file and opens the new one.
            assert_eq!(lines(&files[i - 1]).last(), lines(file).first(), "{} is anchored", file.display());
        }
    }
    assert_eq!(total, 17, "initialize and 16 calls, each recorded once");

    let live = files.last().unwrap();
    let oldest = &files[0];
    let live_lines = lines(live);
    let tampered = dir.join("tampered.log");

    // Without the key, or under another key (a file forged without the key), nothing verifies.
    let error = verify_with(live, &ChainKey::unkeyed()).unwrap_err().to_string();
    assert!(error.starts_with("line 1:") && error.contains("give its key"), "{error}");
    assert_eq!(broken_line(verify_with(live, &ChainKey::new(b"a guessed key"))), 1);
    assert_eq!(broken_line(verify_with(oldest, &ChainKey::new(b"a guessed key"))), 1);

    // Head truncation: the oldest file's first record, or a rotated file's anchor.
    write_lines(&tampered, &lines(oldest)[1..]);
    assert_eq!(broken_line(verify_with(&tampered, &key)), 1, "the head of the first file");
    write_lines(&tampered, &live_lines[1..]);
    assert_eq!(broken_line(verify_with(&tampered, &key)), 1, "the anchor of a rotated file");

    // Tail truncation: the closing checkpoint alone, or with the records before it, back to the anchor.
    for cut in 1..live_lines.len() {
        write_lines(&tampered, &live_lines[..live_lines.len() - cut]);
        match verify_with(&tampered, &key) {
            Err(e @ VerifyError::Unclosed { .. }) => assert!(e.to_string().contains("no closing checkpoint"), "{e}"),
            other => panic!("a cut tail ({cut} lines) must be reported, got {other:?}"),
        }
    }

    // A record removed inside, two swapped, one edited (in a rotated file: anchor, records, checkpoint).
    let live_lines = lines(&files[1]);
    assert!(live_lines.len() >= 4, "{live_lines:?}");
    let mut removed = live_lines.clone();
    removed.remove(2);
    write_lines(&tampered, &removed);
    assert_eq!(broken_line(verify_with(&tampered, &key)), 3);
    let mut swapped = live_lines.clone();
    swapped.swap(1, 2);
    write_lines(&tampered, &swapped);
    assert_eq!(broken_line(verify_with(&tampered, &key)), 2);
    let mut edited = live_lines.clone();
    edited[1] = edited[1].replacen(r#""reason":"ok""#, r#""reason":"forbidden""#, 1);
    assert_ne!(edited[1], live_lines[1]);
    write_lines(&tampered, &edited);
    assert_eq!(broken_line(verify_with(&tampered, &key)), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--verify-audit` reads the server's own configuration for the key; `cargo mcp audit verify` takes it
/// from a file, a variable or that configuration.
#[tokio::test]
async fn both_verifiers_take_the_servers_key() {
    let dir = temp("verifiers");
    let files = rotated_chain(&dir).await;
    let live = files.last().unwrap().clone();
    let server_config = dir.join("server.toml");
    std::fs::write(&server_config, format!("[audit]\nredact_key = \"${{file:{}}}\"\n", dir.join("hmac").display()))
        .unwrap();

    let out =
        Command::new(inventory_bin()).arg("--config").arg(&server_config).arg("--verify-audit").arg(&live).output();
    let out = out.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("(keyed;"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(inventory_bin()).arg("--verify-audit").arg(&live).output().unwrap();
    assert!(!out.status.success(), "the bundled configuration has no key: the keyed chain does not verify");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));

    let cli = |args: &[&str], file: &Path| {
        Command::new(cli_bin())
            .args(["mcp", "audit", "verify"])
            .args(args)
            .arg(file)
            .env("AUDIT_KEY_FOR_TEST", HMAC_KEY)
            .output()
            .unwrap()
    };
    let hmac = dir.join("hmac").display().to_string();
    let config = server_config.display().to_string();
    for args in
        [&["--key-file", hmac.as_str()][..], &["--key-env", "AUDIT_KEY_FOR_TEST"], &["--config", config.as_str()]]
    {
        let out = cli(args, &live);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = cli(&[], &live);
    assert_eq!(out.status.code(), Some(1), "no key given: the keyed chain does not verify");

    let mut cut = lines(&live);
    cut.pop();
    let tampered = dir.join("tampered.log");
    write_lines(&tampered, &cut);
    let out = cli(&["--key-file", hmac.as_str()], &tampered);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no closing checkpoint"));
    let out = Command::new(inventory_bin())
        .arg("--config")
        .arg(&server_config)
        .arg("--verify-audit")
        .arg(&tampered)
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no closing checkpoint"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Review item 1 (audit part): `destination = "file:<victim>"`, `max_file_bytes = 1`, `keep_files = 0`
/// deleted the victim at the first rotation; a victim at a rotated name was overwritten.
#[tokio::test]
async fn rotation_never_removes_a_file_it_did_not_create() {
    let dir = temp("victims");
    let victim = dir.join("notes.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let mut config = config(&dir, false);
    config.audit.destination = format!("file:{}", victim.display());
    config.audit.max_file_bytes = 1;
    config.audit.keep_files = 0;
    let refused = Pipeline::build(Server::new("audited", "0").tool(profile::SPEC).config(config.clone()));
    let Err(error) = refused else { panic!("a file that is not an audit trail is refused") };
    let error = error.to_string();
    assert!(error.contains("not an audit trail"), "{error}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

    // A file of someone else's at the name rotation would use: left alone, the audit file kept.
    let rotated = dir.join("audit.log.1");
    std::fs::write(&rotated, "precious\n").unwrap();
    config.audit.destination = format!("file:{}", dir.join("audit.log").display());
    config.audit.keep_files = 1;
    run(config, "2025-11-25", &[json!({"customer": "a"}), json!({"customer": "b"})]).await;
    assert_eq!(std::fs::read_to_string(&rotated).unwrap(), "precious\n");
    assert!(records(&dir.join("audit.log")).len() >= 3, "the records stay in the audit file");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("audit.log")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the audit file is its owner's only");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
