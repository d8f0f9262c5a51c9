//! `cargo xtask bench-compile`: the compile-time cost of 100 tools, written with `#[mcp_tool]` and with
//! rmcp's `#[tool]` macros, built side by side on this machine.
//!
//! Each crate is generated under `target/compile-bench/`, its dependencies are built once, then the
//! crate itself is timed: a full build (`cargo clean -p` of the crate, then `cargo build`) and an
//! incremental rebuild after one tool's body changes. Each figure is the median of `RUNS` builds,
//! alternating the two crates so machine noise falls on both.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const TOOLS: usize = 100;
const RUNS: usize = 5;

struct Subject {
    name: &'static str,
    dir: PathBuf,
}

pub(crate) fn run(root: &Path, cargo: &str) -> Result<()> {
    let base = root.join("target/compile-bench");
    let ours = Subject { name: "mcp-runtime", dir: base.join("ours") };
    let rmcp = Subject { name: "rmcp 3.11", dir: base.join("rmcp") };
    write_crate(&ours.dir, &ours_manifest(root), &ours_source(0))?;
    write_crate(&rmcp.dir, RMCP_MANIFEST, &rmcp_source(0))?;
    for s in [&ours, &rmcp] {
        eprintln!("xtask: building {} and its dependencies once", s.name);
        build(cargo, &s.dir)?;
    }
    let mut full = [Vec::new(), Vec::new()];
    let mut incremental = [Vec::new(), Vec::new()];
    for run in 0..RUNS {
        for (i, s) in [&ours, &rmcp].into_iter().enumerate() {
            let package = if i == 0 { "bench-ours" } else { "bench-rmcp" };
            let status = Command::new(cargo).args(["clean", "--quiet", "-p", package]).current_dir(&s.dir).status()?;
            if !status.success() {
                bail!("cargo clean failed in {}", s.dir.display());
            }
            full[i].push(build(cargo, &s.dir)?);
            let source = if i == 0 { ours_source(run + 1) } else { rmcp_source(run + 1) };
            std::fs::write(s.dir.join("src/main.rs"), source)?;
            incremental[i].push(build(cargo, &s.dir)?);
        }
    }
    println!("compile time of {TOOLS} tools, median of {RUNS} builds (dev profile, dependencies already built)");
    println!("{:<14} {:>12} {:>14}", "", "full build", "one tool edited");
    for (i, s) in [&ours, &rmcp].into_iter().enumerate() {
        println!("{:<14} {:>11.2}s {:>13.2}s", s.name, median(&mut full[i]), median(&mut incremental[i]));
    }
    let ratio = |v: &mut [Vec<Duration>; 2]| median(&mut v[0]) / median(&mut v[1]);
    println!("ratio mcp-runtime / rmcp: full {:.2}, incremental {:.2}", ratio(&mut full), ratio(&mut incremental));
    Ok(())
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn build(cargo: &str, dir: &Path) -> Result<Duration> {
    let started = Instant::now();
    let status = Command::new(cargo)
        .args(["build", "--quiet"])
        .current_dir(dir)
        .status()
        .with_context(|| format!("cannot build {}", dir.display()))?;
    if !status.success() {
        bail!("the build in {} failed", dir.display());
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

const RMCP_MANIFEST: &str = r#"[package]
name = "bench-rmcp"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
rmcp = { version = "=3.11.0", default-features = false, features = ["server", "macros"] }
serde = { version = "1", features = ["derive"] }
tokio = { version = "1", features = ["rt", "macros"] }

[workspace]
"#;

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

fn rmcp_source(edit: usize) -> String {
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
    s.push_str(
        "}\n\n#[tool_handler(router = self.tool_router)]\nimpl ServerHandler for Tools {}\n\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let tools = Tools { tool_router: Tools::tool_router() };\n    drop(tools);\n}\n",
    );
    s
}
