//! Compile-time truth of the macros: every `fail` case must fail with the blessed diagnostics
//! (`tests/ui/<macro>/fail/*.stderr`), every `pass` case must compile. Bless with
//! `TRYBUILD=overwrite cargo test -p mcp-tests --test ui` and review the diff. The `.stderr` files are
//! blessed with the toolchain this machine and CI use (rustc 1.95); another compiler may word them
//! differently.

#[test]
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are blessed with rustc 1.95; bless again for another compiler"
)]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/*/pass/*.rs");
    cases.compile_fail("ui/*/fail/*.rs");
}
