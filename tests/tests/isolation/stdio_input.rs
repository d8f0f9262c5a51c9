//! Hostile stdio input: a byte at a time, lines cut at random and mixed with garbage, a 100 MiB line, and a
//! shutdown while the connection is full.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mcp_runtime::prelude::*;
use mcp_tests::{OPS_KEY, inventory_bin, result_text};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{HEAVY, Load, Pipe, Probe, call, hang, quick, quiet, slow_echo};

/// Deterministic pseudo-random numbers (a 64-bit LCG): the same cuts on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn a_request_written_a_byte_at_a_time_is_answered_once_its_line_ends() {
    let mut p = Pipe::start(
        Server::new("slow", "0").tool(slow_echo::SPEC).with_state(Arc::new(Load::default())).config(quiet()),
    )
    .await;
    let message = call(1, "slow_echo", json!({"text": "naïve café ☕ 𝄞", "ms": 0})).to_string();
    for byte in message.as_bytes() {
        p.write(std::slice::from_ref(byte)).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), p.lines.next_line()).await.is_err(),
        "nothing is answered before the line ends"
    );
    p.write(b"\r\n").await;
    let answer = p.recv().await;
    assert_eq!(answer["id"], 1);
    assert_eq!(result_text(&answer["result"]), "naïve café ☕ 𝄞", "split multi-byte characters were joined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_partial_lines_and_garbage_then_eof_leave_every_complete_request_answered() {
    let load = Arc::new(Load::default());
    let p =
        Pipe::start(Server::new("cut", "0").tool(slow_echo::SPEC).with_state(Arc::clone(&load)).config(quiet())).await;
    // Complete requests (ids 1..=12), each carrying its own text with multi-byte characters, between lines
    // that must each get a parse error with id null and leave the next line served.
    let garbage: [&[u8]; 7] = [
        b"\xff\xfe\xfd", // not UTF-8 at all
        b"{\"jsonrpc\":\"2.0\",\"id\":90,\"method\":\"ping\",\"params\":{\"s\":\"\xc0\xaf\"}}", // overlong '/'
        b"{\"jsonrpc\":\"2.0\",\"id\":91,\"method\":\"ping\",\"params\":{\"s\":\"\xed\xa0\x80\"}}", // a surrogate
        b"{\"jsonrpc\":\"2.0\",\"id\":92,\"method\":\"ping\",\"params\":{\"s\":\"\xe2\x82\"}}", // cut character
        b"{\"jsonrpc\":\"2.0\",\"id\":93,\"meth", // cut JSON
        b"]]]",
        b"\x00\x01\x02",
    ];
    let mut stream = Vec::new();
    let mut expected = BTreeMap::new();
    for id in 1..=12i64 {
        let text = format!("request {id}: žluťoučký kůň 🐎 {}", "é".repeat(id as usize * 7));
        expected.insert(id, text.clone());
        // The later requests are slow: they are still running when the input ends.
        let ms = if id > 9 { 300 } else { 20 };
        stream.extend_from_slice(call(id, "slow_echo", json!({"text": text, "ms": ms})).to_string().as_bytes());
        stream.extend_from_slice(if id % 3 == 0 { b"\r\n" } else { b"\n" });
        if let Some(junk) = garbage.get(id as usize - 1) {
            stream.extend_from_slice(junk);
            stream.push(b'\n');
        }
        if id % 4 == 0 {
            stream.extend_from_slice(b"\n   \t \n"); // blank lines are skipped, not answered
            stream.extend_from_slice(
                br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"x","progress":1}}"#,
            );
            stream.push(b'\n');
        }
    }
    // The input ends in the middle of a request: it cannot be answered as one, only as a parse error.
    stream.extend_from_slice(br#"{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"slow_"#);

    // Everything the server writes is collected while the input trickles in, cut at random places (inside
    // multi-byte characters and between \r and \n too) with pauses.
    let Pipe { mut writer, mut lines, mut served, _stop } = p;
    let collector = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(line) =
            tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.expect("the server ends").unwrap()
        {
            out.push((Instant::now(), serde_json::from_str::<Value>(&line).expect("every line is JSON")));
        }
        out
    });
    let mut rng = Lcg(0x5eed_1234);
    let mut rest = stream.as_slice();
    let mut writes = 0;
    while !rest.is_empty() {
        let n = (1 + rng.below(24) as usize).min(rest.len());
        writer.write_all(&rest[..n]).await.unwrap();
        rest = &rest[n..];
        writes += 1;
        match rng.below(10) {
            0 => tokio::time::sleep(Duration::from_millis(1)).await,
            1..=3 => tokio::task::yield_now().await,
            _ => {}
        }
    }
    writer.shutdown().await.unwrap();
    let eof = Instant::now();
    let in_flight_at_eof = load.now.load(Ordering::SeqCst);
    let served = tokio::time::timeout(Duration::from_secs(10), &mut served).await.expect("the server stops").unwrap();
    assert!(served.is_ok(), "EOF is a clean end: {served:?}");
    let out = collector.await.unwrap();
    eprintln!("{} bytes in {writes} writes; {in_flight_at_eof} requests in flight at EOF", stream.len());

    let mut answered = BTreeMap::new();
    let mut parse_errors = 0;
    for (at, message) in &out {
        if message["id"].is_null() {
            assert_eq!(message["error"]["code"], -32700, "{message}");
            parse_errors += 1;
        } else {
            let id = message["id"].as_i64().unwrap();
            assert!(answered.insert(id, (result_text(&message["result"]), *at)).is_none(), "{id} answered twice");
        }
    }
    assert_eq!(parse_errors, garbage.len() + 1, "one per garbage line and one for the cut last line: {out:?}");
    assert_eq!(answered.keys().copied().collect::<Vec<_>>(), expected.keys().copied().collect::<Vec<_>>());
    for (id, text) in &expected {
        assert_eq!(&answered[id].0, text, "request {id} got its own text back");
    }
    assert!(in_flight_at_eof > 0, "some requests were still running at EOF");
    assert!(answered[&12].1 > eof, "the slow last request was answered after EOF, before the exit");
}

/// `VmHWM` (peak resident memory) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM is reported")
}

#[test]
fn a_100_mib_line_is_refused_without_being_held_and_the_next_line_is_served() {
    let _heavy = HEAVY.blocking_lock();
    let mut child = Command::new(inventory_bin())
        .env("MCP_CLIENT_KEY", OPS_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let recv = || -> Value {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("an answer within 60 s");
        serde_json::from_str(&line).unwrap()
    };
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    assert_eq!(recv()["id"], 1);
    let before = peak_rss_kib(pid);

    // A well-formed request 100 MiB long, written 1 MiB at a time from one buffer.
    let started = Instant::now();
    let chunk = vec![b'x'; 1 << 20];
    stdin.write_all(br#"{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":""#).unwrap();
    for _ in 0..100 {
        stdin.write_all(&chunk).unwrap();
    }
    stdin.write_all(b"\"}}\n").unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":3,"method":"ping"}}"#).unwrap();
    stdin.flush().unwrap();
    let refused = recv();
    let took = started.elapsed();
    assert_eq!(refused["id"], Value::Null, "{refused}");
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("4194304 bytes"), "{refused}");
    assert_eq!(recv(), json!({"jsonrpc": "2.0", "id": 3, "result": {}}), "the next line is served");
    let after = peak_rss_kib(pid);
    eprintln!("100 MiB line refused in {took:?}; peak RSS {before} KiB before, {after} KiB after");
    // It holds at most transport.max_message_bytes (4 MiB) of the line, never the whole of it.
    assert!(after < before + 32 * 1024, "peak RSS grew from {before} KiB to {after} KiB");

    // Another 100 MiB, with no newline: the input ends inside it. It is refused the same way, then the
    // server exits cleanly.
    for _ in 0..100 {
        stdin.write_all(&chunk).unwrap();
    }
    drop(stdin);
    let refused = recv();
    assert_eq!((refused["id"].clone(), refused["error"]["code"].clone()), (Value::Null, json!(-32600)), "{refused}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after EOF");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "EOF is a clean exit: {status}");
    assert!(rx.recv_timeout(Duration::from_secs(5)).is_err(), "nothing else was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_is_honoured_while_a_full_connection_holds_a_request_back() {
    // Two never-ending calls take both of transport.max_in_flight's places; a third request waits for one.
    // The shutdown signal must still end the connection after shutdown_grace, not after the calls' timeout:
    // the calls are cancelled, and so is the request still waiting.
    let probe = Arc::new(Probe::default());
    let mut config = quiet();
    config.transport.max_in_flight = 2;
    config.transport.shutdown_grace = Duration::from_millis(200);
    config.tools.default_timeout = Duration::from_secs(30);
    let server =
        Server::new("full", "0").tool(hang::SPEC).tool(quick::SPEC).with_state(Arc::clone(&probe)).config(config);
    let Pipe { mut writer, lines, served, _stop: stop } = Pipe::start(server).await;
    for (id, tool) in [(1, "hang"), (2, "hang"), (3, "quick")] {
        writer.write_all(format!("{}\n", call(id, tool, json!({}))).as_bytes()).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.entered.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the two calls never reached the handler");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let signalled = Instant::now();
    drop(stop); // the shutdown signal
    let served = tokio::time::timeout(Duration::from_secs(15), served)
        .await
        .expect("the connection ended long before the calls' 30 s timeout")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
    eprintln!("a full connection ended {:?} after the shutdown signal", signalled.elapsed());
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 2, "the never-ending calls were cancelled after the grace");
    drop((writer, lines));
}
