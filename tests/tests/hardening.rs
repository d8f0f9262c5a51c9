//! What a hostile repository and a greedy client could do before the security review, each over the real
//! inventory binary: a working directory's `mcp.toml` is not read; one caller cannot take every session
//! or every stream, and `initialize` and stream opens spend its budget; a made-up `Last-Event-ID` is refused.

use std::process::Command;

use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, inventory_bin};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A cloned repository ships an `mcp.toml` that switches authentication off and writes the audit trail over
/// a file of the user's; the server, started there as an IDE starts it, reads none of it.
#[test]
fn a_config_file_in_the_working_directory_is_not_read() {
    let dir = std::env::temp_dir().join(format!("mcp-hardening-cwd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let planted = format!(
        "[security]\nstrategy = \"none\"\n[transport]\nbind = \"0.0.0.0:8080\"\n[audit]\ndestination = \"file:{}\"\n",
        victim.display()
    );
    std::fs::write(dir.join("mcp.toml"), planted).unwrap();
    let out = Command::new(inventory_bin()).arg("--print-config").current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config: toml::Table = String::from_utf8(out.stdout).unwrap().parse().unwrap();
    assert_eq!(config["security"]["strategy"].as_str(), Some("api-key"), "the bundled configuration stands");
    assert_eq!(config["transport"]["bind"].as_str(), Some("127.0.0.1:8080"));
    assert_ne!(config["audit"]["destination"].as_str(), Some(format!("file:{}", victim.display()).as_str()));

    // Named, the same file is read, and a relative path in it resolves against its own folder.
    std::fs::write(dir.join("named.toml"), "[audit]\ndestination = \"file:logs/audit.log\"\n").unwrap();
    let elsewhere = std::env::temp_dir();
    let out = Command::new(inventory_bin())
        .args(["--print-config", "--config"])
        .arg(dir.join("named.toml"))
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config: toml::Table = String::from_utf8(out.stdout).unwrap().parse().unwrap();
    let expected = format!("file:{}", dir.join("logs/audit.log").display());
    assert_eq!(config["audit"]["destination"].as_str(), Some(expected.as_str()));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    std::fs::remove_dir_all(&dir).unwrap();
}

struct Client {
    http: reqwest::Client,
    url: String,
    key: &'static str,
}

impl Client {
    fn new(server: &NetworkServer, key: &'static str) -> Self {
        Self { http: reqwest::Client::new(), url: format!("{}/mcp", server.base), key }
    }

    fn post(&self) -> reqwest::RequestBuilder {
        self.http
            .post(&self.url)
            .bearer_auth(self.key)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
    }

    /// `initialize`: the status, and the session id when one was opened.
    async fn initialize(&self) -> (StatusCode, Option<String>, Value) {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "greedy", "version": "1"}}});
        let response = self.post().json(&body).send().await.unwrap();
        let status = response.status();
        let session = response.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(id) = &session {
            let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let sent = self.post().header("mcp-session-id", id).json(&initialized).send().await.unwrap();
            assert_eq!(sent.status(), StatusCode::ACCEPTED);
        }
        (status, session, answer)
    }

    /// Opens the session's standalone GET stream; the response is kept open by its caller.
    async fn stream(&self, session: &str, last_event_id: Option<&str>) -> reqwest::Response {
        let mut get = self.http.get(&self.url).bearer_auth(self.key).header("accept", "text/event-stream");
        get = get.header("mcp-session-id", session);
        if let Some(id) = last_event_id {
            get = get.header("last-event-id", id);
        }
        get.send().await.unwrap()
    }
}

/// One read-only key takes its whole share of sessions and streams; another key still opens both.
#[tokio::test]
async fn one_caller_exhausting_its_share_leaves_another_able_to_work() {
    let server = NetworkServer::start_with(
        &inventory_bin(),
        "http",
        &[
            ("MCP_HTTP__MAX_SESSIONS_PER_CALLER", "2"),
            ("MCP_HTTP__MAX_STREAMS_PER_CALLER", "1"),
            ("MCP_HTTP__KEEP_ALIVE", "1s"),
        ],
    );
    let greedy = Client::new(&server, VIEWER_KEY);
    let (first, a, _) = greedy.initialize().await;
    let (second, b, _) = greedy.initialize().await;
    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    let (third, none, answer) = greedy.initialize().await;
    assert_eq!(third, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(none.is_none(), "no session is opened beyond the share");
    assert_eq!(answer["error"]["data"]["limit"], "sessions", "{answer}");

    let held = greedy.stream(a.as_deref().unwrap(), None).await;
    assert_eq!(held.status(), StatusCode::OK);
    let refused = greedy.stream(b.as_deref().unwrap(), None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));

    let other = Client::new(&server, OPS_KEY);
    let (status, session, answer) = other.initialize().await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let stream = other.stream(session.as_deref().unwrap(), None).await;
    assert_eq!(stream.status(), StatusCode::OK, "another caller's stream opens");

    // A stream given up gives its place back.
    drop(held);
    let reopened = mcp_tests::eventually("the dropped stream's place is free", || {
        let greedy = &greedy;
        let b = b.clone();
        async move {
            let response = greedy.stream(b.as_deref().unwrap(), None).await;
            (response.status() == StatusCode::OK).then_some(response)
        }
    })
    .await;
    drop(reopened);
}

/// `initialize` and a stream opening spend the caller's budget (`throttling.per_principal`), so neither is
/// a free way to flood the server; the other caller's budget is untouched.
#[tokio::test]
async fn initialize_and_stream_opens_spend_the_callers_budget() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[("MCP_THROTTLING__PER_PRINCIPAL", "3/h")]);
    let greedy = Client::new(&server, VIEWER_KEY);
    let (status, session, _) = greedy.initialize().await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = greedy.initialize().await;
    assert_eq!(status, StatusCode::OK);
    let stream = greedy.stream(session.as_deref().unwrap(), None).await;
    assert_eq!(stream.status(), StatusCode::OK, "the third unit of the budget");
    let (status, none, answer) = greedy.initialize().await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(none.is_none());
    assert_eq!(answer["error"]["data"]["limit"], "principal", "{answer}");
    drop(stream);
    let refused = greedy.stream(session.as_deref().unwrap(), None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "a stream opening spends the budget too");

    let other = Client::new(&server, OPS_KEY);
    assert_eq!(other.initialize().await.0, StatusCode::OK, "another caller's budget is its own");
}

/// A `Last-Event-ID` with a sequence number this stream never sent (`u64::MAX` overflowed the replay
/// cursor: a panic in a debug build) is refused with 400; a real one resumes.
#[tokio::test]
async fn a_made_up_last_event_id_is_refused() {
    let server = NetworkServer::start(&inventory_bin(), "http");
    let client = Client::new(&server, OPS_KEY);
    let (_, session, _) = client.initialize().await;
    let session = session.unwrap();
    let mut stream = client.stream(&session, None).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let primed = String::from_utf8(stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let id = primed.lines().find_map(|l| l.strip_prefix("id: ")).expect("a priming event with an id").to_owned();
    drop(stream);
    let (log, _) = id.split_once('-').unwrap();
    for made_up in [format!("{log}-{}", u64::MAX), format!("{log}-999999")] {
        let refused = client.stream(&session, Some(&made_up)).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{made_up}");
    }
    let resumed = client.stream(&session, Some(&id)).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    assert!(server.logs().lines().all(|l| !l.contains("panicked")), "{}", server.logs());
}

mod scoped {
    //! Resources, templates and prompts with scopes: refused and left out of lists like tools.

    use mcp_runtime::Pipeline;
    use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuthStrategy, Config};
    use mcp_runtime::prelude::*;
    use mcp_runtime::transport::http::{Flavor, serve_on};
    use serde_json::{Value, json};
    use tokio::net::TcpListener;

    const VAULT_KEY: &str = "hardening-vault-key-91c2";
    const PLAIN_KEY: &str = "hardening-plain-key-07d4";

    async fn vault_ids(_value: String, _ctx: CompletionContext) -> Vec<String> {
        vec!["1".to_owned(), "2".to_owned()]
    }

    /// A secret, by id.
    #[mcp_resource(uri = "vault://{id}", scopes = ["vault:read"])]
    async fn secret(#[complete(vault_ids)] id: String) -> String {
        format!("secret {id}")
    }

    /// The vault's rules.
    #[mcp_resource(uri = "vault://rules", scopes = ["vault:read"])]
    async fn rules() -> &'static str {
        "never tell"
    }

    /// Public notes, by path.
    #[mcp_resource(uri = "notes:///{+path}")]
    async fn note(path: String) -> String {
        format!("note {path}")
    }

    /// Explains a secret.
    #[mcp_prompt(scopes = ["vault:read"])]
    async fn explain_secret(
        /// The secret's id.
        #[complete(vault_ids)]
        id: String,
    ) -> String {
        format!("Explain secret {id}")
    }

    /// Greets.
    #[mcp_prompt]
    async fn greet() -> String {
        "Hello".to_owned()
    }

    /// Echoes.
    #[mcp_tool]
    async fn echo(text: String) -> String {
        text
    }

    async fn serve() -> String {
        let mut config = Config::default();
        config.security.strategy = AuthStrategy::ApiKey;
        let key = |id: &str, key: &str, scopes: &[&str]| ApiKeyEntry {
            id: id.into(),
            hash: mcp_runtime::auth::key_digest(key),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        config.security.keys =
            ApiKeys::Inline(vec![key("vault", VAULT_KEY, &["vault:read"]), key("plain", PLAIN_KEY, &[])]);
        let server = Server::new("scoped", "0.0.0")
            .config(config)
            .tool(echo::SPEC)
            .resource(secret::SPEC)
            .resource(rules::SPEC)
            .resource(note::SPEC)
            .prompt(explain_secret::SPEC)
            .prompt(greet::SPEC);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pipeline = Pipeline::build(server).expect("the server starts");
        tokio::spawn(serve_on(listener, pipeline, Flavor::Streamable, std::future::pending()));
        format!("http://{addr}/mcp")
    }

    struct Session {
        http: reqwest::Client,
        url: String,
        key: &'static str,
        id: String,
    }

    impl Session {
        async fn open(url: &str, key: &'static str) -> Self {
            let http = reqwest::Client::new();
            let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
            let response = http
                .post(url)
                .bearer_auth(key)
                .header("accept", "application/json, text/event-stream")
                .json(&init)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let id = response.headers()["mcp-session-id"].to_str().unwrap().to_owned();
            let session = Self { http, url: url.to_owned(), key, id };
            session.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
            session
        }

        async fn post(&self, body: Value) -> (u16, Value) {
            let response = self
                .http
                .post(&self.url)
                .bearer_auth(self.key)
                .header("accept", "application/json, text/event-stream")
                .header("mcp-session-id", &self.id)
                .header("mcp-protocol-version", "2025-11-25")
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        async fn request(&self, method: &str, params: Value) -> (u16, Value) {
            self.post(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).await
        }

        async fn listed(&self, method: &str, key: &str, field: &str) -> Vec<String> {
            let (status, answer) = self.request(method, json!({})).await;
            assert_eq!(status, 200, "{answer}");
            answer["result"][key].as_array().unwrap().iter().map(|e| e[field].as_str().unwrap().to_owned()).collect()
        }
    }

    #[tokio::test]
    async fn resources_and_prompts_with_scopes_are_refused_and_hidden() {
        let url = serve().await;
        let vault = Session::open(&url, VAULT_KEY).await;
        let plain = Session::open(&url, PLAIN_KEY).await;

        assert_eq!(vault.listed("resources/list", "resources", "uri").await, ["vault://rules"]);
        assert!(plain.listed("resources/list", "resources", "uri").await.is_empty());
        assert_eq!(
            vault.listed("resources/templates/list", "resourceTemplates", "uriTemplate").await,
            ["notes:///{+path}", "vault://{id}"]
        );
        assert_eq!(
            plain.listed("resources/templates/list", "resourceTemplates", "uriTemplate").await,
            ["notes:///{+path}"]
        );
        assert_eq!(vault.listed("prompts/list", "prompts", "name").await, ["explain_secret", "greet"]);
        assert_eq!(plain.listed("prompts/list", "prompts", "name").await, ["greet"]);

        let refused = [
            ("resources/read", json!({"uri": "vault://7"})),
            ("resources/read", json!({"uri": "vault://rules"})),
            ("resources/subscribe", json!({"uri": "vault://7"})),
            ("prompts/get", json!({"name": "explain_secret", "arguments": {"id": "7"}})),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "explain_secret"}, "argument": {"name": "id", "value": ""}}),
            ),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/resource", "uri": "vault://{id}"}, "argument": {"name": "id", "value": ""}}),
            ),
        ];
        for (method, params) in refused {
            let (status, answer) = plain.request(method, params.clone()).await;
            assert_eq!(status, 403, "{method} {params}: {answer}");
            assert_eq!(answer["error"]["data"]["missingScopes"], json!(["vault:read"]), "{answer}");
            let (status, answer) = vault.request(method, params.clone()).await;
            assert_eq!(status, 200, "{method} {params}: {answer}");
            assert!(answer.get("result").is_some(), "{method}: {answer}");
        }
        let (_, read) = vault.request("resources/read", json!({"uri": "vault://7"})).await;
        assert_eq!(read["result"]["contents"][0]["text"], "secret 7");
    }

    /// A plain variable's value never holds `/`, `..` or a control character after decoding; `{+path}` may
    /// span segments but never climb out of them.
    #[tokio::test]
    async fn template_values_cannot_climb_out_of_their_place() {
        let url = serve().await;
        let vault = Session::open(&url, VAULT_KEY).await;
        for uri in
            ["vault://a%2F..%2Fb", "vault://..", "vault://a%0Ab", "notes:///a/../../etc/passwd", "notes:///%2E%2E/x"]
        {
            let (_, answer) = vault.request("resources/read", json!({"uri": uri})).await;
            assert_eq!(answer["error"]["code"], -32002, "{uri}: {answer}");
        }
        let (_, answer) = vault.request("resources/read", json!({"uri": "notes:///a/b/c.md"})).await;
        assert_eq!(answer["result"]["contents"][0]["text"], "note a/b/c.md", "{answer}");
    }
}

mod batches {
    //! A stdio batch takes one `transport.max_in_flight` place per request: it was one place for the whole
    //! batch, so a batch of a thousand calls ran a thousand at once.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mcp_runtime::config::Config;
    use mcp_runtime::prelude::*;
    use mcp_tests::Harness;
    use serde_json::json;
    use tokio::sync::Semaphore;

    struct Valve {
        running: AtomicUsize,
        peak: AtomicUsize,
        entered: AtomicUsize,
        open: Semaphore,
    }

    /// Holds its caller until the test opens the valve.
    #[mcp_tool]
    async fn held(valve: State<Arc<Valve>>) -> String {
        let now = valve.running.fetch_add(1, Ordering::SeqCst) + 1;
        valve.peak.fetch_max(now, Ordering::SeqCst);
        valve.entered.fetch_add(1, Ordering::SeqCst);
        valve.open.acquire().await.expect("never closed").forget();
        valve.running.fetch_sub(1, Ordering::SeqCst);
        "done".to_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_request_of_a_batch_takes_its_own_place() {
        let valve = Arc::new(Valve {
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            entered: AtomicUsize::new(0),
            open: Semaphore::new(0),
        });
        let mut config = Config::default();
        config.transport.max_in_flight = 2;
        let server = Server::new("batches", "0").tool(held::SPEC).with_state(Arc::clone(&valve)).config(config);
        let mut h = Harness::serve(server).await;
        h.initialize("2025-03-26").await;
        let calls: Vec<_> = (1..=6)
            .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "held", "arguments": {}}}))
            .collect();
        h.send(json!(calls)).await;
        mcp_tests::eventually("two calls run", || {
            let valve = Arc::clone(&valve);
            async move { (valve.entered.load(Ordering::SeqCst) >= 2).then_some(()) }
        })
        .await;
        valve.open.add_permits(6);
        let answers = h.recv().await;
        let answers = answers.as_array().expect("the batch is answered with an array");
        let refused: Vec<_> = answers.iter().filter(|a| a["error"]["code"] == -32012).collect();
        let done: Vec<_> = answers.iter().filter(|a| a["result"]["content"][0]["text"] == "done").collect();
        assert_eq!((done.len(), refused.len()), (4, 2), "two run, two wait, two find no place: {answers:?}");
        assert!(
            valve.peak.load(Ordering::SeqCst) <= 2,
            "at most max_in_flight ran at once: {}",
            valve.peak.load(Ordering::SeqCst)
        );
    }
}
