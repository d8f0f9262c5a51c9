//! Stdin and stdout for the stdio transport, each served by a thread of its own.
//!
//! Tokio's `stdin()` and `stdout()` hand every read and every flush to the blocking pool, a task spawned
//! per operation; under a pipelining client that is most of the transport's cost. Here one thread blocks
//! in `read` and passes what it read on, and one thread writes what the connection flushes, so the
//! runtime's threads never block and nothing is spawned per message.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::PollSender;

/// Bytes one read of stdin takes at most, and what writes to stdout gather before they are handed on
/// without waiting for a flush.
const CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the connection, and flushed batches waiting for the writer: a client that sends
/// faster than the server reads (or reads slower than it writes) waits on the pipe, not in memory.
const QUEUED: usize = 4;

/// The process's stdin, read by a thread of its own.
pub(crate) struct Stdin {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Stdin {
    /// Starts the reading thread. It ends at end of file, on a read error, or once `Stdin` is dropped
    /// and its next read returns (a thread blocked in `read` is left to the process's exit).
    pub(crate) fn spawn() -> io::Result<Self> {
        let (tx, chunks) = mpsc::channel(QUEUED);
        std::thread::Builder::new().name("mcp-stdin".into()).spawn(move || {
            let mut stdin = io::stdin().lock();
            let mut buf = vec![0u8; CHUNK];
            loop {
                let read = match stdin.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => Ok(buf[..n].to_vec()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = read.is_err();
                if tx.blocking_send(read).is_err() || failed {
                    return;
                }
            }
        })?;
        Ok(Self { chunks, chunk: Vec::new(), at: 0 })
    }
}

impl AsyncRead for Stdin {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.at == self.chunk.len() {
            match ready!(self.chunks.poll_recv(cx)) {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(())), // end of file
            }
        }
        let n = out.remaining().min(self.chunk.len() - self.at);
        out.put_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

/// The process's stdout, written by a thread of its own: writes gather in a buffer, and each flush hands
/// the buffer to the thread (waiting while [`QUEUED`] batches are still unwritten). Shutting it down waits
/// until the thread has written everything, so no answer is lost when the process exits.
pub(crate) struct Stdout {
    batches: PollSender<Vec<u8>>,
    buf: Vec<u8>,
    written: Option<oneshot::Receiver<()>>,
}

impl Stdout {
    /// Starts the writing thread. It ends when `Stdout` is shut down or dropped, or when stdout is gone
    /// (then the next flush fails with `BrokenPipe`).
    pub(crate) fn spawn() -> io::Result<Self> {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUED);
        let (done, written) = oneshot::channel();
        std::thread::Builder::new().name("mcp-stdout".into()).spawn(move || {
            let mut stdout = io::stdout().lock();
            while let Some(batch) = rx.blocking_recv() {
                if let Err(e) = stdout.write_all(&batch).and_then(|()| stdout.flush()) {
                    tracing::warn!(error = %e, "stdout cannot be written: no more answers can be sent");
                    return;
                }
            }
            let _ = done.send(());
        })?;
        Ok(Self { batches: PollSender::new(tx), buf: Vec::new(), written: Some(written) })
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "stdout is closed")
}

impl AsyncWrite for Stdout {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.buf.len() >= CHUNK {
            ready!(self.as_mut().poll_flush(cx))?;
        }
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buf.is_empty() {
            return Poll::Ready(Ok(()));
        }
        ready!(self.batches.poll_reserve(cx)).map_err(|_| gone())?;
        let batch = std::mem::take(&mut self.buf);
        self.batches.send_item(batch).map_err(|_| gone())?;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        self.batches.close();
        let Some(written) = self.written.as_mut() else { return Poll::Ready(Ok(())) };
        let result = ready!(Pin::new(written).poll(cx)).map_err(|_| gone());
        self.written = None;
        Poll::Ready(result)
    }
}
