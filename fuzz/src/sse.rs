//! Target 6: server-sent event encoding of arbitrary payloads.
//!
//! Input: the event id (first line), the event name (second line; empty for none), then the data (the
//! rest, newlines included). Invariant: a parser that follows the WHATWG `text/event-stream` rules (lines
//! end at CRLF, LF or a lone CR) reads exactly one event back, with the id and name stripped of line breaks
//! and the data equal to the payload's lines — no payload can split the event or inject a field.

use mcp_runtime::transport::http::fuzzing::encode_event;

use crate::text::first_line;

/// Encodes the event of `data` and parses it back.
pub fn run(data: &[u8]) {
    let (id, rest) = first_line(data);
    let (event, payload) = first_line(rest);
    let (Ok(id), Ok(event), Ok(payload)) =
        (std::str::from_utf8(id), std::str::from_utf8(event), std::str::from_utf8(payload))
    else {
        return;
    };
    let event = (!event.is_empty()).then_some(event);
    let encoded = encode_event(id, payload, event);
    let stream = std::str::from_utf8(&encoded).expect("an event is UTF-8");
    let events = parse(stream);
    assert_eq!(events.len(), 1, "one event, not {}: {stream:?}", events.len());
    let got = &events[0];
    let expected_id = id.replace(['\r', '\n'], "");
    // The parser ignores an id holding NUL (the runtime's ids are `stream-seq`, never NUL).
    let expected_id = (!expected_id.contains('\0')).then_some(expected_id);
    assert_eq!(got.id, expected_id, "{stream:?}");
    assert_eq!(got.event, event.map(|e| e.replace(['\r', '\n'], "")), "{stream:?}");
    let lines: Vec<String> = split_lines(payload).into_iter().map(str::to_owned).collect();
    assert_eq!(got.data, lines, "data lines of {stream:?}");
    assert!(stream.ends_with("\n\n"), "the event is terminated: {stream:?}");
}

/// One event as a client reads it.
#[derive(Debug, PartialEq)]
struct Event {
    id: Option<String>,
    event: Option<String>,
    data: Vec<String>,
}

/// Lines as `text/event-stream` defines them: ended by CRLF, LF or CR.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(n) = rest.find(['\r', '\n']) {
        lines.push(&rest[..n]);
        let skip = if rest[n..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[n + skip..];
    }
    lines.push(rest);
    lines
}

/// The WHATWG event-stream interpretation, keeping each `data` field (the dispatched data is them joined
/// with `\n`) and dropping an unterminated last event, as a client does.
fn parse(stream: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut current = Event { id: None, event: None, data: Vec::new() };
    let mut fields = 0;
    let mut lines = split_lines(stream);
    // The text after the last line break is an incomplete line, never processed.
    lines.pop();
    for line in lines {
        if line.is_empty() {
            if !current.data.is_empty() {
                events.push(std::mem::replace(&mut current, Event { id: None, event: None, data: Vec::new() }));
            } else if fields > 0 {
                current.event = None;
            }
            fields = 0;
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        fields += 1;
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match name {
            "data" => current.data.push(value.to_owned()),
            "event" => current.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => current.id = Some(value.to_owned()),
            _ => {}
        }
    }
    events
}
