//! RFC 6570 level-1 URI templates (`test://items/{id}/data`) and matching a URI against one, in linear
//! time.
//!
//! A template is split into literal segments and variables once, when the server starts. Matching walks
//! the URI left to right: a literal must appear exactly where the walk stands; a variable takes one or more
//! characters up to the *first* occurrence of the literal that follows it (or the rest of the URI when it
//! comes last). Nothing is ever retried, so the cost is linear in the URI's length whatever the input — a
//! backtracking regex over attacker-chosen URIs is how other SDKs got ReDoS advisories.
//!
//! Consequences of the rule, on purpose: two variables must be separated by a literal (`{a}{b}` is
//! ambiguous and refused), and a variable's value never contains the literal that follows it. Values are
//! percent-decoded, as level-1 expansion percent-encodes them.
//!
//! A value reaches a handler that may well use it as a path or a key, so after decoding it must be safe
//! to: a value with a `/` (`a/b`, or `a%2Fb`) matches only a reserved-expansion variable (`{+path}`,
//! RFC 6570 level 2, which is how a template says "this spans segments"); no value may hold a `..` segment
//! or a control character. A URI whose value breaks these rules matches nothing (resource not found).

use std::fmt;

/// A parsed level-1 URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A variable's name, and whether it is a reserved expansion (`{+name}`: its value may hold `/`).
    Variable(String, bool),
}

/// Why a string is not a level-1 URI template this runtime serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

impl UriTemplate {
    /// Parses `{name}` and `{+name}` expressions; names are `[A-Za-z_][A-Za-z0-9_]*` (they name function
    /// parameters).
    ///
    /// # Errors
    /// Unbalanced braces, other operators and modifiers (`{#frag}`, `{id*}`, `{a,b}`), invalid or repeated
    /// names, and two variables with no literal between them.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(i) if rest.as_bytes()[i] == b'}' => {
                    return Err(TemplateError(format!("`}}` without a matching `{{` in `{source}`")));
                }
                Some(i) => {
                    if i > 0 {
                        parts.push(Part::Literal(rest[..i].to_owned()));
                    }
                    let after = &rest[i + 1..];
                    let end = after
                        .find(['}', '{'])
                        .filter(|&e| after.as_bytes()[e] == b'}')
                        .ok_or_else(|| TemplateError(format!("`{{` without a matching `}}` in `{source}`")))?;
                    let expression = &after[..end];
                    let (name, reserved) =
                        expression.strip_prefix('+').map_or((expression, false), |name| (name, true));
                    check_name(name, source)?;
                    if matches!(parts.last(), Some(Part::Variable(..))) {
                        return Err(TemplateError(format!(
                            "variables need a literal between them (`{{{name}}}` follows another variable) in `{source}`"
                        )));
                    }
                    if parts.iter().any(|p| matches!(p, Part::Variable(v, _) if v == name)) {
                        return Err(TemplateError(format!("variable `{name}` appears twice in `{source}`")));
                    }
                    parts.push(Part::Variable(name.to_owned(), reserved));
                    rest = &after[end + 1..];
                }
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        if parts.is_empty() {
            return Err(TemplateError("a resource URI cannot be empty".to_owned()));
        }
        Ok(Self { source: source.to_owned(), parts })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the template has variables (otherwise it names one resource).
    pub fn is_template(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Variable(..)))
    }

    /// The variable names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(v, _) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// How many literal bytes the template has: more means more specific.
    pub(crate) fn literal_len(&self) -> usize {
        self.parts.iter().map(|p| if let Part::Literal(l) = p { l.len() } else { 0 }).sum()
    }

    /// The variables' values when `uri` matches, in template order; `None` otherwise, and when a decoded
    /// value holds a `/` outside a `{+name}` variable, a `..` segment or a control character.
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut values = Vec::new();
        let mut pos = 0;
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(literal) => {
                    if !uri[pos..].starts_with(literal.as_str()) {
                        return None;
                    }
                    pos += literal.len();
                }
                Part::Variable(name, reserved) => {
                    // At least one character, then up to the next literal (parsing guarantees one follows
                    // unless this variable comes last).
                    let first = uri[pos..].chars().next()?.len_utf8();
                    let end = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => pos + first + uri[pos + first..].find(next.as_str())?,
                        _ => uri.len(),
                    };
                    let value = percent_decode(&uri[pos..end])?;
                    if !safe_value(&value, *reserved) {
                        return None;
                    }
                    values.push((name.clone(), value));
                    pos = end;
                }
            }
        }
        (pos == uri.len()).then_some(values)
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Whether a decoded value may reach a handler: no control character, no `..` segment, and no `/` unless
/// the variable is a reserved expansion.
fn safe_value(value: &str, reserved: bool) -> bool {
    !value.chars().any(char::is_control)
        && (reserved || !value.contains('/'))
        && !value.split(['/', '\\']).any(|segment| segment == "..")
}

fn check_name(name: &str, source: &str) -> Result<(), TemplateError> {
    if let Some(op) = name.chars().next().filter(|c| "+#./;?&=,!@|".contains(*c)) {
        return Err(TemplateError(format!(
            "`{{{name}}}` in `{source}` uses the `{op}` operator: only `{{name}}` and `{{+name}}` are served"
        )));
    }
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(TemplateError(format!(
            "`{{{name}}}` in `{source}` is not a level-1 variable: write `{{name}}` with letters, digits and `_`"
        )));
    }
    Ok(())
}

/// Decodes `%XX` escapes; other bytes are kept. `None` when the result is not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    if !value.contains('%') {
        return Some(value.to_owned());
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push(u8::try_from(hi * 16 + lo).expect("two hex digits fit a byte"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn vars(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(template).unwrap().matches(uri)
    }

    fn pairs(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn variables_take_what_lies_between_literals() {
        assert_eq!(vars("test://template/{id}/data", "test://template/123/data"), pairs(&[("id", "123")]));
        assert_eq!(vars("db://{table}/{row}", "db://users/42"), pairs(&[("table", "users"), ("row", "42")]));
        assert_eq!(vars("file:///{+path}", "file:///a/b/c.txt"), pairs(&[("path", "a/b/c.txt")]));
        assert_eq!(vars("x://{a}", "x://é"), pairs(&[("a", "é")]));
    }

    #[test]
    fn mismatches_are_none() {
        assert_eq!(vars("test://template/{id}/data", "test://template//data"), None, "a value is never empty");
        assert_eq!(vars("test://template/{id}/data", "test://template/1/datum"), None);
        assert_eq!(vars("test://template/{id}/data", "test://template/1/data/more"), None);
        assert_eq!(vars("test://template/{id}/data", "other://template/1/data"), None);
        assert_eq!(vars("x://{a}", "x://"), None);
        // The first `/data` ends the variable; no retry with a longer value.
        assert_eq!(vars("t://{id}/data", "t://1/data/2/data"), None);
    }

    #[test]
    fn values_are_percent_decoded() {
        assert_eq!(vars("q://{+term}", "q://caf%C3%A9%20au%2Flait"), pairs(&[("term", "café au/lait")]));
        assert_eq!(vars("q://{term}", "q://caf%C3%A9%20au"), pairs(&[("term", "café au")]));
        assert_eq!(vars("q://{term}", "q://100%"), pairs(&[("term", "100%")]), "a stray % is kept");
        assert_eq!(vars("q://{term}", "q://%FF"), None, "not UTF-8");
    }

    #[test]
    fn values_that_escape_their_place_match_nothing() {
        for uri in ["file:///a/b", "file:///a%2Fb", "file:///a%2fb", "file:///..", "file:///%2E%2E", "file:///a%0Ab"] {
            assert_eq!(vars("file:///{name}", uri), None, "{uri}");
        }
        for uri in ["file:///a/../b", "file:///a/%2E%2E/b", "file:///..%2Fetc", "file:///a\\..\\b", "file:///a%00"] {
            assert_eq!(vars("file:///{+path}", uri), None, "{uri}");
        }
        assert_eq!(
            vars("file:///{+path}", "file:///a/..b/c.d"),
            pairs(&[("path", "a/..b/c.d")]),
            "only whole segments"
        );
        assert_eq!(vars("file:///{name}", "file:///a..b"), pairs(&[("name", "a..b")]));
        assert_eq!(vars("t://{a}/x/{+b}", "t://1/x/2/3"), pairs(&[("a", "1"), ("b", "2/3")]));
    }

    #[test]
    fn only_level_one_and_reserved_templates_parse() {
        for bad in [
            "x://{#frag}",
            "x://{+}",
            "x://{a}{+b}",
            "x://{id*}",
            "x://{a,b}",
            "x://{a}{b}",
            "x://{a}/{a}",
            "x://{",
            "x://}",
            "x://{}",
            "x://{1a}",
            "",
        ] {
            assert!(UriTemplate::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(UriTemplate::parse("x://{+path}").unwrap().variables().collect::<Vec<_>>(), ["path"]);
        let t = UriTemplate::parse("a://{x}-{y}/z").unwrap();
        assert!(t.is_template());
        assert_eq!(t.variables().collect::<Vec<_>>(), ["x", "y"]);
        assert!(!UriTemplate::parse("test://static").unwrap().is_template());
    }

    #[test]
    fn pathological_input_is_linear() {
        // A backtracking matcher (`^t://(.+)-(.+)-…/end$`) tries every way of splitting the dashes among
        // the variables before giving up on the missing `/end`: C(n, k) splits, exponential in the number
        // of variables. Here it is one left-to-right walk.
        let names: Vec<String> = (0..24).map(|i| format!("{{v{i}}}")).collect();
        let template = UriTemplate::parse(&format!("t://{}/end", names.join("-"))).unwrap();
        let started = Instant::now();
        assert_eq!(template.matches(&format!("t://{}x", "-".repeat(200_000))), None);
        assert_eq!(template.matches(&format!("t://{}/en", "a-".repeat(100_000))), None);
        let long = format!("t://{}/end", vec!["x"; 24].join("-"));
        assert_eq!(template.matches(&long).map(|v| v.len()), Some(24), "and it still matches what it should");
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }
}
