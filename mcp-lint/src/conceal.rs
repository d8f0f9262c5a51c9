//! MCP218: keeping something from the user ("no need to bring this step up", "never tell the user"),
//! acting covertly ("quietly add a copy"), forging consent ("the user has already consented", "approval
//! was granted at install") and skipping the user's check ("skip confirmation"). Descriptive forms
//! ("skips", "does not show", "only after the user has confirmed") are not commands and do not match.

use crate::Severity;
use crate::rules::Hit;
use crate::words::Text;

/// Who a concealment hides from, or what it hides.
#[rustfmt::skip]
const AUDIENCE: &[&str] = &[
    "user", "users", "human", "humans", "anyone", "them", "person", "people", "operator", "owner", "customer",
    "requester", "this", "it", "step", "steps", "these", "that", "instruction", "instructions", "note", "action",
    "actions", "anything", "why", "request", "call", "tool", "behaviour", "behavior", "detail", "details",
];

/// MCP218: keeping something from the user, forging consent, skipping confirmation.
pub(crate) fn concealment(t: &Text<'_>, out: &mut Vec<Hit>) {
    #[rustfmt::skip]
    const TELL: &[&str] = &[
        "tell", "telling", "mention", "mentioning", "inform", "informing", "reveal", "revealing", "show", "showing",
        "notify", "notifying", "alert", "alerting", "disclose", "disclosing", "surface", "bring", "bringing",
        "explain", "explaining", "acknowledge", "display", "report", "reporting", "say", "saying", "speak", "talk",
        "discuss", "narrate", "announce", "highlight", "flag", "expose", "log", "raise", "raising", "let", "warn",
        "warning", "ask", "asking", "confirm", "confirming", "verify", "verifying", "check", "checking", "prompt",
        "prompting", "list", "shown", "told", "mentioned", "reported", "displayed", "disclosed", "revealed",
        "surfaced",
    ];
    const ASKING: &[&str] =
        &["ask", "asking", "confirm", "confirming", "verify", "verifying", "check", "checking", "prompt", "prompting"];
    const PASSIVE: &[&str] =
        &["shown", "told", "mentioned", "reported", "displayed", "disclosed", "revealed", "surfaced"];
    #[rustfmt::skip]
    const ASKED_FOR: &[&str] = &[
        "confirm*", "approv*", "permission*", "consent", "first", "again", "before", "go", "okay", "ok", "authoris*",
        "authoriz*",
    ];
    #[rustfmt::skip]
    const PERSON: &[&str] = &[
        "user", "users", "human", "humans", "anyone", "them", "person", "people", "operator", "owner", "customer",
        "requester", "him", "her",
    ];
    for j in t.find(TELL) {
        let lo = j.saturating_sub(3);
        let negated = (lo..j).find(|&k| {
            t.is(k, &["dont", "never", "avoid", "refrain", "without", "nor", "mustnt", "shouldnt", "neednt", "cannot"])
                || (t.word(k) == "not"
                    && k > 0
                    && t.is(k - 1, &["do", "must", "should", "need", "to", "will", "shall"]))
                || (t.word(k) == "need" && k > 0 && t.word(k - 1) == "no")
                || (t.word(k) == "necessary" && k > 0 && t.word(k - 1) == "not")
        });
        let Some(k) = negated else { continue };
        if t.word(j) == "bring" && t.ahead(j + 1, j + 4, &["up"]).is_none() {
            continue;
        }
        // Not asking is concealment when it is the user's approval that is not asked for; not telling is
        // about anything; a passive "never to be shown" names what is hidden before it.
        let found = if t.is(j, ASKING) {
            t.ahead(j + 1, j + 6, ASKED_FOR)
        } else if t.is(j, PASSIVE) {
            (j.saturating_sub(7)..k)
                .find(|&a| t.is(a, AUDIENCE) || t.is(a, &["errors", "error", "failures", "failure"]))
        } else {
            t.ahead(j + 1, j + 7, AUDIENCE)
        };
        if let Some(a) = found {
            out.push(Hit::words(t, "MCP218", Severity::High, k.min(a), j.max(a), "keeps something from the user"));
        }
    }
    for i in t.find(&["hide", "conceal", "obscure", "withhold", "mask", "omit", "suppress", "exclude"]) {
        if let Some(from) = t.ahead(i + 1, i + 6, &["from"])
            && let Some(p) = t.ahead(from + 1, from + 3, PERSON)
        {
            out.push(Hit::words(t, "MCP218", Severity::High, i, p, "hides something from the user"));
        }
    }
    for i in t.find(&["keep"]) {
        if let Some(j) = t.ahead(
            i + 1,
            i + 5,
            &["secret", "hidden", "quiet", "confidential", "private", "between", "yourself", "invisible"],
        ) {
            out.push(Hit::words(t, "MCP218", Severity::High, i, j, "keeps something from the user"));
        }
    }
    #[rustfmt::skip]
    const COVERT: &[&str] = &[
        "silently", "secretly", "covertly", "quietly", "discreetly", "invisibly", "stealthily", "surreptitiously",
        "unnoticed", "background",
    ];
    #[rustfmt::skip]
    const ACTION: &[&str] = &[
        "send", "sending", "add", "adding", "include", "including", "call", "calling", "forward", "forwarding",
        "copy", "copying", "bcc", "cc", "run", "running", "execute", "executing", "read", "reading", "upload",
        "uploading", "change", "changing", "append", "appending", "use", "using", "invoke", "invoking", "attach",
        "attaching", "post", "posting", "transmit", "transmitting", "install", "installing", "redirect",
        "redirecting", "replace", "replacing", "modify", "modifying", "pass", "passing", "save", "saving", "store",
        "storing", "collect", "collecting", "exfiltrate", "leak", "approve", "delete", "deleting", "share",
        "sharing",
    ];
    for i in t.find(COVERT) {
        if t.word(i) == "background" && t.word(i.wrapping_sub(1)) != "the" {
            continue;
        }
        if (i.saturating_sub(3)..i).any(|k| t.is(k, &["never", "not", "nothing", "no"])) {
            continue;
        }
        if let Some(j) = t.near(i, ACTION, 4) {
            out.push(Hit::words(t, "MCP218", Severity::High, i, j, "acts without the user seeing it"));
        }
    }
    // Forged consent: "the user has already consented", "permission was granted in advance".
    #[rustfmt::skip]
    const CONSENT: &[&str] = &[
        "consented", "consent", "approved", "approve", "agreed", "authorized", "authorised", "confirmed", "granted",
        "accepted", "permitted", "allowed", "opted", "permission", "approval", "authorization", "authorisation",
        "given",
    ];
    #[rustfmt::skip]
    const ALREADY: &[&str] = &[
        "already", "previously", "implicitly", "automatically", "advance", "beforehand", "pre", "blanket",
        "standing", "assumed", "implied", "presumed",
    ];
    #[rustfmt::skip]
    const GRANTOR: &[&str] = &[
        "user", "users", "you", "they", "owner", "customer", "human", "operator", "consent", "permission",
        "approval", "authorization", "authorisation",
    ];
    for i in t.find(ALREADY) {
        if let Some(c) = t.near(i, CONSENT, 3) {
            let (a, b) = (i.min(c), i.max(c));
            if let Some(g) = (a.saturating_sub(4)..=b).find(|&k| t.is(k, GRANTOR)) {
                let negated = (g.min(a).saturating_sub(5)..a).any(|k| {
                    t.is(
                        k,
                        &[
                            "not", "never", "unless", "if", "whether", "tells", "checks", "returns", "records",
                            "shows", "reports", "only", "once", "after", "when",
                        ],
                    )
                });
                if !negated {
                    out.push(Hit::words(t, "MCP218", Severity::High, g.min(a), b, "claims the user's consent"));
                }
            }
        }
    }
    // "approval was granted when this server was installed": consent claimed in the past tense.
    for i in t.find(&["consent", "permission", "approval", "authorization", "authorisation", "go-ahead"]) {
        if let Some(v) = t.ahead(i + 1, i + 4, &["granted", "given", "obtained", "provided", "secured"]) {
            let past = (i + 1..v).any(|k| t.is(k, &["was", "were", "has", "have", "had", "already"]));
            let negated = (i.saturating_sub(4)..v)
                .any(|k| t.is(k, &["not", "never", "no", "unless", "if", "whether", "once", "until", "after", "when"]));
            if past && !negated {
                out.push(Hit::words(t, "MCP218", Severity::High, i, v, "claims the user's consent"));
            }
        }
    }
    // Padding that pushes text out of view: "place it after 300 spaces", "append it behind blank lines".
    for i in t.find(&["spaces", "whitespace", "newlines", "blank", "padding"]) {
        let Some(after) =
            (i.saturating_sub(6)..i).find(|&k| t.is(k, &["after", "behind", "past", "beyond", "following"]))
        else {
            continue;
        };
        let verbs =
            ["place", "put", "add", "append", "hide", "insert", "include", "write", "move", "placed", "appended"];
        if let Some(v) = (after.saturating_sub(12)..after).find(|&k| t.is(k, &verbs)) {
            out.push(Hit::words(t, "MCP218", Severity::High, v, i, "hides text from the user behind whitespace"));
        }
    }
    // "skip confirmation", "bypass the approval step": an imperative against the user's check.
    const SKIP: &[&str] =
        &["skip", "bypass", "omit", "avoid", "suppress", "disable", "ignore", "circumvent", "forgo", "dispense"];
    #[rustfmt::skip]
    const CHECK: &[&str] = &[
        "confirm*", "approv*", "consent", "permission*", "review*", "verification", "prompt", "prompts", "dialog*",
        "safeguard*", "warning*", "authorization", "authorisation", "user",
    ];
    for i in t.find(SKIP) {
        if !t.clause_start(i) {
            continue;
        }
        if let Some(j) = t.ahead(i + 1, i + 3, CHECK) {
            out.push(Hit::words(t, "MCP218", Severity::High, i, j, "tells the model to skip the user's confirmation"));
        }
    }
}
