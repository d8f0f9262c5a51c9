//! The stdio transport: newline-delimited JSON-RPC on stdin and stdout. Nothing else is ever written to
//! stdout; the server's logs go to stderr.

use std::future::Future;
use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::connection::Connection;
use crate::auth::Credentials;
use crate::pipeline::Pipeline;
use crate::protocol::{ErrorObject, Outgoing};
use crate::request::TransportKind;

/// Outbound messages queued before writers wait.
const OUTBOUND_QUEUE: usize = 1024;
/// Queued messages written in one go before a flush.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// The variables a stdio client's credential is read from, in order: an API key, or a token.
pub const CLIENT_CREDENTIAL_VARS: [&str; 2] = ["MCP_CLIENT_KEY", "MCP_CLIENT_TOKEN"];

/// The stdio client's credential, from the server process's environment ([`CLIENT_CREDENTIAL_VARS`]),
/// checked once now: `None` when the server authenticates nobody.
///
/// # Errors
/// The credential is missing or refused (the message never contains it).
pub(crate) async fn client_credentials(pipeline: &Pipeline) -> Result<Option<Credentials>, String> {
    if !pipeline.gate().enabled() {
        return Ok(None);
    }
    let presented = CLIENT_CREDENTIAL_VARS.iter().find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()));
    if presented.is_none() {
        return Err(format!(
            "the server authenticates its clients, and none was given: set {} (an API key) or {} (a token) in the \
             server's environment",
            CLIENT_CREDENTIAL_VARS[0], CLIENT_CREDENTIAL_VARS[1]
        ));
    }
    let credentials = Credentials::new(presented, TransportKind::Stdio);
    match pipeline.gate().authenticate(&credentials).await {
        Ok(principal) => {
            tracing::info!(principal = %principal.id, method = principal.method.as_str(), "stdio client authenticated");
            Ok(Some(credentials))
        }
        Err(rejection) => Err(format!(
            "the stdio client's credential ({}) was refused: {}",
            CLIENT_CREDENTIAL_VARS.join(" or "),
            rejection.error().message
        )),
    }
}

/// Serves one client over a reader and a writer (stdin and stdout, or a pipe in tests) until the reader
/// ends or `shutdown` completes; in-flight requests then get `transport.shutdown_grace` to finish. Either
/// way the server's change bus is closed first: a stdio server has one client, so open
/// `subscriptions/listen` requests end with their result and the session's listener leaves. When the
/// server authenticates, the client's credential comes from the environment (`MCP_CLIENT_KEY`, else
/// `MCP_CLIENT_TOKEN`), is checked before anything is read, and again for every request.
///
/// # Errors
/// A refused credential (`PermissionDenied`), and I/O errors of the reader or the writer (a closed stdout,
/// say). Malformed input is answered, never fatal.
pub async fn serve_io<R, W>(
    pipeline: Pipeline,
    reader: R,
    writer: W,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let credentials =
        client_credentials(&pipeline).await.map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e))?;
    serve_connection(pipeline, credentials, reader, writer, shutdown).await
}

/// Serves one client whose credential was already checked.
pub(crate) async fn serve_connection<R, W>(
    pipeline: Pipeline,
    credentials: Option<Credentials>,
    reader: R,
    writer: W,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let max = pipeline.config().transport.max_message_bytes;
    let grace = pipeline.config().transport.shutdown_grace;
    let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
    let writer = tokio::spawn(write_loop(rx, writer));
    let flusher = pipeline.clone();
    let connection = Connection::new(pipeline, tx.clone(), TransportKind::Stdio, credentials);
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut line = Vec::new();
    tokio::pin!(shutdown);
    let read_result = loop {
        let read = tokio::select! {
            read = read_line(&mut reader, &mut line, max) => read,
            () = &mut shutdown => {
                tracing::info!("shutdown signal received: finishing in-flight requests");
                break Ok(());
            }
        };
        match read {
            Ok(Line::Eof) => break Ok(()),
            Ok(Line::TooLong) => {
                let error = ErrorObject::invalid_request(format_args!(
                    "message longer than {max} bytes refused (transport.max_message_bytes)"
                ));
                let _ = tx.send(Outgoing::Answer(crate::protocol::Answer { id: None, body: Err(error) })).await;
            }
            Ok(Line::Frame) if line.iter().all(u8::is_ascii_whitespace) => {}
            Ok(Line::Frame) => {
                // `handle_frame` never waits for a request to run (one that finds the connection full waits
                // in its own task, or is refused), but it can wait for the outbound queue (a client that
                // does not read its answers) or the audit queue (`audit.on_full = "block"`): a shutdown
                // must not wait with it.
                let handled = tokio::select! {
                    () = connection.handle_frame(&line) => true,
                    () = &mut shutdown => false,
                };
                if !handled {
                    tracing::info!(
                        "shutdown signal received while a message was being handled: finishing in-flight requests"
                    );
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
        if writer.is_finished() {
            break Ok(()); // stdout is gone: nobody can read answers any more
        }
    };
    // The client is gone or the server is stopping: a stdio server serves no one else, so its bus closes
    // now, before the grace, and `subscriptions/listen` requests end with their result.
    flusher.app().bus().close();
    // Running tasks get the same grace as in-flight requests, then are cancelled (and recorded so).
    tokio::join!(connection.drain(grace), flusher.app().tasks().shutdown(grace));
    flusher.flush().await; // every finished request's record is written before the process exits
    drop(tx);
    let written = writer.await.unwrap_or_else(|e| Err(io::Error::other(e)));
    read_result.and(written)
}

enum Line {
    Frame,
    TooLong,
    Eof,
}

/// Reads one line into `line` (without the newline), refusing to hold more than `max` bytes of it.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, line: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    line.clear();
    let mut seen = 0usize;
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(match (seen, too_long) {
                (0, _) => Line::Eof,
                (_, true) => Line::TooLong,
                _ => Line::Frame, // a last line without a newline
            });
        }
        let newline = buf.iter().position(|&b| b == b'\n');
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        seen += chunk.len();
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line.clear();
                line.shrink_to(64 * 1024);
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(if too_long { Line::TooLong } else { Line::Frame });
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(mut rx: mpsc::Receiver<Outgoing>, mut writer: W) -> io::Result<()> {
    let mut buf = Vec::with_capacity(WRITE_BATCH_BYTES);
    while let Some(message) = rx.recv().await {
        buf.clear();
        encode(&message, &mut buf);
        // Before a flush, one turn of the scheduler: requests that are about to answer queue their answers,
        // and go out in the same write.
        let mut yielded = false;
        while buf.len() < WRITE_BATCH_BYTES {
            match rx.try_recv() {
                Ok(more) => encode(&more, &mut buf),
                Err(mpsc::error::TryRecvError::Empty) if !yielded => {
                    tokio::task::yield_now().await;
                    yielded = true;
                }
                Err(_) => break,
            }
        }
        writer.write_all(&buf).await?;
        writer.flush().await?;
    }
    writer.shutdown().await // everything written before the server returns
}

fn encode(message: &Outgoing, buf: &mut Vec<u8>) {
    if matches!(message, Outgoing::CloseStream { .. }) {
        return; // a stream-level instruction with no meaning on a pipe
    }
    // serde_json escapes control characters, so an encoded message never holds a raw newline.
    if let Err(e) = serde_json::to_writer(&mut *buf, message) {
        tracing::error!(error = %e, "an outgoing message could not be encoded");
        return;
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Result<String, &'static str>> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line(&mut reader, &mut line, max).await.unwrap() {
                Line::Eof => return out,
                Line::TooLong => out.push(Err("too long")),
                Line::Frame => out.push(Ok(String::from_utf8(line.clone()).unwrap())),
            }
        }
    }

    #[tokio::test]
    async fn lines_are_bounded_and_the_next_one_survives() {
        let got = lines(b"short\r\nthis line is far too long\nok\nlast", 10).await;
        assert_eq!(got, vec![Ok("short".into()), Err("too long"), Ok("ok".into()), Ok("last".into())]);
    }

    #[test]
    fn rejected_frames_answer_with_a_null_id() {
        let r = crate::protocol::Rejected { id: None, error: ErrorObject::parse_error("x") };
        let mut buf = Vec::new();
        encode(&Outgoing::Answer(crate::protocol::Answer { id: r.id, body: Err(r.error) }), &mut buf);
        assert!(buf.starts_with(br#"{"jsonrpc":"2.0","id":null,"error""#));
        assert_eq!(buf.last(), Some(&b'\n'));
    }
}
