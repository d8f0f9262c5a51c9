//! What `list` and `call` print: the tools as a table, a call's result for people, a spinner meanwhile.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::Value;

use super::{pretty, shorten};

/// The tools as a table: name, title and hints, the description's first line, the required arguments.
pub(super) fn tools_table(tools: &[Value]) -> String {
    if tools.is_empty() {
        return "no tools\n".to_owned();
    }
    let header = ["NAME", "TITLE / HINTS", "DESCRIPTION", "REQUIRED"].map(str::to_owned);
    let rows: Vec<[String; 4]> = tools
        .iter()
        .map(|tool| {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or("?").to_owned();
            let description = tool
                .get("description")
                .and_then(Value::as_str)
                .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
                .map_or_else(|| "-".to_owned(), |d| shorten(d, 72));
            let required = tool
                .pointer("/inputSchema/required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "-".to_owned());
            [name, title_and_hints(tool), description, required]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `Title [read-only, destructive, idempotent, open-world]`, the parts the tool has.
fn title_and_hints(tool: &Value) -> String {
    let title = tool.get("title").or_else(|| tool.pointer("/annotations/title")).and_then(Value::as_str);
    let hints: Vec<&str> = [
        ("readOnlyHint", "read-only"),
        ("destructiveHint", "destructive"),
        ("idempotentHint", "idempotent"),
        ("openWorldHint", "open-world"),
    ]
    .into_iter()
    .filter(|(key, _)| tool.get("annotations").and_then(|a| a.get(key)).and_then(Value::as_bool) == Some(true))
    .map(|(_, short)| short)
    .collect();
    match (title, hints.is_empty()) {
        (None, true) => "-".to_owned(),
        (Some(title), true) => title.to_owned(),
        (None, false) => format!("[{}]", hints.join(", ")),
        (Some(title), false) => format!("{title} [{}]", hints.join(", ")),
    }
}

/// A `tools/call` result for people: text content as it is, other content summarised, then the
/// structured content as pretty JSON (a text block that only mirrors it is not printed twice).
pub(super) fn render_result(result: &Value) -> String {
    let structured = result.get("structuredContent").filter(|s| !s.is_null());
    let mut out = String::new();
    for block in result.get("content").and_then(Value::as_array).into_iter().flatten() {
        let line = match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = block.get("text").and_then(Value::as_str).unwrap_or_default();
                if structured.is_some_and(|s| mirrors(text, s)) {
                    continue;
                }
                text.to_owned()
            }
            Some(kind @ ("image" | "audio")) => {
                let mime = block.get("mimeType").and_then(Value::as_str).unwrap_or("?");
                let size = block.get("data").and_then(Value::as_str).map_or(0, |d| d.len() / 4 * 3);
                format!("[{kind}: {mime}, about {size} bytes]")
            }
            Some("resource_link") => {
                let uri = block.get("uri").and_then(Value::as_str).unwrap_or("?");
                let name = block.get("name").and_then(Value::as_str).unwrap_or("?");
                format!("[resource link: {name} <{uri}>]")
            }
            Some("resource") => {
                let resource = block.get("resource").cloned().unwrap_or_default();
                let uri = resource.get("uri").and_then(Value::as_str).unwrap_or("?");
                match resource.get("text").and_then(Value::as_str) {
                    Some(text) => format!("[resource: {uri}]\n{text}"),
                    None => format!("[resource: {uri}, binary]"),
                }
            }
            Some(other) => format!("[{other} content]"),
            None => format!("[content without a type: {block}]"),
        };
        out.push_str(line.trim_end_matches('\n'));
        out.push('\n');
    }
    if let Some(structured) = structured {
        out.push_str(&pretty(structured));
        out.push('\n');
    }
    out
}

/// Whether a text block only mirrors the structured content: the same JSON, or the JSON a non-object
/// result was wrapped from (`{"result": …}`, the wrapping the protocol asks of non-object output).
fn mirrors(text: &str, structured: &Value) -> bool {
    let Ok(parsed) = serde_json::from_str::<Value>(text) else { return false };
    &parsed == structured
        || structured
            .as_object()
            .is_some_and(|o| o.len() == 1 && o.get("result") == Some(&parsed) && !parsed.is_object())
}

/// A spinner on stderr while a call runs, only when stderr is a terminal; cleared when stopped.
pub(super) struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    pub(super) fn start(label: String) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { task: None };
        }
        let task = tokio::spawn(async move {
            for frame in ['|', '/', '-', '\\'].into_iter().cycle() {
                eprint!("\r{frame} {label}…");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self { task: Some(task) }
    }

    pub(super) fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            // Carriage return, then erase the line: the output that follows starts clean.
            eprint!("\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_table_shows_hints_descriptions_and_required_arguments() {
        let tools = [
            json!({"name": "lookup_stock", "description": "Retrieves stock.\nMore.", "annotations": {"readOnlyHint": true},
                   "inputSchema": {"type": "object", "required": ["sku"]}}),
            json!({"name": "adjust", "title": "Adjust", "annotations": {"destructiveHint": true, "idempotentHint": false},
                   "inputSchema": {"type": "object", "required": ["sku", "delta"]}}),
            json!({"name": "plain", "inputSchema": {"type": "object"}}),
        ];
        let table = tools_table(&tools);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("NAME"));
        assert!(lines[1].starts_with("lookup_stock  [read-only]"), "{table}");
        assert!(lines[1].contains("Retrieves stock.") && !lines[1].contains("More."));
        assert!(lines[1].ends_with("sku"));
        assert!(lines[2].contains("Adjust [destructive]") && lines[2].ends_with("sku, delta"), "{table}");
        assert!(lines[3].starts_with("plain") && lines[3].ends_with('-'));
        let column = lines[0].find("DESCRIPTION").unwrap();
        assert_eq!(lines[1].find("Retrieves"), Some(column), "columns line up");
        assert_eq!(tools_table(&[]), "no tools\n");
    }

    #[test]
    fn results_print_text_summaries_and_structured_content_once() {
        let result = json!({
            "content": [
                {"type": "text", "text": "{\"on_hand\":42}"},
                {"type": "text", "text": "hello\n"},
                {"type": "image", "mimeType": "image/png", "data": "AAAA"},
                {"type": "resource_link", "uri": "docs://a", "name": "a"},
                {"type": "resource", "resource": {"uri": "docs://b", "text": "body"}},
            ],
            "structuredContent": {"on_hand": 42}
        });
        assert_eq!(
            render_result(&result),
            "hello\n[image: image/png, about 3 bytes]\n[resource link: a <docs://a>]\n[resource: docs://b]\nbody\n\
             {\n  \"on_hand\": 42\n}\n"
        );
        assert_eq!(render_result(&json!({"content": [{"type": "text", "text": "{\"a\":1}"}]})), "{\"a\":1}\n");
        let wrapped = json!({"content": [{"type": "text", "text": "[1,2]"}], "structuredContent": {"result": [1, 2]}});
        assert_eq!(
            render_result(&wrapped),
            "{\n  \"result\": [\n    1,\n    2\n  ]\n}\n",
            "the mirror of a wrapped array"
        );
        let other = json!({"content": [{"type": "text", "text": "[1]"}], "structuredContent": {"result": [2]}});
        assert!(render_result(&other).starts_with("[1]\n"), "a text that says something else is kept");
    }
}
