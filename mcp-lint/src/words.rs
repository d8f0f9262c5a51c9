//! Text as words: the tokenizer every rule reads through, word classes and proximity.
//!
//! A text is split into words of letters and digits; `_`, `-` and camelCase boundaries split too
//! (`contentFromReadingSshIdRsa` → content from reading ssh id rsa), apostrophes are dropped (`don't` →
//! `dont`). Each word keeps its byte range in the original text, so a rule quotes what it matched as it
//! was written. The lower-cased text (ASCII only, so byte offsets stay those of the original) serves
//! the rules that look at paths, commands and addresses rather than words.

/// One word: lower-cased, with its byte range in the text.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A text ready for the rules.
#[derive(Debug)]
pub(crate) struct Text<'a> {
    /// As written.
    pub(crate) raw: &'a str,
    /// ASCII-lower-cased: the same byte offsets as `raw`.
    pub(crate) lower: String,
    pub(crate) words: Vec<Word>,
}

impl<'a> Text<'a> {
    pub(crate) fn new(raw: &'a str) -> Self {
        Self { raw, lower: raw.to_ascii_lowercase(), words: split(raw) }
    }

    /// The word at `i`, or "" past the end.
    pub(crate) fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |w| w.text.as_str())
    }

    /// Whether the word at `i` belongs to `class`.
    pub(crate) fn is(&self, i: usize, class: &[&str]) -> bool {
        i < self.words.len() && in_class(&self.words[i].text, class)
    }

    /// Indices of the words of `class`.
    pub(crate) fn find(&self, class: &[&str]) -> Vec<usize> {
        (0..self.words.len()).filter(|&i| self.is(i, class)).collect()
    }

    /// Whether a word of `class` is within `window` words of `i` (either side).
    pub(crate) fn near(&self, i: usize, class: &[&str], window: usize) -> Option<usize> {
        let lo = i.saturating_sub(window);
        let hi = (i + window).min(self.words.len().saturating_sub(1));
        (lo..=hi).filter(|&j| j != i).find(|&j| self.is(j, class))
    }

    /// The first word of `class` in `from..=to` (clamped), scanning forward.
    pub(crate) fn ahead(&self, from: usize, to: usize, class: &[&str]) -> Option<usize> {
        let to = to.min(self.words.len().saturating_sub(1));
        (from..=to).find(|&j| self.is(j, class))
    }

    /// The byte range of the sentence around byte `at`: from after the previous `. `, `! `, `? `, `; ` or
    /// line break to the next one (a dot inside a URL or a file name ends nothing).
    pub(crate) fn sentence(&self, at: usize) -> (usize, usize) {
        let bytes = self.raw.as_bytes();
        let ends = |i: usize| {
            bytes[i] == b'\n'
                || (matches!(bytes[i], b'.' | b'!' | b'?' | b';')
                    && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()))
        };
        let at = at.min(bytes.len());
        let start = (0..at).rev().find(|&i| ends(i)).map_or(0, |i| i + 1);
        let end = (at..bytes.len()).find(|&i| ends(i)).unwrap_or(bytes.len());
        (start, end)
    }

    /// The words whose start lies in `start..end`.
    pub(crate) fn words_in(&self, start: usize, end: usize) -> impl Iterator<Item = &str> {
        self.words.iter().filter(move |w| w.start >= start && w.start < end).map(|w| w.text.as_str())
    }

    /// Whether the word at `i` opens a clause, as an imperative verb does: first in the text or after
    /// punctuation, or after a word that leads a command ("then", "please", "always", "must" …).
    pub(crate) fn clause_start(&self, i: usize) -> bool {
        if i == 0 {
            return true;
        }
        let between = &self.raw[self.words[i - 1].end..self.words[i].start];
        between.contains(['.', ':', ';', '!', '\n', '(', '>', ']', '*', ',', '-'])
            || in_class(
                self.word(i - 1),
                &[
                    "then",
                    "and",
                    "please",
                    "also",
                    "first",
                    "always",
                    "must",
                    "should",
                    "never",
                    "just",
                    "now",
                    "immediately",
                    "to",
                    "you",
                    "silently",
                    "quietly",
                ],
            )
    }

    /// The byte range of the words `a..=b` (in either order).
    /// A word inside a path or an address takes the rest of it along (`~/.ssh/id_rsa`, not `ssh`).
    pub(crate) fn span(&self, a: usize, b: usize) -> (usize, usize) {
        let (a, b) = (a.min(b), a.max(b));
        let path = |c: char| c.is_alphanumeric() || matches!(c, '~' | '/' | '.' | '_' | '-' | '@' | '$' | '%' | '\\');
        let mut start = self.words[a].start;
        while let Some(c) = self.raw[..start].chars().next_back().filter(|c| path(*c)) {
            start -= c.len_utf8();
        }
        let mut end = self.words[b].end;
        while let Some(c) = self.raw[end..].chars().next().filter(|c| path(*c)) {
            end += c.len_utf8();
        }
        while self.raw[start..end].ends_with(['.', '-']) {
            end -= 1;
        }
        (start, end)
    }

    /// The word index whose range holds byte `at` (or the next word after it).
    pub(crate) fn word_at(&self, at: usize) -> usize {
        self.words.iter().position(|w| w.end > at).unwrap_or(self.words.len().saturating_sub(1))
    }
}

/// Whether `word` is one of `class`; an entry ending in `*` matches words it begins.
pub(crate) fn in_class(word: &str, class: &[&str]) -> bool {
    class.iter().any(|entry| match entry.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => word == *entry,
    })
}

/// Splits into words: runs of letters and digits, also split at camelCase boundaries.
pub(crate) fn split(raw: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for (k, &(at, c)) in chars.iter().enumerate() {
        if c == '\'' || c == '\u{2019}' {
            // Inside a word (don't, user's) an apostrophe is dropped; elsewhere it ends nothing.
            continue;
        }
        if !c.is_alphanumeric() {
            flush(&mut words, &mut current, start, at);
            prev = None;
            continue;
        }
        let boundary = match prev {
            Some(p) if p.is_lowercase() && c.is_uppercase() => true,
            // HTTPServer: the last capital of a run starts the next word, unless what follows is a
            // suffix (POSTed, IDs).
            Some(p) if p.is_uppercase() && c.is_uppercase() => {
                chars[k + 1..].iter().take_while(|(_, n)| n.is_lowercase()).count() >= 3
            }
            _ => false,
        };
        if boundary {
            flush(&mut words, &mut current, start, at);
        }
        if current.is_empty() {
            start = at;
        }
        current.extend(c.to_lowercase());
        prev = Some(c);
    }
    flush(&mut words, &mut current, start, raw.len());
    words
}

fn flush(words: &mut Vec<Word>, current: &mut String, start: usize, end: usize) {
    if !current.is_empty() {
        words.push(Word { text: std::mem::take(current), start, end });
    }
}

/// Whether `needle` occurs in `hay` at `at` with no letter, digit or `_` right before or after it.
pub(crate) fn bounded_at(hay: &str, at: usize, needle: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let before = hay[..at].chars().next_back().is_none_or(|c| !word(c));
    let after = hay[at + needle.len()..].chars().next().is_none_or(|c| !word(c));
    before && after
}

/// Every start of `needle` in `hay` as a whole token (see [`bounded_at`]).
pub(crate) fn token_positions(hay: &str, needle: &str) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    hay.match_indices(needle).map(|(at, _)| at).filter(|&at| bounded_at(hay, at, needle)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(raw: &str) -> Vec<String> {
        split(raw).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn names_split_on_underscores_and_camel_case() {
        assert_eq!(texts("content_from_reading_ssh_id_rsa"), ["content", "from", "reading", "ssh", "id", "rsa"]);
        assert_eq!(texts("sendEmailNow"), ["send", "email", "now"]);
        assert_eq!(texts("HTTPServer id_ed25519"), ["http", "server", "id", "ed25519"]);
        assert_eq!(texts("Don\u{2019}t tell the user's boss"), ["dont", "tell", "the", "users", "boss"]);
    }

    #[test]
    fn offsets_point_into_the_original() {
        let raw = "Ünïcode sendEmail";
        let words = split(raw);
        assert_eq!(&raw[words[0].start..words[0].end], "Ünïcode");
        assert_eq!(&raw[words[2].start..words[2].end], "Email");
    }

    #[test]
    fn classes_match_stems() {
        assert!(in_class("sending", &["send*"]));
        assert!(!in_class("sen", &["send*"]));
        assert!(in_class("bcc", &["cc", "bcc"]));
        assert_eq!(token_positions("use send_email or resend_email", "send_email"), [4]);
    }
}
