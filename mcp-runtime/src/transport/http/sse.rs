//! Server-Sent Events: a stream's events kept in a bounded log that readers follow, so a client that
//! lost the connection resumes with `Last-Event-ID` and nothing in between is lost.
//!
//! Event ids are `<stream>-<seq>`: they name the stream they belong to, as SEP-1699 asks, so a resumed
//! GET replays only that stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::Notify;

use crate::protocol::Outgoing;

/// One SSE stream's recent events, shared by the writer (a request's task) and its reader (an HTTP
/// response body, or a later resumption).
#[derive(Debug)]
pub(crate) struct EventLog {
    stream: u64,
    capacity: usize,
    /// A session's standalone GET stream (not a request's): it carries change notifications.
    standalone: AtomicBool,
    state: Mutex<LogState>,
    changed: Notify,
    /// Woken when a reader sent events, or left: a paced writer may have room.
    room: Notify,
}

#[derive(Debug, Default)]
struct LogState {
    /// (sequence number, encoded event)
    events: VecDeque<(u64, Bytes)>,
    next_seq: u64,
    /// No more events will come.
    finished: bool,
    /// Bumped to make current readers end (server-initiated disconnect, SEP-1699).
    epoch: u64,
    /// `next_seq` at the last disconnect: a disconnected reader still sends the events before it.
    disconnect_seq: u64,
    retry: Option<Duration>,
    /// Readers following the log now.
    readers: usize,
    /// The sequence number after the last event the most advanced reader sent.
    read_seq: u64,
}

/// A parsed `Last-Event-ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventId {
    pub(crate) stream: u64,
    pub(crate) seq: u64,
}

impl EventId {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (stream, seq) = text.trim().split_once('-')?;
        Some(Self { stream: stream.parse().ok()?, seq: seq.parse().ok()? })
    }
}

impl EventLog {
    pub(crate) fn new(stream: u64, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            stream,
            capacity: capacity.max(1),
            standalone: AtomicBool::new(false),
            state: Mutex::default(),
            changed: Notify::new(),
            room: Notify::new(),
        })
    }

    /// Marks this log as a session's standalone GET stream.
    pub(crate) fn mark_standalone(&self) {
        self.standalone.store(true, Ordering::Relaxed);
    }

    /// Whether this log is a session's standalone GET stream.
    pub(crate) fn is_standalone(&self) -> bool {
        self.standalone.load(Ordering::Relaxed)
    }

    pub(crate) fn stream_id(&self) -> u64 {
        self.stream
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event with an empty `data` field: it gives the client an id to resume from before any
    /// message is sent (the "priming" event of SEP-1699).
    pub(crate) fn prime(&self) {
        self.append_encoded(None, |_| String::new());
    }

    /// Appends an event with a name other than the default `message` (the legacy transport's
    /// `endpoint` event).
    pub(crate) fn push_named(&self, event: &str, data: &str) {
        self.append_encoded(Some(event), |_| data.to_owned());
    }

    /// Appends a message.
    pub(crate) fn push(&self, message: &Outgoing) {
        match serde_json::to_string(message) {
            Ok(json) => self.append_encoded(None, |_| json),
            Err(e) => tracing::error!(error = %e, "an SSE message could not be encoded"),
        }
    }

    fn append_encoded(&self, event: Option<&str>, data: impl FnOnce(u64) -> String) {
        let mut state = self.state();
        if state.finished {
            return;
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let event = encode_event(&format!("{}-{seq}", self.stream), &data(seq), event);
        state.events.push_back((seq, event));
        while state.events.len() > self.capacity {
            state.events.pop_front();
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// No more events: readers end once they have sent what is left.
    pub(crate) fn finish(&self) {
        self.state().finished = true;
        self.changed.notify_waiters();
        self.room.notify_waiters();
    }

    /// Ends the current readers (after telling the client when to come back), keeping the log so the
    /// client can resume with `Last-Event-ID`.
    pub(crate) fn disconnect(&self, retry: Duration) {
        {
            let mut state = self.state();
            state.epoch += 1;
            state.disconnect_seq = state.next_seq;
            state.retry = Some(retry);
        }
        self.changed.notify_waiters();
    }

    /// Whether the event `seq` was ever appended (a `Last-Event-ID` naming a later one is made up).
    pub(crate) fn has_sent(&self, seq: u64) -> bool {
        seq < self.state().next_seq
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.state().finished
    }

    /// The body of an SSE response: the events after `after` (all of them when `None`), then new ones
    /// as they come, until the log finishes or the server disconnects this reader. Idle streams get a
    /// comment every `keep_alive`.
    ///
    /// The reader of the response a log was opened for (`after == None`) belongs to the log's first
    /// epoch, so a disconnect asked for before that response started still ends it; a resumption
    /// belongs to the current epoch.
    pub(crate) fn follow(
        self: Arc<Self>,
        after: Option<u64>,
        keep_alive: Duration,
    ) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        let epoch = if after.is_none() { 0 } else { self.state().epoch };
        let cursor = after.map_or(0, |s| s.saturating_add(1));
        futures_util::stream::unfold((Reader::new(self), cursor, false), move |(reader, cursor, done)| async move {
            if done {
                return None;
            }
            loop {
                let step = {
                    let log = &reader.0;
                    let notified = log.changed.notified();
                    tokio::pin!(notified);
                    notified.as_mut().enable();
                    match log.step(epoch, cursor) {
                        Step::Wait => match tokio::time::timeout(keep_alive, notified).await {
                            Ok(()) => continue,
                            Err(_) => Step::KeepAlive,
                        },
                        step => step,
                    }
                };
                return match step {
                    Step::Chunk(chunk, next) => Some((Ok(chunk), (reader, next, false))),
                    Step::Retry(chunk) => Some((Ok(chunk), (reader, cursor, true))),
                    Step::KeepAlive => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (reader, cursor, false))),
                    Step::End | Step::Wait => None,
                };
            }
        })
    }

    /// What a reader of `epoch` at `cursor` sends next.
    fn step(&self, epoch: u64, cursor: u64) -> Step {
        let mut state = self.state();
        let disconnected = state.epoch != epoch;
        let end = if disconnected { state.disconnect_seq } else { u64::MAX };
        let pending: Vec<&(u64, Bytes)> = state.events.iter().filter(|(seq, _)| *seq >= cursor && *seq < end).collect();
        if pending.is_empty() && disconnected {
            // Told to disconnect, and everything before that is sent: say when to come back, then end.
            let retry = state.retry.unwrap_or(Duration::from_secs(1));
            return Step::Retry(Bytes::from(format!("retry: {}\n\n", retry.as_millis())));
        }
        if let Some(last) = pending.last() {
            let next = last.0 + 1;
            let mut chunk = Vec::new();
            for (_, event) in pending {
                chunk.extend_from_slice(event);
            }
            state.read_seq = state.read_seq.max(next);
            drop(state);
            self.room.notify_waiters();
            return Step::Chunk(Bytes::from(chunk), next);
        }
        if state.finished { Step::End } else { Step::Wait }
    }

    /// Appends a message once the stream's reader has room for it: while a reader is attached and
    /// `capacity` events it has not sent yet are waiting, this waits (so that nothing it has not read is
    /// dropped from the log, and the writer slows down instead: a request's notifier, a delivery task,
    /// whose bus coalesces meanwhile). Without a reader (the client went away and may resume) it appends
    /// at once, and the log keeps its last `capacity` events.
    pub(crate) async fn push_paced(&self, message: &Outgoing) {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let state = self.state();
                let unread = state.next_seq.saturating_sub(state.read_seq);
                if state.finished || state.readers == 0 || unread < self.capacity as u64 {
                    break;
                }
            }
            room.await;
        }
        self.push(message);
    }
}

/// What a reader sends next.
enum Step {
    /// These events, and the cursor after them.
    Chunk(Bytes, u64),
    /// The `retry` field that ends a disconnected reader.
    Retry(Bytes),
    /// A comment, so that idle connections stay open.
    KeepAlive,
    /// Nothing more: the log is finished.
    End,
    /// Nothing yet.
    Wait,
}

/// One reader of a log, counted while it lives (see [`EventLog::push_paced`]).
struct Reader(Arc<EventLog>);

impl Reader {
    fn new(log: Arc<EventLog>) -> Self {
        log.state().readers += 1;
        Self(log)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.state().readers -= 1;
        self.0.room.notify_waiters();
    }
}

/// Encodes one SSE event. `data` is JSON (no raw line breaks) or empty; any line break is still split
/// into `data:` lines — CRLF, LF and a lone CR alike, as event-stream parsers end lines — so no payload can
/// inject an event or a field.
pub(crate) fn encode_event(id: &str, data: &str, event: Option<&str>) -> Bytes {
    let mut out = String::with_capacity(data.len() + id.len() + 16);
    if let Some(event) = event {
        let _ = writeln!(out, "event: {}", event.replace(['\r', '\n'], ""));
    }
    let _ = writeln!(out, "id: {}", id.replace(['\r', '\n'], ""));
    if data.is_empty() {
        out.push_str("data:\n");
    } else {
        let mut rest = data;
        while let Some(end) = rest.find(['\r', '\n']) {
            let _ = writeln!(out, "data: {}", &rest[..end]);
            rest = &rest[end + if rest[end..].starts_with("\r\n") { 2 } else { 1 }..];
        }
        let _ = writeln!(out, "data: {rest}");
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::protocol::OutgoingNotification;

    fn note(n: u64) -> Outgoing {
        Outgoing::Notification(OutgoingNotification::new(
            crate::protocol::method::NOTIFICATION_PROGRESS,
            serde_json::json!({ "progress": n }),
        ))
    }

    async fn collect(log: Arc<EventLog>, after: Option<u64>) -> String {
        let chunks: Vec<_> = log.follow(after, Duration::from_secs(60)).collect().await;
        chunks.into_iter().map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap()).collect()
    }

    #[tokio::test]
    async fn readers_get_every_event_then_end_when_finished() {
        let log = EventLog::new(7, 16);
        log.prime();
        log.push(&note(1));
        log.push(&note(2));
        log.finish();
        let text = collect(Arc::clone(&log), None).await;
        assert!(text.starts_with("id: 7-0\ndata:\n\n"), "{text}");
        assert!(text.contains("id: 7-2\ndata: {"), "{text}");
        let resumed = collect(log, Some(1)).await;
        assert!(!resumed.contains("7-1") && resumed.contains("7-2"), "{resumed}");
    }

    #[tokio::test]
    async fn a_disconnected_reader_ends_with_retry_and_a_resumption_sees_the_rest() {
        let log = EventLog::new(1, 16);
        log.prime();
        let reader = tokio::spawn(collect(Arc::clone(&log), None));
        tokio::time::sleep(Duration::from_millis(20)).await;
        log.disconnect(Duration::from_millis(500));
        let first = reader.await.unwrap();
        assert!(first.ends_with("retry: 500\n\n"), "{first}");
        log.push(&note(1));
        log.finish();
        let rest = collect(log, Some(0)).await;
        assert!(rest.contains("id: 1-1"), "{rest}");
    }

    #[tokio::test]
    async fn a_disconnect_before_the_response_starts_still_ends_it_after_what_came_first() {
        let log = EventLog::new(2, 16);
        log.prime();
        log.disconnect(Duration::from_millis(500));
        log.push(&note(1));
        let first = collect(Arc::clone(&log), None).await;
        assert!(first.starts_with("id: 2-0\ndata:\n\n") && first.ends_with("retry: 500\n\n"), "{first}");
        assert!(!first.contains("2-1"), "what came after the disconnect waits for the resumption: {first}");
        log.finish();
        assert!(collect(log, Some(0)).await.contains("id: 2-1"));
    }

    #[test]
    fn payloads_cannot_inject_fields_or_events() {
        let event = encode_event("1-1", "a\n\nid: 9\nevent: evil", None);
        let text = String::from_utf8(event.to_vec()).unwrap();
        assert_eq!(text, "id: 1-1\ndata: a\ndata: \ndata: id: 9\ndata: event: evil\n\n");
        let event = encode_event("1-2", "a\rid: 9\r\rdata: b\r\n", None);
        let text = String::from_utf8(event.to_vec()).unwrap();
        assert_eq!(
            text, "id: 1-2\ndata: a\ndata: id: 9\ndata: \ndata: data: b\ndata: \n\n",
            "a lone CR ends a line too"
        );
        assert_eq!(EventId::parse("3-14"), Some(EventId { stream: 3, seq: 14 }));
        assert_eq!(EventId::parse("x"), None);
    }

    #[tokio::test]
    async fn a_paced_writer_waits_for_its_reader_instead_of_dropping_what_it_has_not_read() {
        let log = EventLog::new(1, 4);
        for n in 0..10 {
            log.push_paced(&note(n)).await; // no reader: nothing waits, the log keeps the last 4
        }
        assert_eq!(log.state().events.len(), 4);

        let log = EventLog::new(2, 4);
        let mut reader = Box::pin(Arc::clone(&log).follow(None, Duration::from_secs(60)));
        let writer = tokio::spawn({
            let log = Arc::clone(&log);
            async move {
                for n in 0..100 {
                    log.push_paced(&note(n)).await;
                }
                log.finish();
            }
        });
        let mut text = String::new();
        while let Some(chunk) = reader.next().await {
            text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
            tokio::task::yield_now().await;
        }
        writer.await.unwrap();
        for n in 0..100 {
            assert!(text.contains(&format!("id: 2-{n}\n")), "event {n} was read: {text}");
        }
    }

    #[test]
    fn the_log_is_bounded() {
        let log = EventLog::new(1, 3);
        for n in 0..10 {
            log.push(&note(n));
        }
        assert_eq!(log.state().events.len(), 3);
    }
}
