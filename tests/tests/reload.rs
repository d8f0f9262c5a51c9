//! Configuration reload without a restart, and limits and metrics that follow the live tool set: the
//! inventory binary over real HTTP with a configuration file that changes under it (SIGHUP, or the file
//! alone), and an in-process server whose tools are added at run time.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_runtime::Pipeline;
use mcp_runtime::config::{Config, ToolThrottle};
use mcp_runtime::prelude::*;
use mcp_runtime::server::Tool;
use mcp_runtime::transport::serve_io;
use mcp_tests::{NetworkServer, OPS_KEY, TIMEOUT, eventually, inventory_bin};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

const ACCEPT: &str = "application/json, text/event-stream";

/// A configuration file in a folder of its own, removed when dropped.
struct ConfigFile {
    dir: PathBuf,
}

impl ConfigFile {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mcp-reload-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = Self { dir };
        file.write(text);
        file
    }

    fn path(&self) -> PathBuf {
        self.dir.join("mcp.toml")
    }

    /// Replaces the contents at once (written aside, then renamed over), as editors and config managers do.
    fn write(&self, text: &str) {
        let aside = self.dir.join("mcp.toml.new");
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(&aside, self.path()).unwrap();
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(file: &Path) -> NetworkServer {
    NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_CONFIG", file.to_str().unwrap())])
}

/// A stateless (2026-07-28) request with the ops key: the status and the body.
async fn request(c: &reqwest::Client, server: &NetworkServer, method: &str, mut params: Value) -> (u16, Value) {
    params["_meta"] = mcp_tests::modern_meta();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut r = c
        .post(format!("{}/mcp", server.base))
        .bearer_auth(OPS_KEY)
        .header("accept", ACCEPT)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = body["params"]["name"].as_str() {
        r = r.header("mcp-name", name);
    }
    let r = r.json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn tool_names(c: &reqwest::Client, server: &NetworkServer) -> Vec<String> {
    let (status, body) = request(c, server, "tools/list", json!({})).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

/// Calls `lookup_stock` `n` times; the statuses, and the `data.limit` of the refusals.
async fn lookups(c: &reqwest::Client, server: &NetworkServer, n: usize) -> Vec<(u16, Value)> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let (status, body) =
            request(c, server, "tools/call", json!({"name": "lookup_stock", "arguments": {"sku": "ABC123"}})).await;
        answers.push((status, body["error"]["data"]["limit"].clone()));
    }
    answers
}

/// Waits until the server logged `needle` on at least `n` lines.
fn logged_times(server: &NetworkServer, needle: &str, n: usize) -> bool {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        if server.logs().lines().filter(|l| l.contains(needle)).count() >= n {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

#[tokio::test]
async fn sighup_applies_disabled_tools_and_rates_and_a_broken_file_changes_nothing() {
    // interval 0: the file is read again on SIGHUP only.
    let file = ConfigFile::new("sighup", "[reload]\ninterval = \"0s\"\n");
    let server = start(&file.path());
    let c = client();
    assert!(tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()));
    assert!(lookups(&c, &server, 3).await.iter().all(|(status, _)| *status == 200), "30/min admits three");

    file.write(
        "[reload]\ninterval = \"0s\"\n[tools]\ndisabled = [\"adjust_stock\"]\n\
         [throttling.tools]\nlookup_stock = \"2/h\"\n[http]\nmax_sessions = 5\n",
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()), "nothing changes before SIGHUP");

    server.signal("-HUP").unwrap();
    assert!(logged_times(&server, "configuration reloaded", 1), "{}", server.logs());
    let logs = server.logs();
    let reloaded = logs.lines().find(|l| l.contains("configuration reloaded")).unwrap();
    assert!(reloaded.contains("throttling.tools.lookup_stock") && reloaded.contains("tools.disabled"), "{reloaded}");
    let restart = logs.lines().find(|l| l.contains("apply only at a restart")).expect("a warning names the rest");
    assert!(restart.contains("http.max_sessions") && !restart.contains("tools.disabled"), "{restart}");
    assert!(!tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()), "disabled by the reload");
    // The new rate is a new budget: two calls an hour, then refusals of the tool's budget.
    let answers = lookups(&c, &server, 3).await;
    assert_eq!(answers.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [200, 200, 429], "{answers:?}");
    assert_eq!(answers[2].1, "tool");

    // A file that does not load changes nothing, and the log says which file and why.
    file.write("[tools]\ndisabld = []\n");
    server.signal("-HUP").unwrap();
    assert!(logged_times(&server, "was not reloaded", 1), "{}", server.logs());
    let refused = server.logs().lines().find(|l| l.contains("was not reloaded")).unwrap().to_owned();
    assert!(refused.contains(file.path().to_str().unwrap()) && refused.contains("disabld"), "{refused}");
    assert!(!tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()), "still disabled");
    assert_eq!(lookups(&c, &server, 1).await[0].0, 429, "still 2/h");

    // Back to the start: the tool returns and the attribute's 30/min applies again (a budget of its own).
    file.write("[reload]\ninterval = \"0s\"\n");
    server.signal("-HUP").unwrap();
    assert!(logged_times(&server, "configuration reloaded", 2), "{}", server.logs());
    assert!(tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()));
    assert_eq!(lookups(&c, &server, 1).await[0].0, 200);
}

#[tokio::test]
async fn a_changed_file_reloads_without_a_signal() {
    let file = ConfigFile::new("poll", "[reload]\ninterval = \"100ms\"\n");
    let server = start(&file.path());
    let c = client();
    assert!(tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()));
    file.write("[reload]\ninterval = \"100ms\"\n[tools]\ndisabled = [\"adjust_stock\", \"no_such_tool\"]\n");
    eventually("adjust_stock disabled by the changed file", || async {
        (!tool_names(&c, &server).await.contains(&"adjust_stock".to_owned())).then_some(())
    })
    .await;
    assert!(server.logged("file changed"), "{}", server.logs());
    assert!(server.logged("no_such_tool"), "a name that is no tool is reported: {}", server.logs());
    file.write("[reload]\ninterval = \"100ms\"\n");
    eventually("adjust_stock back", || async {
        tool_names(&c, &server).await.contains(&"adjust_stock".to_owned()).then_some(())
    })
    .await;
}

/// Has no rate of its own.
#[mcp_tool]
async fn base() -> &'static str {
    "base"
}

fn added(name: &str, rate: &str) -> Tool {
    Tool::builder(name).rate(rate).handler(|_, _| async { "added" }).build().unwrap()
}

/// The corridor as a stdio client sees it, in process, with the pipeline at hand (its metrics).
struct Served {
    pipeline: Pipeline,
    writer: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Served {
    async fn start(server: Server) -> Self {
        let pipeline = Pipeline::build(server).expect("the server starts");
        let (client, server_side) = tokio::io::duplex(1 << 16);
        let (read, write) = tokio::io::split(server_side);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_io(pipeline.clone(), read, write, async move {
            let _ = stopped.await;
        }));
        let (read, writer) = tokio::io::split(client);
        let lines = tokio::io::BufReader::new(read).lines();
        Self { pipeline, writer, lines, _stop: stop }
    }

    /// A 2026-07-28 `tools/call` of `tool`, and its answer.
    async fn call(&mut self, id: u64, tool: &str) -> Value {
        let message = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": {}, "_meta": mcp_tests::modern_meta()}});
        self.writer.write_all(format!("{message}\n").as_bytes()).await.unwrap();
        loop {
            let line = tokio::time::timeout(TIMEOUT, self.lines.next_line()).await.unwrap().unwrap().unwrap();
            let answer: Value = serde_json::from_str(&line).unwrap();
            if answer["id"] == id {
                return answer;
            }
        }
    }
}

#[tokio::test]
async fn tools_added_at_run_time_are_throttled_and_counted() {
    let mut config = Config::default();
    config.audit.destination = "none".to_owned();
    config.throttling.tools.insert("overridden".to_owned(), ToolThrottle::Rate("1/min".to_owned()));
    let server = Server::new("live", "0").tool(base::SPEC).config(config);
    let handle = server.handle();
    let mut served = Served::start(server).await;
    handle.add_tool(added("own", "2/min")).unwrap();
    handle.add_tool(added("overridden", "100/s")).unwrap();

    let mut limits = Vec::new();
    for id in 1..=3 {
        let answer = served.call(id, "own").await;
        limits.push(answer["error"]["data"]["limit"].as_str().map(str::to_owned));
        assert!(answer["error"].is_null() || answer["error"]["code"] == -32012, "{answer}");
    }
    assert_eq!(limits, [None, None, Some("tool".to_owned())], "the added tool's own 2/min");
    assert!(served.call(4, "overridden").await["error"].is_null());
    let refused = served.call(5, "overridden").await;
    assert_eq!(refused["error"]["data"]["limit"], "tool", "throttling.tools applies to a tool added later: {refused}");
    assert!(served.call(6, "base").await["error"].is_null(), "a tool without a rate is not limited");

    let metrics = served.pipeline.metrics();
    assert_eq!(metrics.tool_calls("own"), [("ok", 2), ("rate_limited", 1)]);
    assert_eq!(metrics.tool_calls("overridden"), [("ok", 1), ("rate_limited", 1)]);
    let text = metrics.render();
    assert!(text.contains(r#"gen_ai_tool_name="own""#), "{text}");
    // Removed and added again under the same name with another rate: the rate of the tool served now.
    assert!(handle.remove_tool("own"));
    handle.add_tool(added("own", "100/s")).unwrap();
    for id in 7..=9 {
        assert!(served.call(id, "own").await["error"].is_null(), "the new tool's rate, not the old one's");
    }
}
