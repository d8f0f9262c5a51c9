//! Project automation (filled in with the test runner).
fn main() {}
