//! Cursor pagination, shared by every list method (`tools/list`, `resources/list`,
//! `resources/templates/list`, `prompts/list`).
//!
//! Lists are frozen and sorted when the server starts, so a page is a range of indices and a cursor is
//! the offset of the next page: opaque to clients (`c` and the offset in hexadecimal), checked on the way
//! back in.

use std::ops::Range;

use serde_json::{Map, Value};

use crate::protocol::ErrorObject;

/// One page of a list of `total` entries: the range to show and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) range: Range<usize>,
    pub(crate) next_cursor: Option<String>,
}

/// The page `params.cursor` asks for.
///
/// # Errors
/// −32602 when the cursor is not a string or not one this server handed out for this list.
pub(crate) fn page(
    method: &str,
    params: &Map<String, Value>,
    total: usize,
    page_size: usize,
) -> Result<Page, ErrorObject> {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        // The specification says an empty cursor is valid and does not mean "end".
        Some(Value::String(c)) if c.is_empty() => 0,
        Some(Value::String(c)) => parse_cursor(c).filter(|&o| o < total).ok_or_else(|| {
            ErrorObject::invalid_params(format_args!("invalid cursor: pass back a nextCursor from {method} unchanged"))
        })?,
        Some(_) => return Err(ErrorObject::invalid_params("the cursor must be a string")),
    };
    let end = start.saturating_add(page_size.max(1)).min(total);
    Ok(Page { range: start..end, next_cursor: (end < total).then(|| format_cursor(end)) })
}

fn format_cursor(offset: usize) -> String {
    format!("c{offset:x}")
}

fn parse_cursor(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix('c')?, 16).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(v: Value) -> Map<String, Value> {
        let Value::Object(m) = v else { panic!() };
        m
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(parse_cursor(&format_cursor(300)), Some(300));
        assert_eq!(parse_cursor("300"), None);
        assert_eq!(parse_cursor("czz"), None);
    }

    #[test]
    fn pages_walk_the_list() {
        let first = page("x/list", &params(json!({})), 5, 2).unwrap();
        assert_eq!(first, Page { range: 0..2, next_cursor: Some("c2".into()) });
        let last = page("x/list", &params(json!({"cursor": "c4"})), 5, 2).unwrap();
        assert_eq!(last, Page { range: 4..5, next_cursor: None });
        assert_eq!(page("x/list", &params(json!({"cursor": ""})), 5, 2).unwrap().range, 0..2);
        assert_eq!(page("x/list", &params(json!({})), 0, 2).unwrap(), Page { range: 0..0, next_cursor: None });
        let e = page("x/list", &params(json!({"cursor": "c9"})), 5, 2).unwrap_err();
        assert!(e.message.contains("x/list"), "{}", e.message);
        assert!(page("x/list", &params(json!({"cursor": 3})), 5, 2).is_err());
    }
}
