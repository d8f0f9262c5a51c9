//! The project's files: templates under `mcp-cli/templates/new/`, compiled in, with `{{key}}` placeholders.
//!
//! What differs between transports and authentication strategies is chosen here, in Rust, by picking
//! among template pieces; the templates themselves hold no logic.

use super::{Auth, Transport};

/// Where the project takes mcp-runtime from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Runtime {
    /// A local checkout: `mcp-runtime = { path = "…" }` (absolute, UTF-8).
    Path(String),
    /// A published version requirement: `mcp-runtime = "…"`.
    Version(String),
}

/// What to generate.
#[derive(Debug, Clone)]
pub(super) struct Project {
    /// The package name (already validated).
    pub(super) name: String,
    /// The default transport.
    pub(super) transport: Transport,
    /// The authentication strategy.
    pub(super) auth: Auth,
    /// The runtime dependency.
    pub(super) runtime: Runtime,
}

macro_rules! template {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/new/", $path))
    };
}

impl Project {
    /// Every file of the project: its path relative to the project's folder, and its contents.
    pub(super) fn files(&self) -> Vec<(&'static str, String)> {
        let vars = self.vars();
        let mut files = vec![
            ("Cargo.toml", render(template!("Cargo.toml.tmpl"), &vars)),
            ("src/main.rs", render(template!("main.rs.tmpl"), &vars)),
            ("mcp.toml", self.mcp_toml(&vars)),
            (".env.example", self.env_example(&vars)),
            ("README.md", self.readme(&vars)),
            (".gitignore", render(template!("gitignore.tmpl"), &vars)),
            (".github/workflows/ci.yml", render(template!("ci.yml.tmpl"), &vars)),
        ];
        if self.auth == Auth::ApiKey {
            files.push(("keys.example.toml", render(template!("keys.example.toml"), &vars)));
        }
        files
    }

    /// The values of the placeholders every template may use.
    fn vars(&self) -> Vec<(&'static str, String)> {
        let name = &self.name;
        let (runtime_dependency, install_cli, ci_runtime_note) = match &self.runtime {
            Runtime::Path(path) => (
                format!("mcp-runtime = {{ path = {} }}", toml_string(path)),
                "cargo install --locked mcp-cli".to_owned(),
                "\n#\n# Cargo.toml takes mcp-runtime from a local checkout, which a runner does not have: point it at a\n\
                 # published version or a git repository first (README.md, \"Dependencies\")."
                    .to_owned(),
            ),
            Runtime::Version(version) => (
                format!("mcp-runtime = {}", toml_string(version)),
                format!("cargo install --locked mcp-cli --version {}", shell_word(version)),
                String::new(),
            ),
        };
        let tool_attributes = match self.auth {
            Auth::None => r#"rate = "30/min", read_only"#.to_owned(),
            Auth::ApiKey | Auth::Jwt => format!(r#"rate = "30/min", scopes = ["{name}:read"], read_only"#),
        };
        let (serve_hint, transport_variant, audit_auto) = match self.transport {
            Transport::Stdio => ("on stdin/stdout", "Stdio", "stderr, as stdout carries the protocol"),
            Transport::Http => ("over Streamable HTTP on `http://127.0.0.1:8080/mcp`", "Http", "stdout"),
            Transport::Sse => ("over legacy HTTP+SSE on `http://127.0.0.1:8080/sse`", "Sse", "stdout"),
        };
        let auth_variant = match self.auth {
            Auth::None => "None",
            Auth::ApiKey => "ApiKey",
            Auth::Jwt => "Jwt",
        };
        vec![
            ("name", name.clone()),
            ("runtime_dependency", runtime_dependency),
            ("install_cli", install_cli),
            ("ci_runtime_note", ci_runtime_note),
            ("tool_attributes", tool_attributes),
            ("serve_hint", serve_hint.to_owned()),
            ("transport_variant", transport_variant.to_owned()),
            ("auth_variant", auth_variant.to_owned()),
            ("audit_auto", audit_auto.to_owned()),
        ]
    }

    fn mcp_toml(&self, vars: &[(&'static str, String)]) -> String {
        let transport = match self.transport {
            Transport::Stdio => template!("mcp/transport-stdio.toml"),
            Transport::Http => template!("mcp/transport-http.toml"),
            Transport::Sse => template!("mcp/transport-sse.toml"),
        };
        let security = match self.auth {
            Auth::None => template!("mcp/security-none.toml"),
            Auth::ApiKey => template!("mcp/security-api-key.toml"),
            Auth::Jwt => template!("mcp/security-jwt.toml"),
        };
        [template!("mcp/head.toml"), transport, security, template!("mcp/tail.toml")]
            .iter()
            .map(|piece| render(piece, vars))
            .collect()
    }

    fn env_example(&self, vars: &[(&'static str, String)]) -> String {
        let auth = match self.auth {
            Auth::None => template!("env/none.env"),
            Auth::ApiKey => template!("env/api-key.env"),
            Auth::Jwt => template!("env/jwt.env"),
        };
        render(template!("env/head.env"), vars) + &render(auth, vars)
    }

    fn readme(&self, vars: &[(&'static str, String)]) -> String {
        let stdio = self.transport == Transport::Stdio;
        let (auth_text, run_first, run_env, call_env, call_header) = match self.auth {
            Auth::None => ("callers are not authenticated (loopback only)", "", "", "", ""),
            Auth::ApiKey => (
                "every caller presents an API key",
                "First make a key and put its digest into `keys.toml` (Security, below); then\n\n",
                if stdio { "MCP_CLIENT_KEY=$KEY " } else { "" },
                "MCP_CLIENT_KEY=$KEY ",
                r#" --header "Authorization: Bearer $KEY""#,
            ),
            Auth::Jwt => (
                "every caller presents a JWT",
                "First set `security.jwt.issuer` in `mcp.toml` and get your identity provider's public key \
                 (Security, below); then\n\n",
                if stdio {
                    r#"JWT_PUBLIC_KEY="$(cat idp-public.pem)" MCP_CLIENT_TOKEN=$TOKEN "#
                } else {
                    r#"JWT_PUBLIC_KEY="$(cat idp-public.pem)" "#
                },
                r#"JWT_PUBLIC_KEY="$(cat idp-public.pem)" MCP_CLIENT_TOKEN=$TOKEN "#,
                r#" --header "Authorization: Bearer $TOKEN""#,
            ),
        };
        let (transport_text, run, call, none_scope) = match self.transport {
            Transport::Stdio => (
                "MCP on stdin/stdout",
                template!("readme/run-stdio.md"),
                template!("readme/call-stdio.md"),
                "trusts whoever starts it",
            ),
            Transport::Http => (
                "Streamable HTTP on `http://127.0.0.1:8080/mcp`",
                template!("readme/run-http.md"),
                template!("readme/call-http.md"),
                NETWORK_WITHOUT_AUTH,
            ),
            Transport::Sse => (
                "legacy HTTP+SSE on `http://127.0.0.1:8080/sse`",
                template!("readme/run-sse.md"),
                template!("readme/call-sse.md"),
                NETWORK_WITHOUT_AUTH,
            ),
        };
        let security = match self.auth {
            Auth::None => template!("readme/security-none.md"),
            Auth::ApiKey => template!("readme/security-api-key.md"),
            Auth::Jwt => template!("readme/security-jwt.md"),
        };
        let runtime_path = match &self.runtime {
            Runtime::Path(path) => path.as_str(),
            Runtime::Version(_) => "",
        };
        let mut vars = vars.to_vec();
        vars.extend([
            ("run_first", run_first.to_owned()),
            ("run_env", run_env.to_owned()),
            ("call_env", call_env.to_owned()),
            ("call_header", call_header.to_owned()),
            ("none_scope", none_scope.to_owned()),
            ("runtime_path", runtime_path.to_owned()),
        ]);
        let keys_row = if self.auth == Auth::ApiKey {
            "\n| `keys.example.toml` | the shape of `keys.toml`, which holds the API keys' digests |".to_owned()
        } else {
            String::new()
        };
        let runtime_note = match &self.runtime {
            Runtime::Path(_) => render(template!("readme/runtime-path.md"), &vars),
            Runtime::Version(_) => String::new(),
        };
        let pieces = [
            ("transport_text", transport_text.to_owned()),
            ("auth_text", auth_text.to_owned()),
            ("keys_row", keys_row),
            ("run", render(run, &vars)),
            ("call", render(call, &vars)),
            ("security", render(security, &vars)),
            ("runtime_note", runtime_note),
        ];
        vars.extend(pieces);
        render(template!("readme/main.md"), &vars)
    }
}

/// What README.md says of a network transport without authentication.
const NETWORK_WITHOUT_AUTH: &str = "listens on loopback only, where any local process or web page that reaches the \
    port can call every tool: `cargo mcp scan` reports it (high), so CI fails until you choose another strategy";

/// Replaces each `{{key}}` (`key`: lower-case letters and `_`) with its value; other text, GitHub's
/// `${{ expr }}` included, is copied as it is. Values are not scanned again.
///
/// # Panics
/// On a placeholder without a value: a mistake in a template, which the tests of every combination catch.
fn render(template: &str, vars: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let key = after.find("}}").map(|end| &after[..end]);
        match key {
            Some(key) if !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
                let value = vars
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("template placeholder {{{{{key}}}}} has no value"));
                out.push_str(value);
                rest = &after[key.len() + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` as a TOML basic string, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// `text` as one shell word: as it is when it holds only safe characters, else single-quoted.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+=^~".contains(&b)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(transport: Transport, auth: Auth, runtime: Runtime) -> Project {
        Project { name: "demo-server".to_owned(), transport, auth, runtime }
    }

    fn all() -> Vec<Project> {
        let mut all = Vec::new();
        for transport in [Transport::Stdio, Transport::Http, Transport::Sse] {
            for auth in [Auth::None, Auth::ApiKey, Auth::Jwt] {
                for runtime in [Runtime::Path("/src/mcp-runtime".to_owned()), Runtime::Version("0.1".to_owned())] {
                    all.push(project(transport, auth, runtime));
                }
            }
        }
        all
    }

    fn file<'a>(files: &'a [(&'static str, String)], path: &str) -> &'a str {
        files.iter().find(|(p, _)| *p == path).map(|(_, c)| c.as_str()).unwrap_or_else(|| panic!("no {path}"))
    }

    #[test]
    fn placeholders_are_replaced_and_other_braces_kept() {
        let vars = vec![("name", "demo".to_owned()), ("x", "{{name}}".to_owned())];
        assert_eq!(
            render("a {{name}} b {{x}} ${{ github.ref }} {0,63} {{", &vars),
            "a demo b {{name}} ${{ github.ref }} {0,63} {{"
        );
    }

    #[test]
    #[should_panic(expected = "{{missing}} has no value")]
    fn a_placeholder_without_a_value_is_a_bug() {
        let _ = render("{{missing}}", &[]);
    }

    #[test]
    fn every_combination_renders_every_placeholder() {
        for project in all() {
            for (path, contents) in project.files() {
                for line in contents.lines() {
                    let bare = line.replace("${{", "");
                    assert!(!bare.contains("{{"), "{path}: {line}");
                }
            }
        }
    }

    #[test]
    fn generated_toml_parses_and_matches_the_choices() {
        for project in all() {
            let files = project.files();
            let manifest: toml::Table = toml::from_str(file(&files, "Cargo.toml")).unwrap();
            assert_eq!(manifest["package"]["name"].as_str(), Some("demo-server"));
            assert!(manifest["workspace"].as_table().unwrap().is_empty());
            let runtime = &manifest["dependencies"]["mcp-runtime"];
            match &project.runtime {
                Runtime::Path(path) => assert_eq!(runtime["path"].as_str(), Some(path.as_str())),
                Runtime::Version(version) => assert_eq!(runtime.as_str(), Some(version.as_str())),
            }
            let config: toml::Table = toml::from_str(file(&files, "mcp.toml")).unwrap();
            let kind = config["transport"]["kind"].as_str().unwrap();
            let strategy = config["security"]["strategy"].as_str().unwrap();
            assert_eq!(kind, format!("{:?}", project.transport).to_lowercase());
            let expected = match project.auth {
                Auth::None => "none",
                Auth::ApiKey => "api-key",
                Auth::Jwt => "jwt",
            };
            assert_eq!(strategy, expected);
            if kind != "stdio" {
                assert!(config["transport"]["bind"].as_str().unwrap().starts_with("127.0.0.1:"));
                assert_eq!(config["http"]["cors_origins"].as_array().map(Vec::len), Some(0));
            }
            assert_eq!(config["audit"]["destination"].as_str(), Some("auto"));
            let security = config["security"].as_table().unwrap();
            match project.auth {
                Auth::None => assert_eq!(security.len(), 1),
                Auth::ApiKey => assert_eq!(security["keys"].as_str(), Some("${file:keys.toml}")),
                Auth::Jwt => {
                    assert_eq!(security["jwt"]["public_key"].as_str(), Some("${env:JWT_PUBLIC_KEY}"));
                    assert_eq!(security["jwt"]["audience"][0].as_str(), Some("demo-server"));
                }
            }
            let has_keys = files.iter().any(|(p, _)| *p == "keys.example.toml");
            assert_eq!(has_keys, project.auth == Auth::ApiKey);
            if has_keys {
                let keys: toml::Table = toml::from_str(file(&files, "keys.example.toml")).unwrap();
                assert_eq!(keys["keys"][0]["scopes"][0].as_str(), Some("demo-server:read"));
            }
        }
    }

    #[test]
    fn scopes_come_with_authentication() {
        for project in all() {
            let files = project.files();
            let main = file(&files, "src/main.rs");
            assert_eq!(main.contains(r#"scopes = ["demo-server:read"]"#), project.auth != Auth::None);
            assert!(main.contains("#[mcp_server(config = \"mcp.toml\")]"));
            let ci = file(&files, ".github/workflows/ci.yml");
            assert!(ci.contains("--format sarif --fail-on high -- target/debug/demo-server > scan.sarif"), "{ci}");
        }
    }

    #[test]
    fn paths_and_versions_are_quoted() {
        let tricky = project(Transport::Stdio, Auth::None, Runtime::Path(r#"/tmp/a "b"\c"#.to_owned()));
        let manifest: toml::Table = toml::from_str(file(&tricky.files(), "Cargo.toml")).unwrap();
        assert_eq!(manifest["dependencies"]["mcp-runtime"]["path"].as_str(), Some(r#"/tmp/a "b"\c"#));
        assert_eq!(shell_word("0.1.2"), "0.1.2");
        assert_eq!(shell_word(">=0.1, <0.3"), "'>=0.1, <0.3'");
    }
}
