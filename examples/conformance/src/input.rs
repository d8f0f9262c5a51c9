//! The `input-required-result-*` fixtures (SEP-2322): tools, a prompt and a resource that ask the client
//! for input with `resultType: "input_required"` and resume from `inputResponses` and `requestState`.
