//! Target 7: the sealed `requestState` of 2026-07-28 `input_required` answers (SEP-2322), the one value a
//! client hands back that the server must treat as attacker-controlled.
//!
//! Input: any bytes. Invariants: (1) the bytes, as a client's `requestState` (lossy UTF-8), never open —
//! only the server can seal, so anything a client makes is refused with one of the named reasons, and
//! nothing panics, whatever the length or alphabet (seeds are states sealed for another caller, so even
//! a real one is refused); (2) a state sealed over answers made from the bytes opens to exactly those
//! answers for the same caller and request, and for no other; (3) that state with any one character
//! changed (chosen by the bytes) is refused.

use mcp_runtime::server::fuzzing::RequestState;
use serde_json::{Map, Value, json};

/// The key every seed of `corpus/request_state` was sealed under.
pub const KEY: &[u8] = b"mcp-fuzz request_state key 0123456789abcdef";

/// The caller seeds were sealed for; the target opens as another one.
pub const SEED_PRINCIPAL: &str = "api_key:seed";
const PRINCIPAL: &str = "api_key:fuzz";
const TOOL: &str = "trip";

fn arguments() -> Map<String, Value> {
    let mut arguments = Map::new();
    arguments.insert("traveller".into(), json!("Ada"));
    arguments
}

/// Checks the three invariants on `data`.
pub fn run(data: &[u8]) {
    let state = RequestState::new(KEY);
    let args = arguments();
    let text = String::from_utf8_lossy(data);

    // (1) What a client sends never opens.
    if let Ok(answers) = state.open(PRINCIPAL, TOOL, Some(&args), &text) {
        panic!("a client-made requestState opened: {answers:?}");
    }

    // (2) A state over answers made of the bytes round-trips, for this caller and request only.
    let mut answers = Map::new();
    answers.insert("city".into(), json!({"action": "accept", "content": {"city": text}}));
    let Ok(sealed) = state.seal(PRINCIPAL, TOOL, Some(&args), answers.clone()) else {
        assert!(data.len() > 40_000, "only a state beyond 64 KiB is refused ({} input bytes)", data.len());
        return;
    };
    assert_eq!(state.open(PRINCIPAL, TOOL, Some(&args), &sealed).as_ref(), Ok(&answers));
    assert!(state.open(SEED_PRINCIPAL, TOOL, Some(&args), &sealed).is_err(), "opened for another caller");
    assert!(state.open(PRINCIPAL, "other", Some(&args), &sealed).is_err(), "opened for another tool");
    assert!(state.open(PRINCIPAL, TOOL, None, &sealed).is_err(), "opened for other arguments");
    assert!(RequestState::new(b"another key").open(PRINCIPAL, TOOL, Some(&args), &sealed).is_err());

    // (3) One character changed anywhere is refused.
    let at = data.iter().map(|&b| usize::from(b)).sum::<usize>() % sealed.len();
    let mut changed = sealed.into_bytes();
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).expect("base64url stays ASCII");
    assert!(state.open(PRINCIPAL, TOOL, Some(&args), &changed).is_err(), "a state changed at {at} opened");
}
