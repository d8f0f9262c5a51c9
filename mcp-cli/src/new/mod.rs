//! `cargo mcp new NAME`: a server project that builds and passes its own tests offline at once.
//!
//! The project: `Cargo.toml` (mcp-runtime from this checkout by path, or a published version), `src/main.rs`
//! (`#[mcp_server]`, one example tool and its tests, one of them through the real corridor in-process),
//! `mcp.toml` (secure defaults for the chosen transport and authentication, secrets by reference),
//! `.env.example`, `README.md`, `.gitignore` and a CI workflow that runs the tests and `cargo mcp scan`.
//!
//! It refuses an invalid name and an existing folder (exit 2, nothing written), and writes into a temporary
//! sibling folder renamed into place at the end, so a failure leaves nothing behind.

mod name;
mod template;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use self::template::{Project, Runtime};

/// `cargo mcp new` arguments.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The package name; the project is created in `./NAME` (or `--path`).
    pub name: String,
    /// Where to create it (default: `./NAME`).
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// The transport the server serves by default.
    #[arg(long, value_enum, default_value_t = Transport::Stdio)]
    pub transport: Transport,
    /// How callers authenticate (default: `none` over stdio, where the client starts the server; `api-key`
    /// over the network transports).
    #[arg(long, value_enum)]
    pub auth: Option<Auth>,
    /// The mcp-runtime checkout to depend on by path (default: the one this `cargo mcp` was built from).
    #[arg(long, value_name = "DIR", conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// Depend on this published mcp-runtime version (a Cargo version requirement) instead of a checkout.
    #[arg(long, value_name = "VERSION")]
    pub runtime_version: Option<String>,
}

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http,
    /// Legacy HTTP+SSE.
    Sse,
}

/// `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Auth {
    /// No authentication (loopback only).
    None,
    /// API keys, stored as digests.
    ApiKey,
    /// JWT bearer tokens.
    Jwt,
}

/// Creates the project: exit 0 with what to do next, 2 when it refuses (an invalid name, an existing
/// folder, no usable runtime), 1 when writing fails.
pub fn run(args: &NewArgs) -> ExitCode {
    match create(args) {
        Ok((dir, auth)) => {
            let auth = match auth {
                Auth::None => "no authentication",
                Auth::ApiKey => "API keys",
                Auth::Jwt => "JWT",
            };
            let transport = args.transport.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
            println!("Created the MCP server `{}` ({transport}, {auth}) in {}", args.name, dir.display());
            println!("Next: cd {} && cargo test && cargo run", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Why `cargo mcp new` did not create the project.
#[derive(Debug)]
pub enum NewError {
    /// NAME is not a usable package name.
    InvalidName(String),
    /// The folder (or a file of that name) is already there.
    Exists(PathBuf),
    /// The folder's parent does not exist.
    NoParent(PathBuf),
    /// The mcp-runtime to depend on cannot be used.
    Runtime(String),
    /// Writing failed (the temporary folder was removed).
    Write(PathBuf, io::Error),
}

impl NewError {
    /// 2 for a refusal (nothing was tried), 1 for a failed write.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Write(..) => 1,
            Self::InvalidName(_) | Self::Exists(_) | Self::NoParent(_) | Self::Runtime(_) => 2,
        }
    }
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(reason) => write!(f, "invalid project name: {reason}"),
            Self::Exists(dir) => {
                write!(f, "{} already exists: choose another name or --path; nothing was written", dir.display())
            }
            Self::NoParent(dir) => write!(f, "{} does not exist: create it first", dir.display()),
            Self::Runtime(reason) => f.write_str(reason),
            Self::Write(path, e) => write!(f, "cannot write {}: {e}; nothing was left behind", path.display()),
        }
    }
}

impl std::error::Error for NewError {}

/// Creates the project and returns its folder and the authentication it got.
///
/// # Errors
/// See [`NewError`].
pub fn create(args: &NewArgs) -> Result<(PathBuf, Auth), NewError> {
    name::validate(&args.name).map_err(NewError::InvalidName)?;
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    if fs::symlink_metadata(&dir).is_ok() {
        return Err(NewError::Exists(dir));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(NewError::NoParent(parent));
    }
    let runtime = runtime(args)?;
    let auth = args.auth.unwrap_or(match args.transport {
        Transport::Stdio => Auth::None,
        Transport::Http | Transport::Sse => Auth::ApiKey,
    });
    if auth == Auth::None && args.transport != Transport::Stdio {
        eprintln!(
            "warning: a network transport without authentication: any local process or web page that reaches \
             the port can call every tool; `cargo mcp scan` reports it as high, and the generated CI fails on it"
        );
    }
    let project = Project { name: args.name.clone(), transport: args.transport, auth, runtime };
    write_atomically(&dir, &parent, &project.files())?;
    Ok((dir, auth))
}

/// The runtime dependency: `--runtime-version`, else `--runtime-path`, else the checkout this binary was
/// built from, else (an installed `cargo mcp` whose sources are gone) this binary's own version.
fn runtime(args: &NewArgs) -> Result<Runtime, NewError> {
    if let Some(version) = &args.runtime_version {
        let valid = !version.trim().is_empty()
            && version.chars().all(|c| c.is_ascii_alphanumeric() || ".-+^~=<>*, ".contains(c));
        return if valid {
            Ok(Runtime::Version(version.trim().to_owned()))
        } else {
            Err(NewError::Runtime(format!("--runtime-version {version:?} is not a Cargo version requirement")))
        };
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mcp-runtime");
    let dir = match &args.runtime_path {
        Some(dir) => dir.clone(),
        None if built_from.join("Cargo.toml").is_file() => built_from,
        None => {
            let version = env!("CARGO_PKG_VERSION");
            eprintln!(
                "note: the mcp-runtime checkout this cargo mcp was built from is gone; depending on \
                 mcp-runtime {version} (--runtime-path DIR picks a checkout)"
            );
            return Ok(Runtime::Version(version.to_owned()));
        }
    };
    let not_runtime = |why: String| NewError::Runtime(format!("--runtime-path {}: {why}", dir.display()));
    let manifest =
        fs::read_to_string(dir.join("Cargo.toml")).map_err(|e| not_runtime(format!("no Cargo.toml ({e})")))?;
    let package =
        manifest.parse::<toml::Table>().ok().and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned));
    if package.as_deref() != Some("mcp-runtime") {
        return Err(not_runtime("not the mcp-runtime crate".to_owned()));
    }
    let absolute = dir.canonicalize().map_err(|e| not_runtime(e.to_string()))?;
    let absolute = absolute.to_str().ok_or_else(|| not_runtime("the path is not UTF-8".to_owned()))?;
    Ok(Runtime::Path(absolute.to_owned()))
}

/// Writes `files` into a temporary folder beside `dir`, then renames it to `dir`; on any failure the
/// temporary folder is removed.
fn write_atomically(dir: &Path, parent: &Path, files: &[(&'static str, String)]) -> Result<(), NewError> {
    let file_name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".to_owned());
    let temp = parent.join(format!(".{file_name}.cargo-mcp-new-{}", std::process::id()));
    let written = fs::create_dir(&temp).map_err(|e| NewError::Write(temp.clone(), e)).and_then(|()| {
        for (path, contents) in files {
            let target = temp.join(path);
            if let Some(folder) = target.parent() {
                fs::create_dir_all(folder).map_err(|e| NewError::Write(folder.to_owned(), e))?;
            }
            fs::write(&target, contents).map_err(|e| NewError::Write(dir.join(path), e))?;
        }
        // Refuse again at the last moment: a rename onto an empty folder would replace it.
        if fs::symlink_metadata(dir).is_ok() {
            return Err(NewError::Exists(dir.to_owned()));
        }
        fs::rename(&temp, dir).map_err(|e| NewError::Write(dir.to_owned(), e))
    });
    if written.is_err() {
        let _ = fs::remove_dir_all(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(name: &str, path: PathBuf) -> NewArgs {
        NewArgs {
            name: name.to_owned(),
            path: Some(path),
            transport: Transport::Http,
            auth: Some(Auth::ApiKey),
            runtime_path: None,
            runtime_version: None,
        }
    }

    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cargo-mcp-new-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn creates_every_file_and_nothing_else_beside_it() {
        let scratch = scratch("creates");
        let (dir, auth) = create(&args("demo", scratch.join("demo"))).unwrap();
        assert_eq!(auth, Auth::ApiKey);
        for file in [
            "Cargo.toml",
            "src/main.rs",
            "mcp.toml",
            ".env.example",
            "README.md",
            ".gitignore",
            ".github/workflows/ci.yml",
            "keys.example.toml",
        ] {
            assert!(dir.join(file).is_file(), "{file}");
        }
        let manifest: toml::Table = fs::read_to_string(dir.join("Cargo.toml")).unwrap().parse().unwrap();
        let path = manifest["dependencies"]["mcp-runtime"]["path"].as_str().unwrap();
        assert!(Path::new(path).is_absolute() && Path::new(path).join("src/lib.rs").is_file(), "{path}");
        let siblings: Vec<_> = fs::read_dir(&scratch).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(siblings, ["demo"], "the temporary folder was renamed");
        fs::remove_dir_all(&scratch).unwrap();
    }

    #[test]
    fn refusals_write_nothing() {
        let scratch = scratch("refusals");
        fs::create_dir(scratch.join("taken")).unwrap();
        let existing = create(&args("taken", scratch.join("taken"))).unwrap_err();
        assert!(matches!(existing, NewError::Exists(_)) && existing.exit_code() == 2, "{existing}");
        let invalid = create(&args("1abc", scratch.join("fresh"))).unwrap_err();
        assert!(matches!(invalid, NewError::InvalidName(_)) && invalid.exit_code() == 2, "{invalid}");
        let orphan = create(&args("demo", scratch.join("missing/demo"))).unwrap_err();
        assert!(matches!(orphan, NewError::NoParent(_)), "{orphan}");
        let mut wrong_runtime = args("demo", scratch.join("demo"));
        wrong_runtime.runtime_path = Some(scratch.clone());
        assert!(matches!(create(&wrong_runtime).unwrap_err(), NewError::Runtime(_)));
        let mut bad_version = args("demo", scratch.join("demo"));
        bad_version.runtime_version = Some("1; rm -rf /".to_owned());
        assert!(matches!(create(&bad_version).unwrap_err(), NewError::Runtime(_)));
        let left: Vec<_> = fs::read_dir(&scratch).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["taken"]);
        assert_eq!(fs::read_dir(scratch.join("taken")).unwrap().count(), 0, "the existing folder is untouched");
        fs::remove_dir_all(&scratch).unwrap();
    }

    #[test]
    fn a_version_replaces_the_path() {
        let scratch = scratch("version");
        let mut with_version = args("demo", scratch.join("demo"));
        with_version.runtime_version = Some("0.1".to_owned());
        let (dir, _) = create(&with_version).unwrap();
        let manifest: toml::Table = fs::read_to_string(dir.join("Cargo.toml")).unwrap().parse().unwrap();
        assert_eq!(manifest["dependencies"]["mcp-runtime"].as_str(), Some("0.1"));
        fs::remove_dir_all(&scratch).unwrap();
    }

    #[test]
    fn network_transports_default_to_api_keys() {
        let scratch = scratch("defaults");
        for (transport, expected) in
            [(Transport::Stdio, Auth::None), (Transport::Http, Auth::ApiKey), (Transport::Sse, Auth::ApiKey)]
        {
            let mut defaulted = args("demo", scratch.join(format!("{transport:?}")));
            defaulted.transport = transport;
            defaulted.auth = None;
            let (dir, auth) = create(&defaulted).unwrap();
            assert_eq!(auth, expected, "{transport:?}");
            let config = fs::read_to_string(dir.join("mcp.toml")).unwrap();
            assert_eq!(config.contains("strategy = \"api-key\""), expected == Auth::ApiKey, "{config}");
        }
        fs::remove_dir_all(&scratch).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let scratch = scratch("failed");
        let files = [("ok.txt", "fine".to_owned()), ("ok.txt/below", "a file cannot be a folder".to_owned())];
        let error = write_atomically(&scratch.join("demo"), &scratch, &files).unwrap_err();
        assert!(matches!(error, NewError::Write(..)) && error.exit_code() == 1, "{error}");
        assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);
        fs::remove_dir_all(&scratch).unwrap();
    }
}
