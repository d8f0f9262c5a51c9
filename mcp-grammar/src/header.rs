//! HTTP field names (RFC 9110 §5.1): what an `x-mcp-header` annotation may say (SEP-2243).

/// Whether `text` is an HTTP field-name token (`1*tchar`, RFC 9110 §5.1): not empty, and only ASCII
/// letters, digits and ``!#$%&'*+-.^_`|~``; so no space, colon, control or non-ASCII character.
/// `#[schema(header = "...")]` is checked with it at compile time, a tool's `x-mcp-header` annotations
/// when the server registers the tool.
pub fn is_header_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_tchar_only() {
        for good in ["Region", "Tenant-Id", "x.y_z", "A1!#$%&'*+-.^_`|~"] {
            assert!(is_header_token(good), "{good}");
        }
        for bad in ["", "My Region", "Region:Primary", "Région", "Region\t1", "a\r\nb", "(x)", "a/b", "\"q\""] {
            assert!(!is_header_token(bad), "{bad:?}");
        }
    }
}
