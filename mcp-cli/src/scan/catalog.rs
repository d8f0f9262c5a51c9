//! The rule catalog: every rule of `cargo mcp scan` with its id, name, severity, summary and fix (what
//! `--format sarif` lists under `tool.driver.rules`, and `--explain` prints).

use super::Severity;

/// One rule of the catalog (the tables of `scan`'s module doc): what `--format sarif` lists under `tool.driver.rules`.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The stable id, e.g. `MCP101`.
    pub(crate) id: &'static str,
    /// A PascalCase name.
    pub(crate) name: &'static str,
    /// The severity of its findings unless a finding says otherwise.
    pub(crate) severity: Severity,
    /// What it finds, in one sentence.
    pub(crate) summary: &'static str,
    /// How to fix what it finds.
    pub(crate) fix: &'static str,
}

/// Every rule, in id order.
pub(crate) const RULES: &[Rule] = &[
    Rule {
        id: "MCP101",
        name: "InlineSecret",
        severity: Severity::Critical,
        summary: "A secret is written into the configuration instead of referenced.",
        fix: "Reference the secret instead: `${env:NAME}` or `${file:PATH}`, and rotate the exposed value.",
    },
    Rule {
        id: "MCP102",
        name: "NetworkTransportWithoutAuth",
        severity: Severity::High,
        summary: "A network transport serves without authentication.",
        fix: "Set `security.strategy` to `api-key`, `jwt` or `oauth` (with its keys), or serve over stdio.",
    },
    Rule {
        id: "MCP103",
        name: "NonLoopbackBind",
        severity: Severity::Medium,
        summary: "A listener binds a non-loopback address.",
        fix: "Bind `127.0.0.1` and put a TLS-terminating proxy in front, or make sure only trusted networks \
              reach the address.",
    },
    Rule {
        id: "MCP104",
        name: "CorsAnyOrigin",
        severity: Severity::High,
        summary: "CORS answers every origin.",
        fix: "List the browser origins that may call the server in `http.cors_origins`, or leave it empty.",
    },
    Rule {
        id: "MCP105",
        name: "OriginHostCheckOff",
        severity: Severity::High,
        summary: "The Origin/Host check against DNS rebinding is switched off.",
        fix: "List the exact host names in `http.allowed_hosts` and origins (`scheme://host[:port]`) in \
              `http.allowed_origins`; never `*` or `null`.",
    },
    Rule {
        id: "MCP106",
        name: "RiskyToolWithoutRateLimit",
        severity: Severity::Medium,
        summary: "A destructive or open-world tool has no rate limit.",
        fix: "Give the tool a rate: `#[mcp_tool(rate = \"10/min\")]`, `[throttling.tools] NAME = \"10/min\"`, \
              or `throttling.default_tool`.",
    },
    Rule {
        id: "MCP107",
        name: "RiskyToolWithoutScopes",
        severity: Severity::High,
        summary: "A destructive or open-world tool requires no scope.",
        fix: "Require a scope: `#[mcp_tool(scopes = [\"app:write\"])]`, and grant it only to the callers that \
              need it.",
    },
    Rule {
        id: "MCP108",
        name: "AuditOff",
        severity: Severity::Medium,
        summary: "No audit record is written.",
        fix: "Set `audit.destination` to `auto`, `stdout`, `stderr`, `file:PATH` or `tracing`.",
    },
    Rule {
        id: "MCP201",
        name: "ToolWithoutDescription",
        severity: Severity::Medium,
        summary: "A tool has no description.",
        fix: "Document the tool (its doc comment becomes the description): what it does, what it changes, \
              what it returns.",
    },
    Rule {
        id: "MCP202",
        name: "OpenObjectSchema",
        severity: Severity::Low,
        summary: "An object in an input schema accepts unknown properties.",
        fix: "Set `additionalProperties: false` (a struct with `#[serde(deny_unknown_fields)]`).",
    },
    Rule {
        id: "MCP203",
        name: "UnboundedInput",
        severity: Severity::Low,
        summary: "A string or array in an input schema has no bound.",
        fix: "Bound it: `maxLength`, an anchored `pattern` without `*` or `+`, `enum` or `format` for strings \
              (`#[schema(max_length = 200)]`), `maxItems` for arrays (`#[schema(max_items = 50)]`).",
    },
    Rule {
        id: "MCP204",
        name: "MissingRequired",
        severity: Severity::Low,
        summary: "An object in an input schema has properties but no `required` list.",
        fix: "List the required properties in `required` (an empty list when every one is optional).",
    },
    Rule {
        id: "MCP205",
        name: "ReadOnlyAndDestructive",
        severity: Severity::High,
        summary: "A tool claims to be read-only and destructive at once.",
        fix: "Keep the annotation that is true: `readOnlyHint` for a tool that changes nothing, \
              `destructiveHint` for one that deletes or overwrites.",
    },
    Rule {
        id: "MCP206",
        name: "ReadOnlyNotIdempotent",
        severity: Severity::Low,
        summary: "A tool claims to be read-only but not idempotent.",
        fix: "Drop `idempotentHint: false` from a read-only tool, or drop `readOnlyHint` if calling it changes \
              something.",
    },
    Rule {
        id: "MCP207",
        name: "PromptInjectionMarker",
        severity: Severity::High,
        summary: "A description carries instructions aimed at the model.",
        fix: "Remove the instructions aimed at the model; a description says what the tool does, never what \
              the model must do, hide or read.",
    },
    Rule {
        id: "MCP208",
        name: "HiddenUnicode",
        severity: Severity::High,
        summary: "A definition hides characters a person does not see.",
        fix: "Remove zero-width, bidi, tag and control characters from the definition.",
    },
    Rule {
        id: "MCP209",
        name: "AuthoritySpoofing",
        severity: Severity::Medium,
        summary: "A description claims an authority it cannot have.",
        fix: "Remove claims of being official, verified, a system message or from a vendor or administrator.",
    },
    Rule {
        id: "MCP210",
        name: "MissingBehaviourHints",
        severity: Severity::Low,
        summary: "A tool says neither whether it is read-only nor whether it is destructive.",
        fix: "Annotate the tool: `#[mcp_tool(read_only)]`, `#[mcp_tool(destructive)]`, or \
              `destructiveHint: false` for one that only adds.",
    },
    Rule {
        id: "MCP211",
        name: "ToolChangedSinceBaseline",
        severity: Severity::High,
        summary: "A tool definition changed since the baseline.",
        fix: "Review the change; when it is intended, delete the baseline file and scan again to record the \
              new digests.",
    },
    Rule {
        id: "MCP212",
        name: "ToolAddedSinceBaseline",
        severity: Severity::Medium,
        summary: "A tool was added since the baseline.",
        fix: "Review the new tool; when it is intended, delete the baseline file and scan again to record it.",
    },
    Rule {
        id: "MCP213",
        name: "ToolRemovedSinceBaseline",
        severity: Severity::Low,
        summary: "A tool was removed since the baseline.",
        fix: "When the removal is intended, delete the baseline file and scan again to record it.",
    },
    Rule {
        id: "MCP214",
        name: "ToolShadowing",
        severity: Severity::High,
        summary: "A definition tells the model how to use another tool of the server.",
        fix: "Remove what the definition says about other tools; each tool's own definition says how it is used.",
    },
    Rule {
        id: "MCP215",
        name: "EncodedInstructions",
        severity: Severity::High,
        summary: "A definition hides instructions in an encoding.",
        fix: "Remove the encoded text; a definition a person cannot read is not one the model should follow.",
    },
    Rule {
        id: "MCP216",
        name: "ShellBait",
        severity: Severity::High,
        summary: "A definition carries commands a shell would run for someone else.",
        fix: "Remove the commands; document installation outside what the model reads, never as an instruction.",
    },
    Rule {
        id: "MCP217",
        name: "Exfiltration",
        severity: Severity::Critical,
        summary: "A definition asks for secrets or the conversation to be read and sent.",
        fix: "Remove the request and treat the server as compromised: find who wrote the definition and rotate \
              any secret a client may have sent.",
    },
    Rule {
        id: "MCP218",
        name: "ConcealmentOrForgedConsent",
        severity: Severity::High,
        summary: "A definition asks the model to keep something from the user or claims the user's consent.",
        fix: "Remove the text; the user sees and approves what the model does, and only the client asks for \
              consent.",
    },
    Rule {
        id: "MCP301",
        name: "UnauthenticatedAccess",
        severity: Severity::Critical,
        summary: "The endpoint serves requests without any credential.",
        fix: "Authenticate every request: set `security.strategy` (api-key, jwt or oauth); serve without \
              authentication only on loopback, for development.",
    },
    Rule {
        id: "MCP302",
        name: "CredentialInQuery",
        severity: Severity::High,
        summary: "A credential is read from the URL's query string.",
        fix: "Accept credentials only in a header (`Authorization`, or `security.header`); refuse them in the \
              URL, which ends up in logs, proxies and browser history.",
    },
    Rule {
        id: "MCP303",
        name: "DnsRebinding",
        severity: Severity::High,
        summary: "A request with a foreign Host or Origin is served.",
        fix: "Check Host and Origin against allow-lists (`http.allowed_hosts`, `http.allowed_origins`) before \
              anything else, and answer 403 to the rest.",
    },
    Rule {
        id: "MCP304",
        name: "NoRateLimit",
        severity: Severity::Medium,
        summary: "A burst of calls is served without a rate limit answering 429.",
        fix: "Limit tool calls: `#[mcp_tool(rate = \"30/min\")]`, or `[throttling]` `default_tool`, \
              `per_principal`, `global`, refused with 429 and Retry-After.",
    },
    Rule {
        id: "MCP305",
        name: "WeakSessionIds",
        severity: Severity::Medium,
        summary: "Session ids are guessable.",
        fix: "Draw session ids from a CSPRNG, at least 128 bits, encoded as hex or base64url.",
    },
    Rule {
        id: "MCP306",
        name: "ErrorLeak",
        severity: Severity::Medium,
        summary: "An error answer leaks internals.",
        fix: "Answer errors with a generic message and log the details on the server; never send panic \
              messages, backtraces or file paths to clients.",
    },
];

/// The rule with this id, when it is one of [`RULES`].
pub(crate) fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}
