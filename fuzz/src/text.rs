//! The request-like text format shared by the header-carrying targets.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// `Name: value` lines up to the first empty line, then the body (the rest, as bytes). Values lose their
/// surrounding spaces and tabs, as an HTTP/1.1 parser strips them. `None` when a line is not a header an
/// HTTP parser would have let through (no colon, an invalid name or value).
pub(crate) fn headers_and_body(data: &[u8]) -> Option<(HeaderMap, &[u8])> {
    let mut headers = HeaderMap::new();
    let mut rest = data;
    loop {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(n) => (&rest[..n], &rest[n + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = after;
        if line.is_empty() {
            return Some((headers, rest));
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = trim_ows(&line[colon + 1..]);
        headers.append(name, HeaderValue::from_bytes(value).ok()?);
        if rest.is_empty() {
            return Some((headers, rest));
        }
    }
}

fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', tail @ ..] = value {
        value = tail;
    }
    while let [head @ .., b' ' | b'\t'] = value {
        value = head;
    }
    value
}

/// Splits off the first line (without its `\n` or `\r\n`).
pub(crate) fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(n) => (data[..n].strip_suffix(b"\r").unwrap_or(&data[..n]), &data[n + 1..]),
        None => (data, &data[data.len()..]),
    }
}
