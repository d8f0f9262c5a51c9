//! `cargo xtask imports`: the runtime's modules import only downward, in the order of the design's house
//! (`docs/ARCHITECTURE.md`, "The house"). Run first by `cargo xtask test`; it reads source, builds nothing.
//!
//! Every `crate::<module>` a file of `mcp-runtime/src/<own>/` names outside comments is checked: a module
//! may name one of a lower floor; the ground floor (`protocol`, then `config` and `request`) and the layers
//! (`validate`, `auth`, `throttle`, `audit`, `telemetry`) may not name a neighbour on their own floor.

use std::path::Path;

use anyhow::{Result, bail};

/// The floors, lowest first. A module of floor `n` may import modules of floors below `n`.
const FLOORS: &[(&str, u8)] = &[
    ("protocol", 0),
    ("config", 1),
    ("request", 1),
    ("server", 2),
    ("tasks", 2),
    ("validate", 3),
    ("auth", 3),
    ("throttle", 3),
    ("audit", 3),
    ("telemetry", 3),
    ("pipeline", 4),
    ("builder", 5),
    ("transport", 6),
    ("run", 7),
    ("reload", 7),
    ("private", 7),
    ("prelude", 8),
    ("lib", 8),
];

/// Floors whose modules are neighbours that must not import one another.
const NO_NEIGHBOURS: &[u8] = &[1, 3];

/// Imports across a floor that are allowed, each for a reason given here: the audit record names the
/// request span's trace ids, which only the telemetry module can read from an OpenTelemetry span; so does a
/// task's outcome record, whose ids `server` takes from the creating request's span when it makes the task.
const ALLOWED: &[(&str, &str)] = &[("audit", "telemetry::ids"), ("server", "telemetry::ids")];

fn floor(module: &str) -> Option<u8> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

pub(crate) fn run(root: &Path) -> Result<()> {
    let src = root.join("mcp-runtime/src");
    let mut violations = Vec::new();
    visit(&src, &mut |path| {
        let relative = path.strip_prefix(&src).expect("under src");
        let own = relative.components().next().expect("a component").as_os_str().to_string_lossy();
        let own = own.trim_end_matches(".rs").to_owned();
        let Some(own_floor) = floor(&own) else { return Ok(()) };
        let text = std::fs::read_to_string(path)?;
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let module: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let Some(target_floor) = floor(&module) else { continue };
                if module == own {
                    continue;
                }
                let upward = target_floor > own_floor;
                let sideways = target_floor == own_floor && NO_NEIGHBOURS.contains(&own_floor);
                let allowed = ALLOWED.iter().any(|(from, path)| *from == own && rest.starts_with(path));
                if (upward || sideways) && !allowed {
                    violations.push(format!(
                        "mcp-runtime/src/{}:{}: `{own}` (floor {own_floor}) names `crate::{module}` (floor {target_floor})",
                        relative.display(),
                        n + 1
                    ));
                }
            }
        }
        Ok(())
    })?;
    if !violations.is_empty() {
        bail!("imports that run upward or sideways:\n{}", violations.join("\n"));
    }
    eprintln!("xtask: imports run one way (mcp-runtime/src)");
    Ok(())
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            visit(&path, f)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            f(&path)?;
        }
    }
    Ok(())
}
