//! The stdio driver: pipelined calls over one connection, ours against rmcp's.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::http::body;
use super::servers::{Pin, cpu_us};
use super::{Era, MESSAGE};

/// `calls` pipelined `tools/call`s over one stdio connection after the handshake, at most 128 outstanding
/// (the runtime refuses requests beyond `max_in_flight` running and as many waiting): calls/s and CPU µs
/// per call.
pub(super) fn stdio_run(pin: &Pin, program: &Path, args: &[String], calls: usize) -> Result<(f64, f64)> {
    const WINDOW: usize = 128;
    let mut child = pin
        .command(1, program)
        .args(args)
        .env("MCP_LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let mut stdin = std::io::BufWriter::new(child.stdin.take().context("piped stdin")?);
    let mut stdout = BufReader::new(child.stdout.take().context("piped stdout")?);
    let mut line = String::new();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"bench","version":"0"}}}}}}"#
    )?;
    stdin.flush()?;
    stdout.read_line(&mut line)?;
    if !line.contains("\"result\"") {
        bail!("{} answered initialize with {line}", program.display());
    }
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#)?;
    let template = body(Era::Session);
    let (tx, rx) = mpsc::sync_channel::<()>(WINDOW);
    for _ in 0..WINDOW {
        tx.send(())?;
    }
    let cpu_before = cpu_us(child.id())?;
    let started = Instant::now();
    let reader = std::thread::spawn(move || -> Result<usize> {
        let mut answered = 0;
        let mut line = String::new();
        while answered < calls {
            line.clear();
            if stdout.read_line(&mut line)? == 0 {
                bail!("the server closed its stdout after {answered} answers");
            }
            if line.contains("\"id\"") && line.contains("\"result\"") {
                if !line.contains(MESSAGE) {
                    bail!("a call was answered without the echo: {line}");
                }
                answered += 1;
                let _ = tx.send(());
            } else if line.contains("\"error\"") {
                bail!("a call failed: {line}");
            }
        }
        Ok(answered)
    });
    // Write while credits last, flush, then wait for the next answer's credit.
    let mut credits = 0;
    for id in 1..=calls {
        if credits == 0 {
            stdin.flush()?;
            rx.recv()?;
            credits = 1 + rx.try_iter().count();
        }
        credits -= 1;
        stdin.write_all(template.replace("@ID@", &id.to_string()).as_bytes())?;
        stdin.write_all(b"\n")?;
    }
    stdin.flush()?;
    let answered = reader.join().map_err(|_| anyhow::anyhow!("the stdio reader panicked"))??;
    let elapsed = started.elapsed();
    let cpu = cpu_us(child.id())? - cpu_before;
    drop(stdin);
    let _ = child.wait();
    Ok((answered as f64 / elapsed.as_secs_f64(), cpu / answered as f64))
}
