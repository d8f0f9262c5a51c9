//! Which names a new project may have: a Cargo package name that also makes a usable crate and binary name.

/// The longest name accepted (crates.io's limit).
pub(super) const MAX_LEN: usize = 64;

/// Rust's keywords in every edition, strict and reserved: a crate cannot be named after one.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
    "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names that collide with something else: the standard crates and the test harness, the folders cargo
/// keeps beside binaries in `target/debug`, the dependencies the template declares, and names Windows
/// cannot give a folder.
const RESERVED: &[&str] = &[
    "alloc",
    "core",
    "proc_macro",
    "std",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "mcp_runtime",
    "mcp_macros",
    "schemars",
    "serde",
    "tokio",
    "con",
    "prn",
    "aux",
    "nul",
    "com1",
    "com2",
    "com3",
    "com4",
    "com5",
    "com6",
    "com7",
    "com8",
    "com9",
    "lpt1",
    "lpt2",
    "lpt3",
    "lpt4",
    "lpt5",
    "lpt6",
    "lpt7",
    "lpt8",
    "lpt9",
];

/// Checks `name`; the error says what is wrong with it.
pub(super) fn validate(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("the name is empty".to_owned());
    };
    if name.len() > MAX_LEN {
        return Err(format!("`{name}` is longer than {MAX_LEN} characters"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(format!("`{name}` contains {bad:?}: use ASCII letters, digits, `-` and `_`"));
    }
    if !first.is_ascii_alphabetic() {
        return Err(format!("`{name}` starts with {first:?}: a name starts with an ASCII letter"));
    }
    // The crate's name is the package's with `-` as `_`: `my-self` is fine, `self` is not.
    let crate_name = name.replace('-', "_");
    if KEYWORDS.contains(&crate_name.as_str()) {
        return Err(format!("`{name}` is a Rust keyword"));
    }
    if RESERVED.contains(&crate_name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "`{name}` is reserved: it would collide with a crate, a dependency or a folder of that name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_accepted() {
        for name in ["demo", "a", "inventory-gateway", "my_server2", "Demo", "self-service", "test_tools"] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
        assert_eq!(validate(&"a".repeat(MAX_LEN)), Ok(()));
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        for (name, reason) in [
            ("", "empty"),
            ("1abc", "starts with '1'"),
            ("-demo", "starts with '-'"),
            ("_demo", "starts with '_'"),
            ("a b", "contains ' '"),
            ("démo", "contains 'é'"),
            ("a/b", "contains '/'"),
            ("a.b", "contains '.'"),
            ("self", "keyword"),
            ("async", "keyword"),
            ("Self", "keyword"),
            ("test", "reserved"),
            ("std", "reserved"),
            ("core", "reserved"),
            ("proc-macro", "reserved"),
            ("mcp-runtime", "reserved"),
            ("serde", "reserved"),
            ("deps", "reserved"),
            ("CON", "reserved"),
        ] {
            let error = validate(name).expect_err(name);
            assert!(error.contains(reason), "{name}: {error}");
        }
        assert!(validate(&"a".repeat(MAX_LEN + 1)).unwrap_err().contains("longer than 64"));
    }
}
