//! What `cargo mcp call` answers when a 2026-07-28 server asks for input (`input_required`), and the
//! capabilities it declares for it, which are exactly these:
//!
//! - `roots`: `roots/list` is answered with one root, the current directory;
//! - `elicitation` (form mode): `elicitation/create` asks the user on the terminal, field by field, when
//!   stdin and stderr are terminals; otherwise (a script, CI) it declines, and says so on stderr.
//!
//! `sampling` is not declared (the CLI has no model to ask), so a server does not ask for it; one that
//! does anyway is refused with an error naming the request.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Map, Value, json};

use super::error::ClientError;

/// Times a question is asked again after an answer that does not fit, before the form is cancelled.
const MAX_TRIES: usize = 3;

/// The `clientCapabilities` of a command that answers input requests.
pub(super) fn capabilities() -> Value {
    json!({"roots": {}, "elicitation": {"form": {}}})
}

/// The `inputResponses` to the server's `inputRequests`, under the same keys.
///
/// # Errors
/// A request for something the CLI did not declare (`sampling/createMessage`, or anything else).
pub(super) fn answer(requests: &Map<String, Value>) -> Result<Map<String, Value>, ClientError> {
    let mut responses = Map::new();
    for (key, request) in requests {
        let method = request.get("method").and_then(Value::as_str).unwrap_or_default();
        let params = request.get("params").cloned().unwrap_or_else(|| json!({}));
        let response = match method {
            "roots/list" => roots(),
            "elicitation/create" => elicit(&params),
            other => {
                return Err(ClientError::Protocol(format!(
                    "the server asked for `{other}` (input request {key:?}), which cargo mcp did not declare and \
                     does not answer"
                )));
            }
        };
        responses.insert(key.clone(), response);
    }
    Ok(responses)
}

/// The roots: the current directory, as a `file://` URI (none when it cannot be read).
fn roots() -> Value {
    let Ok(cwd) = std::env::current_dir() else { return json!({"roots": []}) };
    let Ok(uri) = reqwest::Url::from_file_path(&cwd) else { return json!({"roots": []}) };
    let name = cwd.file_name().map_or_else(|| cwd.display().to_string(), |n| n.to_string_lossy().into_owned());
    json!({"roots": [{"uri": uri.as_str(), "name": name}]})
}

/// An `elicitation/create` answer: the user's, on a terminal; a decline elsewhere, and for URL mode (not
/// declared).
fn elicit(params: &Value) -> Value {
    let message = params.get("message").and_then(Value::as_str).unwrap_or_default();
    if params.get("mode").and_then(Value::as_str).is_some_and(|m| m != "form") {
        eprintln!("note: the server asked for input in a mode cargo mcp does not offer; declined: {message}");
        return json!({"action": "decline"});
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        eprintln!("note: the server asked for input and stdin is not a terminal, so cargo mcp declined: {message}");
        return json!({"action": "decline"});
    }
    ask(params, &mut std::io::stdin().lock(), &mut std::io::stderr())
}

/// Asks the form of `params` (`message`, `requestedSchema`) on `output`, reading answers from `input`:
/// first whether to answer at all (yes, no to decline, cancel), then each field, typed, with its default
/// and choices shown. An empty answer takes the default, or leaves an optional field out. End of input
/// cancels; so do [`MAX_TRIES`] answers that do not fit one question.
pub(super) fn ask(params: &Value, input: &mut impl BufRead, output: &mut impl Write) -> Value {
    let cancel = json!({"action": "cancel"});
    let message = params.get("message").and_then(Value::as_str).unwrap_or("The server asks for input.");
    let _ = writeln!(output, "{message}");
    let choice = question(input, output, "Answer? [y]es, [n]o (decline), [c]ancel: ", |text| {
        match text.to_ascii_lowercase().as_str() {
            "y" | "yes" => Ok("accept"),
            "n" | "no" => Ok("decline"),
            "c" | "cancel" => Ok("cancel"),
            _ => Err("y, n or c".to_owned()),
        }
    });
    match choice {
        Some("accept") => {}
        Some(action) => return json!({"action": action}),
        None => return cancel,
    }
    let schema = params.get("requestedSchema").cloned().unwrap_or_default();
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    // The required fields first, in the order the schema lists them; then the others by name.
    let mut fields: Vec<(&String, &Value)> =
        schema.get("properties").and_then(Value::as_object).into_iter().flatten().collect();
    fields.sort_by_key(|(name, _)| required.iter().position(|r| r == name).unwrap_or(usize::MAX));
    let mut content = Map::new();
    for (name, field) in fields {
        let is_required = required.contains(&name.as_str());
        let prompt = field_prompt(name, field, is_required);
        let answer = question(input, output, &prompt, |text| match (text.is_empty(), field.get("default")) {
            (true, Some(default)) => Ok(Some(default.clone())),
            (true, None) if is_required => Err("an answer (the field is required)".to_owned()),
            (true, None) => Ok(None),
            (false, _) => parse_field(field, text).map(Some),
        });
        match answer {
            Some(Some(value)) => {
                content.insert(name.clone(), value);
            }
            Some(None) => {}
            None => return cancel,
        }
    }
    json!({"action": "accept", "content": content})
}

/// Asks `prompt` until `parse` takes the answer (trimmed), at most [`MAX_TRIES`] times; `None` at the
/// end of input or after the last try.
fn question<T>(
    input: &mut impl BufRead,
    output: &mut impl Write,
    prompt: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    for _ in 0..MAX_TRIES {
        let _ = write!(output, "{prompt}");
        let _ = output.flush();
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(output, "\n(no more input: cancelled)");
                return None;
            }
            Ok(_) => {}
        }
        match parse(line.trim()) {
            Ok(value) => return Some(value),
            Err(expected) => {
                let _ = writeln!(output, "  expected {expected}");
            }
        }
    }
    let _ = writeln!(output, "({MAX_TRIES} answers that do not fit: cancelled)");
    None
}

/// `  name — description (integer, one of: a, b, default 3, required): `.
fn field_prompt(name: &str, field: &Value, required: bool) -> String {
    let label = field.get("title").and_then(Value::as_str).unwrap_or(name);
    let mut facts = vec![field.get("type").and_then(Value::as_str).unwrap_or("string").to_owned()];
    let choices = choices(field);
    if !choices.is_empty() {
        facts.push(format!("one of: {}", choices.join(", ")));
    }
    if let Some(default) = field.get("default") {
        facts.push(format!("default {}", default.as_str().map_or_else(|| default.to_string(), str::to_owned)));
    }
    if required {
        facts.push("required".to_owned());
    }
    match field.get("description").and_then(Value::as_str) {
        Some(description) => format!("  {label} — {description} ({}): ", facts.join(", ")),
        None => format!("  {label} ({}): ", facts.join(", ")),
    }
}

/// The values a field allows: `enum`, the `const`s of `oneOf`/`anyOf`, or those of an array's `items`.
fn choices(field: &Value) -> Vec<String> {
    let of = |schema: &Value| -> Vec<String> {
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect();
        }
        ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(|option| option.get("const").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    match field.get("items") {
        Some(items) => of(items),
        None => of(field),
    }
}

/// An answer as the field's type: a number, an integer, a boolean (y/n, yes/no, true/false), one of its
/// choices, a comma-separated list of them for an array, or text.
fn parse_field(field: &Value, text: &str) -> Result<Value, String> {
    let choices = choices(field);
    let pick = |text: &str| -> Result<Value, String> {
        if choices.is_empty() || choices.iter().any(|c| c == text) {
            Ok(json!(text))
        } else {
            Err(format!("one of: {}", choices.join(", ")))
        }
    };
    match field.get("type").and_then(Value::as_str) {
        Some("integer") => text.parse::<i64>().map(|n| json!(n)).map_err(|_| "an integer".to_owned()),
        Some("number") => {
            text.parse::<f64>().ok().filter(|n| n.is_finite()).map(|n| json!(n)).ok_or_else(|| "a number".to_owned())
        }
        Some("boolean") => match text.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" => Ok(json!(true)),
            "n" | "no" | "false" => Ok(json!(false)),
            _ => Err("y or n".to_owned()),
        },
        Some("array") => text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(pick).collect(),
        _ => pick(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(answers: &str) -> (Value, String) {
        let params = json!({
            "message": "Who are you?",
            "requestedSchema": {"type": "object", "required": ["age", "name"], "properties": {
                "age": {"type": "integer", "description": "Years"},
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "name": {"type": "string"},
                "note": {"type": "string"},
                "ok": {"type": "boolean"},
            }}
        });
        let mut output = Vec::new();
        let answer = ask(&params, &mut answers.as_bytes(), &mut output);
        (answer, String::from_utf8(output).unwrap())
    }

    #[test]
    fn a_form_is_asked_field_by_field() {
        let (answer, shown) = form("y\nforty\n40\nAda\n\n\nyes\n");
        assert_eq!(
            answer,
            json!({"action": "accept", "content": {"age": 40, "color": "red", "name": "Ada", "ok": true}})
        );
        assert!(shown.starts_with("Who are you?\nAnswer?"), "{shown}");
        assert!(shown.contains("  age — Years (integer, required): "), "{shown}");
        assert!(shown.contains("expected an integer"), "{shown}");
        assert!(shown.contains("color (string, one of: red, blue, default red): "), "{shown}");
    }

    #[test]
    fn declining_cancelling_and_running_out_are_answers_too() {
        assert_eq!(form("n\n").0, json!({"action": "decline"}));
        assert_eq!(form("c\n").0, json!({"action": "cancel"}));
        assert_eq!(form("y\n40\n").0, json!({"action": "cancel"}), "the input ends mid-form");
        let (answer, shown) = form("y\nx\ny\nz\n");
        assert_eq!(answer, json!({"action": "cancel"}));
        assert!(shown.contains("3 answers that do not fit"), "{shown}");
        assert_eq!(form("y\n1\n\n\n\n").0, json!({"action": "cancel"}), "a required field left empty");
    }

    #[test]
    fn roots_and_undeclared_requests() {
        let Value::Object(requests) = json!({"r": {"method": "roots/list", "params": {}}}) else { panic!() };
        let answers = answer(&requests).unwrap();
        let root = &answers["r"]["roots"][0];
        assert!(root["uri"].as_str().unwrap().starts_with("file:///"), "{root}");
        let Value::Object(sampling) = json!({"s": {"method": "sampling/createMessage", "params": {}}}) else {
            panic!()
        };
        let error = answer(&sampling).unwrap_err().to_string();
        assert!(error.contains("sampling/createMessage") && error.contains("did not declare"), "{error}");
        assert_eq!(capabilities(), json!({"roots": {}, "elicitation": {"form": {}}}), "no sampling");
    }
}
