//! MCP209: claims of an authority a definition cannot have — a heading in an administrator's, vendor's or
//! the system's voice ("[Admin policy, mandatory]", "SYSTEM OVERRIDE:"), a notice "from the developers",
//! approval "by Anthropic", "official tool". The same words as the object of what a tool does ("updates
//! the admin policy") or with a party that is no authority ("verified by the customer") are not claims.

use crate::Severity;
use crate::rules::{DIRECTIVE, Hit};
use crate::words::Text;

/// MCP209: claims of an authority a definition cannot have.
pub(crate) fn authority(t: &Text<'_>, out: &mut Vec<Hit>) {
    #[rustfmt::skip]
    const ACTOR: &[&str] = &[
        "anthropic", "openai", "claude", "microsoft", "google", "github", "admin", "admins", "administrator*",
        "sysadmin*", "root", "superuser", "security", "compliance", "developer", "developers", "devs", "vendor*",
        "maintainer*", "platform", "system", "moderator*", "ops", "management", "ceo", "cto", "ciso", "mcp", "staff",
        "headquarters", "trust", "safety", "legal", "it", "operator", "operators",
    ];
    #[rustfmt::skip]
    const SPEECH: &[&str] = &[
        "notice", "notification", "message", "note", "memo", "policy", "directive*", "instruction*", "order",
        "orders", "mandate", "announcement", "bulletin", "advisory", "alert", "requirement*", "override", "warning",
        "statement", "guidance", "protocol", "update", "team", "department", "decree",
    ];
    #[rustfmt::skip]
    const OBJECT_VERB: &[&str] = &[
        "update*", "set", "sets", "edit*", "create*", "list*", "read*", "get", "gets", "return*", "delete*",
        "manag*", "fetch*", "show*", "view*", "apply", "applies", "configur*", "chang*", "remov*", "add", "adds",
        "write*", "send", "sends", "post*", "publish*", "the", "a", "an", "of", "for", "to", "in", "with", "each",
        "which",
    ];
    #[rustfmt::skip]
    const BY_ACTOR: &[&str] = &[
        "verified", "approved", "endorsed", "certified", "authorized", "authorised", "sanctioned", "mandated",
        "signed", "vetted", "audited", "required", "commissioned", "issued", "requested", "ordered",
    ];
    #[rustfmt::skip]
    const OFFICIAL: &[&str] = &[
        "official", "verified", "certified", "trusted", "authentic", "genuine", "sanctioned", "authorized",
        "authorised",
    ];
    #[rustfmt::skip]
    const THING: &[&str] = &[
        "tool", "tools", "version", "server", "plugin", "integration", "extension", "source", "connector", "policy",
        "notice", "instructions", "channel", "update", "message", "publisher", "directive", "compliance", "mandate",
    ];
    let n = t.words.len();
    for i in 0..n {
        // "admin policy", "security notice", "system message" as a heading, not as what a tool acts on.
        if t.is(i, ACTOR) && t.is(i + 1, SPEECH) {
            let it_pronoun = t.word(i) == "it" && !t.is(i + 1, &["team", "department"]);
            let team = t.is(i + 1, &["team", "department"]);
            let acted_on = i > 0 && t.is(i - 1, OBJECT_VERB);
            // The speech word ends the phrase ("Admin notice:", "[Admin policy, mandatory]"), or another
            // follows ("Security-team decree"); "Admin notice board" names a thing, not a speaker.
            let rest = t.raw[t.words[i + 1].end..].trim_start_matches([' ', '*', '_', '"']);
            let ends = rest.chars().next().is_none_or(|c| !c.is_alphanumeric()) || t.is(i + 2, SPEECH);
            let framed = !acted_on && ends && (i == 0 || framing(t, i));
            if !it_pronoun
                && framed
                && (!team
                    || t.near(i, DIRECTIVE, 12).is_some()
                    || t.raw[t.words[i + 1].end..].starts_with(['-', ' ', ':']) && i == 0)
            {
                out.push(Hit::words(t, "MCP209", Severity::Medium, i, i + 1, "speaks as an authority"));
            }
        }
        // "notice from the … developers", "on behalf of the security team".
        let from = if t.is(i, SPEECH) { t.ahead(i + 1, i + 3, &["from"]) } else { None };
        let from = from.or_else(|| (t.word(i) == "behalf" && t.word(i + 1) == "of").then_some(i + 1));
        if let Some(f) = from
            && let Some(j) =
                t.ahead(f + 1, f + 5, ACTOR).filter(|&j| t.word(j) != "it" || t.is(j + 1, &["department", "team"]))
        {
            out.push(Hit::words(t, "MCP209", Severity::Medium, i, j, "claims to come from an authority"));
        }
        if t.is(i, BY_ACTOR)
            && t.word(i + 1) == "by"
            && let Some(j) = t.ahead(i + 2, i + 4, ACTOR).filter(|&j| t.word(j) != "it")
        {
            out.push(Hit::words(t, "MCP209", Severity::Medium, i, j, "claims an authority's approval"));
        }
        if t.is(i, OFFICIAL)
            && let Some(j) = t.ahead(i + 1, i + 2, THING)
        {
            out.push(Hit::words(t, "MCP209", Severity::Medium, i, j, "claims to be official"));
        }
        if t.is(i, &["mandatory", "compulsory", "binding"])
            && framing(t, i)
            && t.near(
                i,
                &[
                    "compliance",
                    "policy",
                    "audit",
                    "security",
                    "directive",
                    "requirement",
                    "admin",
                    "regulation*",
                    "decree",
                    "order",
                ],
                3,
            )
            .is_some()
        {
            out.push(Hit::words(t, "MCP209", Severity::Medium, i, i, "claims a mandate"));
        }
        if t.word(i) == "by" && t.word(i + 1) == "order" && t.word(i + 2) == "of" {
            out.push(Hit::words(t, "MCP209", Severity::Medium, i, i + 2, "claims a mandate"));
        }
    }
}

/// Whether the words at `i` open a heading: after a bracket, a sentence end or a line start, or before a
/// colon, or written in capitals.
pub(crate) fn framing(t: &Text<'_>, i: usize) -> bool {
    let before = t.raw[..t.words[i].start].trim_end_matches([' ', '*', '_', '#', '"', '\'']);
    let opens = before.is_empty() || before.ends_with(['[', '(', '.', '!', ':', '\n', '-', '>', '|', '{']);
    let end = t.words.get(i + 1).map_or(t.words[i].end, |w| w.end);
    let after = t.raw[end..].trim_start_matches([' ', '*', '_', '"', '\'']);
    let closes = after.starts_with([':', ']', ')', '!', '-', '\u{2014}']);
    let word = &t.raw[t.words[i].start..end];
    let capitals = word.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
    opens || closes || capitals
}
