//! `cargo xtask fuzz [--smoke] [--seconds N] [TARGET…]`: coverage-guided fuzzing of the targets in `fuzz/`
//! with AFL++, through afl.rs.
//!
//! AFL++ is the engine because it runs on the stable toolchain: `cargo afl build` instruments with rustc's
//! stable `-C passes=sancov-module` and links AFL++'s runtime, which `cargo afl config --build` compiles
//! from the sources afl.rs bundles (a C compiler is enough). cargo-fuzz needs nightly `-Z` flags.
//!
//! Everything lands in folders git ignores: cargo-afl in `target/peers/afl/bin`, AFL++ in
//! `target/peers/afl/share` (its XDG data folder), the instrumented build in `target/fuzz` (its own target
//! folder, so the workspace's normal artifacts stay valid) and each run's findings in
//! `target/fuzz/out/<target>`. Runs of a minute or less (`--smoke`, which `cargo xtask test` runs) build at
//! `-O0` into `target/fuzz-smoke` instead, and a long campaign can run beside them. Targets run side by
//! side, one per core, each for 20 s with `--smoke` (or `--seconds N`, 600 by default). Any crash or hang
//! fails the run and names the inputs to keep under `fuzz/regressions/<target>/`.
//!
//! The build names the host as its `--target`: afl.rs' flags (instrumentation, one codegen unit, the
//! optimization level) then reach only the code of the fuzzed binaries, and the proc-macros and build
//! scripts build as in any release build (instrumented with one codegen unit, the two builds of `syn` alone
//! took 40 s each). On two cores the smoke build took 354 s at `-O1` without `--target`, 238 s with it, and
//! 124 s at `-O0`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The targets, as `fuzz/Cargo.toml` names their binaries.
const TARGETS: &[&str] = &["jsonrpc", "http_request", "stateless_headers", "jwt", "arguments", "sse", "request_state"];

/// The afl.rs release the fuzz crate's `afl` dependency matches.
const CARGO_AFL: &str = "0.18.2";

/// A test case that runs longer than this is a hang (a check takes micro- to milliseconds).
const HANG_MS: &str = "5000";

/// Seconds per target without `--smoke` or `--seconds`.
const DEFAULT_SECONDS: u64 = 600;

/// Seconds per target with `--smoke`: enough for afl-fuzz to calibrate the corpus and run a few hundred
/// thousand inputs (a crash the corpus itself reaches shows at once); finding new paths is the long run's job.
const SMOKE_SECONDS: u64 = 20;

/// What the command line asked for.
#[derive(Debug, PartialEq)]
struct Plan {
    seconds: u64,
    targets: Vec<&'static str>,
}

impl Plan {
    /// Whether this is a smoke run (a minute or less per target).
    fn smoke(&self) -> bool {
        self.seconds <= 60
    }

    /// The build's target folder, under `target/`: smoke runs apart, so `cargo xtask test` can run beside a
    /// long campaign, and so neither build undoes the other.
    fn target_dir(&self) -> &'static str {
        if self.smoke() { "fuzz-smoke" } else { "fuzz" }
    }

    /// The optimization level of the instrumented build (afl.rs' `AFL_OPT_LEVEL`; it always builds with one
    /// codegen unit). A smoke run needs no `-O3`: level 0 builds in 2 minutes on two cores, against 4 at
    /// level 1 and 12 to 20 at level 3, and still runs 400 (jwt's signature checks) to 12,000 inputs a second
    /// (level 1: 1,600 to 15,000).
    fn opt_level(&self) -> &'static str {
        if self.smoke() { "0" } else { "3" }
    }
}

fn plan(args: &[String]) -> Result<Plan> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => seconds = SMOKE_SECONDS,
            "--seconds" => {
                let n = args.next().context("--seconds needs a number")?;
                seconds = n.parse().with_context(|| format!("--seconds {n}: not a number of seconds"))?;
                if seconds == 0 {
                    bail!("--seconds must be at least 1");
                }
            }
            name => match TARGETS.iter().find(|t| **t == name) {
                Some(target) => targets.push(*target),
                None => bail!("unknown fuzz target `{name}` (targets: {})", TARGETS.join(", ")),
            },
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    Ok(Plan { seconds, targets })
}

/// Installs the engine if needed, builds the targets and fuzzes each; fails on any crash or hang.
pub(crate) fn run(root: &Path, cargo: &str, args: &[String]) -> Result<()> {
    let plan = plan(args)?;
    let started = Instant::now();
    let peers = root.join("target/peers/afl");
    let path = install(&peers, cargo)?;
    let target_dir = root.join("target").join(plan.target_dir());
    let host = rustc_field("host:")?;
    let binaries = target_dir.join(&host).join("release");
    let build = Instant::now();
    let status = cargo_afl(cargo, &peers, &path)
        .args(["build", "--release", "--locked", "-p", "mcp-fuzz", "--features", "afl", "--bins"])
        .args(["--target", &host])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("AFL_OPT_LEVEL", plan.opt_level())
        .current_dir(root)
        .status()
        .context("cannot run cargo afl build")?;
    if !status.success() {
        bail!("cargo afl build failed with {status}");
    }
    eprintln!("fuzz: targets built in {:.0?}", build.elapsed());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut failures = Vec::new();
    for batch in plan.targets.chunks(cores) {
        let mut running = Vec::new();
        for target in batch {
            let afl = cargo_afl(cargo, &peers, &path);
            running.push((*target, start(afl, root, &target_dir, &binaries, target, plan.seconds)?));
        }
        for (target, child) in running {
            let out = target_dir.join("out").join(target);
            let status = child.wait_with_output().with_context(|| format!("afl-fuzz {target} did not finish"))?.status;
            let stats = std::fs::read_to_string(out.join("default/fuzzer_stats")).unwrap_or_default();
            eprintln!("fuzz: {target}: {}", summary(&stats));
            let findings = findings(&out)?;
            if !status.success() && findings.is_empty() {
                failures.push(format!("{target}: afl-fuzz failed with {status} (see {})", out.display()));
            }
            failures.extend(findings.iter().map(|f| format!("{target}: {}", f.display())));
        }
    }
    eprintln!("fuzz: {} target(s), {} s each, done in {:.0?}", plan.targets.len(), plan.seconds, started.elapsed());
    if !failures.is_empty() {
        bail!(
            "fuzzing found crashes or hangs; replay one with `target/fuzz/<host>/release/<target> < FILE` (or `target/fuzz-smoke/…`), fix it, and keep \
             the input under fuzz/regressions/<target>/:\n  {}",
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Installs cargo-afl and builds AFL++ into `peers` unless they are there; returns the `PATH` that finds
/// `cargo-afl`.
fn install(peers: &Path, cargo: &str) -> Result<std::ffi::OsString> {
    let bin = peers.join("bin");
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )?;
    if !bin.join("cargo-afl").is_file() {
        let status = Command::new(cargo)
            .args(["install", "--locked", "--version", CARGO_AFL, "--root"])
            .arg(peers)
            .arg("cargo-afl")
            .status()
            .context("cannot run cargo install")?;
        if !status.success() {
            bail!("cargo install cargo-afl failed with {status}");
        }
    }
    let runtime = afl_data_dir(peers)?.join("afl-llvm/afl-compiler-rt.o");
    if !runtime.is_file() {
        // `--force`: a half-finished earlier build must not stop this one.
        let status = Command::new(cargo)
            .args(["afl", "config", "--build", "--force"])
            .env("PATH", &path)
            .env("XDG_DATA_HOME", peers.join("share"))
            .status()
            .context("cannot run cargo afl config")?;
        if !status.success() {
            bail!("cargo afl config --build failed with {status} (it needs a C compiler and make)");
        }
    }
    Ok(path)
}

/// Where afl.rs keeps AFL++ for the active rustc: `afl.rs/rustc-<version>-<commit>/afl.rs-<release>`.
fn afl_data_dir(peers: &Path) -> Result<PathBuf> {
    let release = rustc_field("release:")?;
    let version = match rustc_field("commit-hash:").ok().filter(|h| h.len() >= 7 && *h != "unknown") {
        Some(hash) => format!("rustc-{release}-{}", &hash[..7]),
        None => format!("rustc-{release}"),
    };
    Ok(peers.join("share/afl.rs").join(version).join(format!("afl.rs-{CARGO_AFL}")))
}

/// A field of `rustc -vV` (`host:`, `release:`, ...).
fn rustc_field(name: &str) -> Result<String> {
    let output = Command::new("rustc").arg("-vV").output().context("cannot run rustc -vV")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let value = text.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
    Ok(value.with_context(|| format!("rustc -vV names no {name}"))?.to_owned())
}

/// `cargo afl`, finding cargo-afl and AFL++ where `install` put them.
fn cargo_afl(cargo: &str, peers: &Path, path: &std::ffi::OsStr) -> Command {
    let mut command = Command::new(cargo);
    command.arg("afl").env("PATH", path).env("XDG_DATA_HOME", peers.join("share"));
    command
}

/// Starts afl-fuzz (`cargo afl`, from `cargo_afl`) on one target for `seconds`, seeded with
/// `fuzz/corpus/<target>`.
fn start(
    mut afl: Command,
    root: &Path,
    target_dir: &Path,
    binaries: &Path,
    target: &str,
    seconds: u64,
) -> Result<Child> {
    let outputs = target_dir.join("out");
    let out = outputs.join(target);
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    let log = std::fs::File::create(outputs.join(format!("{target}.log")))?;
    afl.args(["fuzz", "-V", &seconds.to_string(), "-t", HANG_MS, "-i"])
        .arg(root.join("fuzz/corpus").join(target))
        .arg("-o")
        .arg(&out)
        .arg(binaries.join(target))
        // Containers and CI runners: no CPU frequency governor, no core-dump pattern to set, no terminal.
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        .env("AFL_NO_UI", "1")
        .env("AFL_NO_AFFINITY", "1")
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start afl-fuzz for {target}"))
}

/// The crash and hang inputs afl-fuzz saved.
fn findings(out: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for kind in ["crashes", "hangs"] {
        let Ok(entries) = std::fs::read_dir(out.join("default").join(kind)) else { continue };
        for entry in entries {
            let file = entry?.path();
            if file.file_name().is_some_and(|n| n != "README.txt") {
                found.push(file);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The figures of a `fuzzer_stats` file worth a line.
fn summary(stats: &str) -> String {
    let field = |name: &str| {
        stats
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim().to_owned()))
            .unwrap_or_else(|| "?".to_owned())
    };
    format!(
        "{} execs in {} s ({} /s), {} edges of {} ({}), corpus {}, crashes {}, hangs {}",
        field("execs_done"),
        field("run_time"),
        field("execs_per_sec"),
        field("edges_found"),
        field("total_edges"),
        field("bitmap_cvg"),
        field("corpus_count"),
        field("saved_crashes"),
        field("saved_hangs"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|&a| a.to_owned()).collect()
    }

    #[test]
    fn the_command_line_picks_time_and_targets() {
        assert_eq!(plan(&args(&[])).unwrap(), Plan { seconds: DEFAULT_SECONDS, targets: TARGETS.to_vec() });
        assert_eq!(plan(&args(&["--smoke", "sse"])).unwrap(), Plan { seconds: SMOKE_SECONDS, targets: vec!["sse"] });
        assert_eq!(plan(&args(&["jwt", "--seconds", "1800"])).unwrap(), Plan { seconds: 1800, targets: vec!["jwt"] });
        assert!(plan(&args(&["nope"])).is_err());
        assert!(plan(&args(&["--seconds"])).is_err());
        assert!(plan(&args(&["--seconds", "0"])).is_err());
    }

    #[test]
    fn the_summary_reads_afl_stats() {
        let stats = "run_time          : 60\nexecs_done        : 1200\nexecs_per_sec     : 20.00\n\
                     edges_found       : 345\ntotal_edges       : 65536\nbitmap_cvg        : 0.53%\n\
                     corpus_count      : 77\nsaved_crashes     : 0\nsaved_hangs       : 1\n";
        assert_eq!(
            summary(stats),
            "1200 execs in 60 s (20.00 /s), 345 edges of 65536 (0.53%), corpus 77, crashes 0, hangs 1"
        );
        assert!(summary("").starts_with("? execs"));
    }
}
