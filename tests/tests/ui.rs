//! Compile-time truth of the macros: every `fail` case must fail with the blessed diagnostics
//! (`tests/ui/<macro>/fail/*.stderr`), every `pass` case must compile. Bless with
//! `TRYBUILD=overwrite cargo test -p mcp-tests --test ui` and review the diff. The `.stderr` files are
//! blessed with the toolchain this machine and CI use (rustc 1.95); another compiler may word them
//! differently.

use std::process::Command;

/// The flags trybuild 1.0 gives rustc for a case: `--cfg trybuild --verbose -A dead_code` (its
/// `rustflags.rs`) and `--diagnostic-width=140` (its `cargo.rs`), in `CARGO_ENCODED_RUSTFLAGS`' form.
const CASE_FLAGS: &str = "--cfg\u{1f}trybuild\u{1f}--verbose\u{1f}-A\u{1f}dead_code\u{1f}--diagnostic-width=140";

/// trybuild first builds every dependency with its flags, then each case with one more
/// (`--diagnostic-width=140`): to cargo, other flags are another build, so every dependency was built twice
/// (half the test's time). The cases run in a child of this test with the case flags in
/// `CARGO_ENCODED_RUSTFLAGS`, which outranks the flags trybuild passes as configuration: one build of the
/// dependencies serves every case, and the flags, so the diagnostics, are the ones trybuild would use.
#[test]
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are blessed with rustc 1.95; bless again for another compiler"
)]
fn ui() {
    let output = Command::new(std::env::current_exe().expect("the test knows its own path"))
        .args(["cases", "--exact", "--include-ignored", "--nocapture"])
        .env("CARGO_ENCODED_RUSTFLAGS", CASE_FLAGS)
        .output()
        .expect("the test runs itself");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "a UI case failed (above)");
}

/// The cases themselves; only `ui` runs them (anywhere else this returns at once).
#[test]
#[ignore = "run by `ui`, with the flags it sets"]
fn cases() {
    if std::env::var("CARGO_ENCODED_RUSTFLAGS").ok().as_deref() != Some(CASE_FLAGS) {
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.pass("ui/*/pass/*.rs");
    cases.compile_fail("ui/*/fail/*.rs");
}
