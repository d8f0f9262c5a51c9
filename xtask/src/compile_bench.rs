//! `cargo xtask bench-compile`: the compile-time cost of 100 tools, written with `#[mcp_tool]` and with
//! rmcp's `#[tool]` macros, built side by side on this machine.
//!
//! Each crate is generated under `target/compile-bench/`, its dependencies are built once, then the
//! crate itself is timed: a full build (`cargo clean -p` of the crate, then `cargo build`), an
//! incremental rebuild after one tool's body changes, and `cargo check` after another such change (what an
//! editor runs on save). Each figure is the median of `RUNS` builds, alternating the crates so machine
//! noise falls on all of them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const TOOLS: usize = 100;
const RUNS: usize = 5;

struct Subject {
    name: &'static str,
    package: &'static str,
    dir: PathBuf,
    source: fn(usize) -> String,
}

pub(crate) fn run(root: &Path, cargo: &str) -> Result<()> {
    let base = root.join("target/compile-bench");
    let subjects = [
        Subject { name: "mcp-runtime", package: "bench-ours", dir: base.join("ours"), source: ours_source },
        Subject { name: "rmcp", package: "bench-rmcp", dir: base.join("rmcp"), source: |e| rmcp_source(e, false) },
        Subject {
            name: "rmcp+transports",
            package: "bench-rmcp-served",
            dir: base.join("rmcp-served"),
            source: |e| rmcp_source(e, true),
        },
    ];
    write_crate(&subjects[0].dir, &ours_manifest(root), &ours_source(0))?;
    write_crate(&subjects[1].dir, &rmcp_manifest("bench-rmcp", ""), &rmcp_source(0, false))?;
    let served = r#", "transport-io", "transport-streamable-http-server""#;
    write_crate(&subjects[2].dir, &rmcp_manifest("bench-rmcp-served", served), &rmcp_source(0, true))?;
    for s in &subjects {
        eprintln!("xtask: building {} and its dependencies once, and checking them once", s.name);
        build(cargo, &s.dir)?;
        cargo_run(cargo, "check", &s.dir)?;
    }
    let mut full = vec![Vec::new(); subjects.len()];
    let mut incremental = vec![Vec::new(); subjects.len()];
    let mut checked = vec![Vec::new(); subjects.len()];
    for run in 0..RUNS {
        for (i, s) in subjects.iter().enumerate() {
            let status =
                Command::new(cargo).args(["clean", "--quiet", "-p", s.package]).current_dir(&s.dir).status()?;
            if !status.success() {
                bail!("cargo clean failed in {}", s.dir.display());
            }
            full[i].push(build(cargo, &s.dir)?);
            std::fs::write(s.dir.join("src/main.rs"), (s.source)(run + 1))?;
            incremental[i].push(build(cargo, &s.dir)?);
            // Another edit, distinct from every one before it, then only a check.
            std::fs::write(s.dir.join("src/main.rs"), (s.source)(RUNS + run + 1))?;
            checked[i].push(cargo_run(cargo, "check", &s.dir)?);
        }
    }
    println!("compile time of {TOOLS} tools, median of {RUNS} builds (dev profile, dependencies already built)");
    println!("{:<16} {:>12} {:>16} {:>24}", "", "full build", "one tool edited", "cargo check after an edit");
    let medians: Vec<(f64, f64, f64)> = (0..subjects.len())
        .map(|i| (median(&mut full[i]), median(&mut incremental[i]), median(&mut checked[i])))
        .collect();
    for (s, (f, i, c)) in subjects.iter().zip(&medians) {
        println!("{:<16} {:>11.2}s {:>15.2}s {:>23.2}s", s.name, f, i, c);
    }
    let ours = medians[0];
    for (s, (f, i, c)) in subjects.iter().zip(&medians).skip(1) {
        println!(
            "ratio mcp-runtime / {}: full {:.2}, incremental {:.2}, check {:.2}",
            s.name,
            ours.0 / f,
            ours.1 / i,
            ours.2 / c
        );
    }
    Ok(())
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn build(cargo: &str, dir: &Path) -> Result<Duration> {
    cargo_run(cargo, "build", dir)
}

/// Times `cargo <subcommand>` (`build` or `check`) in `dir`.
fn cargo_run(cargo: &str, subcommand: &str, dir: &Path) -> Result<Duration> {
    let started = Instant::now();
    // The crates sit under this workspace, whose .cargo/config.toml trims debug info: every crate is timed
    // with cargo's default dev profile instead (full debug info), as a project with no profile builds.
    let status = Command::new(cargo)
        .args([subcommand, "--quiet", "--config", "profile.dev.debug=true"])
        .args(["--config", r#"profile.dev.package."*".debug=true"#])
        .current_dir(dir)
        .status()
        .with_context(|| format!("cannot build {}", dir.display()))?;
    if !status.success() {
        bail!("cargo {subcommand} in {} failed", dir.display());
    }
    Ok(started.elapsed())
}

fn write_crate(dir: &Path, manifest: &str, source: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::write(dir.join("src/main.rs"), source)?;
    Ok(())
}

fn ours_manifest(root: &Path) -> String {
    format!(
        r#"[package]
name = "bench-ours"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
mcp-runtime = {{ path = "{}" }}
serde = {{ version = "1", features = ["derive"] }}

[workspace]
"#,
        root.join("mcp-runtime").display()
    )
}

fn rmcp_manifest(name: &str, extra_features: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
rmcp = {{ version = "=3.11.0", default-features = false, features = ["server", "macros"{extra_features}] }}
serde = {{ version = "1", features = ["derive"] }}
tokio = {{ version = "1", features = ["rt-multi-thread", "macros", "io-std"] }}

[workspace]
"#
    )
}

/// 100 tools with two documented, constrained arguments each; `edit` changes one tool's body.
fn ours_source(edit: usize) -> String {
    let mut s = String::from("use mcp_runtime::prelude::*;\n\n");
    for i in 0..TOOLS {
        let body = if i == 0 { format!("edit {edit}") } else { format!("tool {i}") };
        s.push_str(&format!(
            r#"/// Looks up stock, variant {i}.
#[mcp_tool(read_only)]
async fn tool_{i}(
    /// Stock keeping unit.
    #[schema(pattern = r"^[A-Z0-9]{{5,12}}$")]
    sku: String,
    /// How many.
    #[schema(minimum = 0, maximum = 1000)]
    qty: i64,
) -> String {{
    format!("{body}: {{sku}} x{{qty}}")
}}

"#
        ));
    }
    s.push_str("#[mcp_server]\nasync fn main() {}\n");
    s
}

/// The same 100 tools with rmcp; `served` also serves them on stdio and builds the Streamable HTTP
/// service, so the binary carries the transports mcp-runtime always has.
fn rmcp_source(edit: usize, served: bool) -> String {
    let mut s = String::from(
        "use rmcp::{ServerHandler, handler::server::{router::tool::ToolRouter, wrapper::Parameters}, schemars, tool, tool_handler, tool_router};\n\n",
    );
    for i in 0..TOOLS {
        s.push_str(&format!(
            r#"#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Args{i} {{
    /// Stock keeping unit.
    #[schemars(regex(pattern = r"^[A-Z0-9]{{5,12}}$"))]
    pub sku: String,
    /// How many.
    #[schemars(range(min = 0, max = 1000))]
    pub qty: i64,
}}

"#
        ));
    }
    s.push_str(
        "#[derive(Clone)]\npub struct Tools {\n    tool_router: ToolRouter<Self>,\n}\n\n#[tool_router]\nimpl Tools {\n",
    );
    for i in 0..TOOLS {
        let body = if i == 0 { format!("edit {edit}") } else { format!("tool {i}") };
        s.push_str(&format!(
            r#"    /// Looks up stock, variant {i}.
    #[tool(annotations(read_only_hint = true))]
    async fn tool_{i}(&self, Parameters(a): Parameters<Args{i}>) -> String {{
        format!("{body}: {{}} x{{}}", a.sku, a.qty)
    }}

"#
        ));
    }
    s.push_str("}\n\n#[tool_handler(router = self.tool_router)]\nimpl ServerHandler for Tools {}\n\n");
    if served {
        s.push_str(
            r#"#[tokio::main]
async fn main() {
    use rmcp::ServiceExt;
    use rmcp::transport::streamable_http_server::StreamableHttpService;
    let http: StreamableHttpService<Tools, rmcp::transport::streamable_http_server::session::local::LocalSessionManager> =
        StreamableHttpService::new(|| Ok(Tools { tool_router: Tools::tool_router() }), Default::default(), Default::default());
    drop(http);
    if let Ok(service) = (Tools { tool_router: Tools::tool_router() }).serve(rmcp::transport::stdio()).await {
        let _ = service.waiting().await;
    }
}
"#,
        );
    } else {
        s.push_str(
            "#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let tools = Tools { tool_router: Tools::tool_router() };\n    drop(tools);\n}\n",
        );
    }
    s
}
