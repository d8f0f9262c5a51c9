//! The HTTP scenarios: one call by hand (a session opened, the first answer checked), then `wrk` with a
//! Lua script that checks every answer (warm-up) or measures.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::servers::{Pin, Process};
use super::{Era, KEY, MESSAGE, Scenario, Server};

/// One measured run.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Run {
    pub(super) rps: f64,
    pub(super) p50_us: f64,
    pub(super) p99_us: f64,
    pub(super) cpu_us: f64,
}

/// The request body, with `@ID@` where each request's id goes.
pub(super) fn body(era: Era) -> String {
    let meta = match era {
        Era::Stateless => {
            r#","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"}}"#
        }
        Era::Session => "",
    };
    format!(
        r#"{{"jsonrpc":"2.0","id":@ID@,"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{MESSAGE}"}}{meta}}}}}"#
    )
}

/// The headers of a call, besides the session's.
fn headers(era: Era, full: bool) -> Vec<String> {
    let mut headers =
        vec!["Content-Type: application/json".to_owned(), "Accept: application/json, text/event-stream".to_owned()];
    match era {
        Era::Stateless => headers.extend([
            "MCP-Protocol-Version: 2026-07-28".to_owned(),
            "Mcp-Method: tools/call".to_owned(),
            "Mcp-Name: echo".to_owned(),
        ]),
        Era::Session => headers.push("MCP-Protocol-Version: 2025-11-25".to_owned()),
    }
    if full {
        headers.push(format!("Authorization: Bearer {KEY}"));
    }
    headers
}

/// The measuring script: a new id per request, one JSON line of figures at the end.
pub(super) const MEASURE_LUA: &str = r#"wrk.method = "POST"
local pre, post, n = nil, nil, 0
init = function(args)
  local f = assert(io.open(args[1], "r")); local t = f:read("*a"):gsub("%s+$", ""); f:close()
  pre, post = t:match("^(.-)@ID@(.*)$")
end
request = function() n = n + 1; return wrk.format(nil, nil, nil, pre .. n .. post) end
done = function(s, lat, _)
  io.write(string.format('{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    s.requests, s.duration, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    lat:percentile(50), lat:percentile(99)))
end
"#;

/// The warm-up script: the same requests, every answer checked (status 200, the echo, no error).
pub(super) const CHECK_LUA: &str = r#"wrk.method = "POST"
local pre, post, n, bad = nil, nil, 0, 0
init = function(args)
  local f = assert(io.open(args[1], "r")); local t = f:read("*a"):gsub("%s+$", ""); f:close()
  pre, post = t:match("^(.-)@ID@(.*)$")
end
request = function() n = n + 1; return wrk.format(nil, nil, nil, pre .. n .. post) end
response = function(status, headers, body)
  if status ~= 200 or not body:find('"text":"hello"', 1, true) or body:find('"error"', 1, true) then bad = bad + 1 end
end
done = function(s, lat, _) io.write(string.format('{"bad":%d}\n', bad)) end
"#;

/// Opens a handshake-era session when the scenario needs one; returns its id.
pub(super) fn open_session_if(server: Server, era: Era, address: &str) -> Result<Option<String>> {
    if era != Era::Session {
        return Ok(None);
    }
    let full = server == Server::Full;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;
    let mut extra =
        vec!["Content-Type: application/json".to_owned(), "Accept: application/json, text/event-stream".to_owned()];
    if full {
        extra.push(format!("Authorization: Bearer {KEY}"));
    }
    let (head, _) = http_post(address, &extra, init)?;
    let session = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("mcp-session-id"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .context("initialize returned no Mcp-Session-Id")?;
    extra.push(format!("Mcp-Session-Id: {session}"));
    extra.push("MCP-Protocol-Version: 2025-11-25".to_owned());
    let (head, _) = http_post(address, &extra, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;
    if !head.starts_with("HTTP/1.1 202") {
        bail!("notifications/initialized: {}", head.lines().next().unwrap_or_default());
    }
    Ok(Some(session))
}

/// One call, answered: its body.
pub(super) fn call_once(address: &str, era: Era, full: bool, session: Option<&str>) -> Result<String> {
    let mut extra = headers(era, full);
    if let Some(session) = session {
        extra.push(format!("Mcp-Session-Id: {session}"));
    }
    let (head, body) = http_post(address, &extra, &body(era).replace("@ID@", "1"))?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{}: {body}", head.lines().next().unwrap_or_default());
    }
    Ok(body)
}

/// A POST to `/mcp` over its own connection (`Connection: close`): the response head and body.
fn http_post(address: &str, headers: &[String], body: &str) -> Result<(String, String)> {
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request =
        format!("POST /mcp HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for header in headers {
        request += header;
        request += "\r\n";
    }
    request += "\r\n";
    request += body;
    stream.write_all(request.as_bytes())?;
    // The head, then a body of Content-Length bytes, or (SSE, chunked) until the answer or the end.
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf)?;
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            });
            let done = match length {
                Some(length) => body.len() >= length,
                None => n == 0 || body.contains("\"result\"") || body.contains("\"error\""),
            };
            if done {
                return Ok((head.to_owned(), body.to_owned()));
            }
        }
        if n == 0 {
            bail!("the connection closed before a whole response: {text}");
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn wrk_command(
    wrk: &(PathBuf, PathBuf),
    pin: &Pin,
    dir: &Path,
    process: &Process,
    scenario: Scenario,
    session: Option<&str>,
    c: usize,
    seconds: u64,
    script: &str,
) -> Command {
    let mut command = pin.command(0, &wrk.0);
    command.env("LD_LIBRARY_PATH", &wrk.1).args([
        "-t1",
        &format!("-c{c}"),
        &format!("-d{seconds}s"),
        "--timeout",
        "5s",
    ]);
    for header in headers(scenario.era, scenario.server == Server::Full) {
        command.arg("-H").arg(header);
    }
    if let Some(session) = session {
        command.arg("-H").arg(format!("Mcp-Session-Id: {session}"));
    }
    let body = if scenario.era == Era::Stateless { "stateless.json" } else { "session.json" };
    command
        .arg("-s")
        .arg(dir.join(script))
        .arg(format!("http://{}/mcp", process.address))
        .arg("--")
        .arg(dir.join(body))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// The last line wrk printed, parsed by hand (`{"key":number,...}`).
fn figures(output: &[u8]) -> Result<BTreeMap<String, f64>> {
    let text = String::from_utf8_lossy(output);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).with_context(|| format!("wrk printed no figures:\n{text}"))?;
    let mut map = BTreeMap::new();
    for pair in line.trim_matches(|c| c == '{' || c == '}').split(',') {
        let (k, v) = pair.split_once(':').context("a figure")?;
        map.insert(k.trim_matches('"').to_owned(), v.parse()?);
    }
    Ok(map)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn wrk_check(
    wrk: &(PathBuf, PathBuf),
    pin: &Pin,
    dir: &Path,
    process: &Process,
    scenario: Scenario,
    session: Option<&str>,
    c: usize,
    seconds: u64,
) -> Result<u64> {
    let output = wrk_command(wrk, pin, dir, process, scenario, session, c, seconds, "check.lua").output()?;
    Ok(figures(&output.stdout)?.get("bad").copied().unwrap_or(f64::MAX) as u64)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn wrk_measure(
    wrk: &(PathBuf, PathBuf),
    pin: &Pin,
    dir: &Path,
    process: &Process,
    scenario: Scenario,
    session: Option<&str>,
    c: usize,
    seconds: u64,
) -> Result<Run> {
    let before = process.cpu_us()?;
    let output = wrk_command(wrk, pin, dir, process, scenario, session, c, seconds, "mcp.lua").output()?;
    let after = process.cpu_us()?;
    let f = figures(&output.stdout)?;
    let requests = f["requests"];
    if f["status_errors"] > 0.0 || f["socket_errors"] > 0.0 {
        bail!(
            "{} ({:?}) at c{c}: {} status errors and {} socket errors in {requests} requests",
            scenario.server.name(),
            scenario.era,
            f["status_errors"],
            f["socket_errors"]
        );
    }
    Ok(Run {
        rps: requests / (f["duration_us"] / 1e6),
        p50_us: f["p50_us"],
        p99_us: f["p99_us"],
        cpu_us: (after - before) / requests.max(1.0),
    })
}
