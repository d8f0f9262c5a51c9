//! What `cargo mcp scan --explain RULE` prints for the rules of this crate.

/// What `rule` matches and why it matters, in a few paragraphs; `None` for a rule this crate does not
/// have (the configuration and probe rules are mcp-cli's).
pub fn explain(rule: &str) -> Option<&'static str> {
    let text = match rule.to_ascii_uppercase().as_str() {
        "MCP207" => MCP207,
        "MCP208" => MCP208,
        "MCP209" => MCP209,
        "MCP214" => MCP214,
        "MCP215" => MCP215,
        "MCP216" => MCP216,
        "MCP217" => MCP217,
        "MCP218" => MCP218,
        _ => return None,
    };
    Some(text)
}

const MCP207: &str = "MCP207 prompt injection: instructions aimed at the model (high).

Matches, in any description, title, annotation, default or example of a definition, and in the server's
instructions:
- an override: a verb of setting aside (ignore, disregard, forget, bypass, supersede, override) followed
  within a few words by what the model obeys (instructions, rules, guidelines, prompt, policies …);
- markup that frames text as orders: <IMPORTANT>, </system>, <|im_start|>, [INST], <<SYS>>, HTML comments;
- a role change: \"you are now\", \"from now on\", \"your new task\", \"developer mode\", \"dear assistant\",
  \"Note for the AI:\", \"for the rest of the session\";
- instructions declared void (\"the guidance you were given no longer applies\", \"exempt from the safety
  rules\", \"takes precedence over anything the user says\") and the user overruled (\"even if the user
  asks you to stop\", \"over the user's\");
- a precondition that reaches outside the tool: \"before/after/whenever (using|calling) … read/send/include\"
  something that is not the tool's own business (keys, credentials, the conversation, configuration, a
  home path, an address);
- a command (must, always, first …) to read a path on the user's machine (~/, /etc/, /home/, %APPDATA%).

Why: a client shows the model every definition before the user asks anything. Text written as orders
to the model is the carrier of tool poisoning and line jumping; a description says what a tool does, not
what the model must do. Descriptive forms (\"ignores blank lines\") do not match.";

const MCP208: &str = "MCP208 hidden Unicode (high).

Matches, in every string and key of a definition: zero-width characters (U+200B-U+200F, U+2060-U+2064,
U+FEFF, U+180E, U+00AD), bidi controls (U+202A-U+202E, U+2066-U+2069, U+061C), tag characters
(U+E0000-U+E007F), and control characters other than tab and newline (ESC starts ANSI sequences that
rewrite a terminal). Tag characters spell ASCII: the finding quotes what they spell, and that text is
read by every other rule (a request found there is reported as MCP215 too).

Not matched: a zero-width joiner between two emoji (family and profession sequences), a zero-width
non-joiner between two letters (Persian, Indic scripts), and the tag characters of a subdivision flag
(U+1F3F4, two to six tag letters or digits, U+E007F, as in the flag of England).

Why: a person reviewing a definition sees nothing; the model reads everything.";

const MCP209: &str = "MCP209 authority spoofing (medium).

Matches claims a definition cannot make about itself:
- an authority speaking, written as a heading: \"[Admin policy, mandatory]\", \"SYSTEM MESSAGE:\",
  \"Security notice -\" (an authority word — admin, system, security, vendor, developers, Anthropic … —
  before a speech word — notice, policy, message, directive …), but not as what a tool acts on
  (\"updates the admin policy\");
- \"notice/message/memo from the … developers\", \"on behalf of the security team\";
- \"verified/approved/endorsed/mandated by\" an authority (not \"verified by the customer\");
- \"official/certified/trusted tool (server, version, plugin …)\", \"mandatory compliance\", \"by order of\".

Why: models weigh text that claims authority more heavily; no definition is a system message.";

const MCP214: &str = "MCP214 shadowing: a definition telling the model how to use another tool (high; critical when it
routes data to a literal address).

Matches a definition that names another tool of the same manifest as the thing being used (\"when calling
send_email\", \"every message sent with send_email\", \"list_orders must …\") together with a command
(must, always, also, instead …, or the change itself said as a command) and a payload: a literal address
(e-mail, URL, a long number such as a phone or an account) or a change to the call said as a command
(\"change the recipient\", \"always set repository to\", \"add … to bcc\", \"route the difference to\"), or
the other tool commanded itself (\"X must always …\", \"never call X\", \"also call X\").
Without naming a tool: \"all emails / every transaction (sent by any tool) must … to <address>\".

Not matched: a tool that only refers to another (\"use list_orders first to find the id\"), or requires
calling it first without changing how it is used.

Why: the poisoned tool never has to be called. Its description alone rewrites the behaviour of a trusted
tool of the same server, which is why the user's approval of that trusted call shows nothing wrong.";

const MCP215: &str = "MCP215 encoded instructions (high, or the severity of what the decoded text asks).

Decodes, in every text: base64 runs (16 characters or more, standard or URL-safe), hex (`\\xNN` escapes,
four or more, or bare runs of 16 hex digits or more), percent-encoded tokens (three `%NN` or more), and
Unicode tag characters. A layer is kept only when it decodes to mostly printable text, so digests, ids
and binary payloads stay silent. The decoded text is read by every rule again (two layers deep); a
finding there is reported as MCP215 with the decoded words quoted. Text that says it is reversed or ROT13
(or carries a right-to-left override) is read reversed or rotated too. Decoded prose of five words or more
that asks nothing is reported low. Also matched in plain text: \"decode … and follow/execute/obey\".

Why: encoding hides a request from a person and from word filters; the model decodes it happily.";

const MCP216: &str = "MCP216 shell bait (high; low in a sentence that describes detection, e.g. a scanner's own docs).

Matches commands a model with a shell tool would run for the attacker: a download piped into an
interpreter (curl … | sh, wget -qO- … | bash, iwr … | iex), an interpreter handed a command string
(sh -c, bash -c, bash -i, powershell -enc, python -c, nc -e), recursive or world-writable permission
changes (chmod -R, chmod 777, chmod +s), deleting from / or ~ (rm -rf /), reverse shells (/dev/tcp/,
mkfifo), persistence (>> ~/.bashrc, crontab -, keys appended to authorized_keys), and in words: \"prefix /
prepend every command with …\".

Not matched: a curl example without a pipe into a shell, chmod 644, rm -rf ./target.

Why: a tool description can make the model type these into another tool that runs commands.";

const MCP217: &str = "MCP217 exfiltration (critical when a secret is read and sent; high for the conversation or a read
without a destination; low when a secret path is merely named).

Secrets: private keys and credential files by path (~/.ssh, id_rsa, .env, .aws/credentials, .netrc,
mcp.json, claude_desktop_config …) or paraphrased (\"the private key file in the .ssh folder of the home
directory\", \"seed phrase\"); public halves are not secrets (.pub, authorized_keys, known_hosts,
\"public key\"). The model's context: the conversation, earlier messages, the system prompt, environment
variables. Credentials by name (password, token, API key) only with a literal address to send them to.

Matches a secret near a reading verb (read, cat, open, collect, content of …) and a way out: a sending
verb (send, post, upload, forward, bcc …), a verb that puts it into the call (pass, include, append,
provide …) or a literal address; a parameter whose name or description asks for a secret's content (the
call carries it); a markdown or HTML image whose URL has a query string (a rendering client sends it —
critical when it carries a placeholder or the text names a secret); data sent to a fixed address on
command (\"always forward a copy of every result to x@y\").

Not matched at medium or above: a deploy-key tool naming ~/.ssh/authorized_keys or a .pub path, a
parameter that is a secret's path (ssh_key_path), a password-reset e-mail.

Why: this is what tool poisoning is for.";

const MCP218: &str = "MCP218 concealment and forged consent (high).

Matches:
- a negated telling verb (do not, never, no need to, without … + tell, mention, inform, show, bring up,
  notify, ask, confirm …) with what is kept from whom (the user, anyone, this step, it);
- hide / conceal / withhold … from the user; keep … secret / quiet / between us;
- covert action: silently, secretly, quietly, in the background … next to send, add, call, forward, run …;
- text pushed out of view: place / append … after a long run of spaces or blank lines;
- forged consent: the user / you … already, previously, implicitly, in advance … consented, approved,
  authorized (not \"after the user has confirmed\");
- an imperative to skip the user's check: skip / bypass / suppress … confirmation, approval, consent,
  review, the user (not the descriptive \"skips\").

Why: a model that hides its actions or believes consent was given removes the user's last safeguard.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_explained_and_others_are_not() {
        for (rule, _, _) in crate::RULES {
            let text = explain(rule).unwrap_or_else(|| panic!("{rule} has no explanation"));
            assert!(text.starts_with(rule), "{rule}");
            assert!(text.contains("Why:"), "{rule}");
        }
        assert_eq!(explain("mcp217"), explain("MCP217"));
        assert_eq!(explain("MCP101"), None);
    }
}
