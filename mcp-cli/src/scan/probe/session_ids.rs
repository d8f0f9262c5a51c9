//! Whether a server's session ids could be guessed (`MCP305`), from a sample of them.

/// The least entropy a session id should carry, in bits.
const MIN_SESSION_BITS: f64 = 96.0;

/// Why these session ids are guessable, if they are.
pub(super) fn weak_session_ids(ids: &[String]) -> Option<String> {
    let mut reasons = Vec::new();
    let shortest = ids.iter().map(|id| id.chars().count()).min().unwrap_or(0);
    if shortest < 16 {
        reasons.push(format!("only {shortest} characters"));
    }
    let encoded = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_');
    if !ids.iter().all(|id| id.chars().all(encoded)) {
        reasons.push("not hex or base64".to_owned());
    }
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    sorted.dedup();
    if sorted.len() < ids.len() {
        reasons.push("the same id given twice".to_owned());
    }
    // The part that varies: without the prefix and suffix every id shares.
    let chars: Vec<Vec<char>> = ids.iter().map(|id| id.chars().collect()).collect();
    let common = |at: &dyn Fn(&[char], usize) -> Option<char>| {
        (0..shortest).take_while(|&i| chars.iter().all(|c| at(c, i) == at(&chars[0], i))).count()
    };
    let prefix = common(&|c: &[char], i| c.get(i).copied());
    let suffix = common(&|c: &[char], i| c.len().checked_sub(i + 1).map(|j| c[j])).min(shortest - prefix);
    let varying: Vec<&[char]> = chars.iter().map(|c| &c[prefix..c.len() - suffix]).collect();
    let mut alphabet: Vec<char> = varying.iter().flat_map(|v| v.iter().copied()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let length = varying.iter().map(|v| v.len()).min().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)] // lengths and alphabets are small
    let bits = length as f64 * (alphabet.len().max(1) as f64).log2();
    if bits < MIN_SESSION_BITS {
        reasons.push(format!(
            "about {bits:.0} bits of entropy ({length} varying characters of {} seen), fewer than {MIN_SESSION_BITS}",
            alphabet.len()
        ));
    }
    let numbers: Option<Vec<u128>> = varying
        .iter()
        .map(|v| (v.len() <= 32).then(|| u128::from_str_radix(&v.iter().collect::<String>(), 16).ok()).flatten())
        .collect();
    if let Some(mut numbers) = numbers {
        numbers.sort_unstable();
        if numbers.last().zip(numbers.first()).is_some_and(|(max, min)| max - min < 1 << 32) {
            reasons.push("they count up".to_owned());
        }
    }
    if prefix + suffix > 0 && prefix + suffix >= shortest / 2 {
        reasons.push(format!("{} of {shortest} characters are the same in every id", prefix + suffix));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(items: impl IntoIterator<Item = String>) -> Vec<String> {
        items.into_iter().collect()
    }

    #[test]
    fn random_hex_and_base64_session_ids_pass() {
        // 20 ids of 48 hex characters drawn from a fixed sequence of a good generator (SplitMix64).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let hex = ids((0..20).map(|_| format!("{:016x}{:016x}{:016x}", next(), next(), next())));
        assert_eq!(weak_session_ids(&hex), None, "{hex:?}");
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b64 = ids((0..20).map(|_| (0..22).map(|_| char::from(alphabet[(next() % 64) as usize])).collect()));
        assert_eq!(weak_session_ids(&b64), None, "{b64:?}");
    }

    #[test]
    fn guessable_session_ids_are_named() {
        let sequential = ids((1..=20).map(|n| format!("session-{n:012}")));
        let why = weak_session_ids(&sequential).unwrap();
        assert!(
            why.contains("bits of entropy") && why.contains("count up") && why.contains("same in every id"),
            "{why}"
        );
        let short = ids((0..20).map(|n| format!("{:08x}", 0x1234_5678_u32.wrapping_mul(n + 7))));
        assert!(weak_session_ids(&short).unwrap().contains("only 8 characters"));
        let repeated = ids((0..20).map(|_| "0123456789abcdef0123456789abcdef".to_owned()));
        assert!(weak_session_ids(&repeated).unwrap().contains("twice"));
        let odd = ids((0..20).map(|n| format!("{n:02}!{}", "ab".repeat(40))));
        assert!(weak_session_ids(&odd).unwrap().contains("not hex or base64"));
    }
}
