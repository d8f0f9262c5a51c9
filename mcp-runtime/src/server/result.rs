//! What a tool function may return, and how each return becomes a `CallToolResult` (the corridor's
//! *format* step for successful and failed calls).

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;

use crate::protocol::{CallToolResult, Content};

/// Structured output: the value goes out as `structuredContent` (with a JSON text mirror in `content`)
/// and its JSON Schema is advertised as the tool's `outputSchema`.
///
/// A value whose schema is not an object (a list, a number) is wrapped as `{"result": value}` so that
/// every revision's clients accept it; the wrapping is reflected in the advertised schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// A failure the model can read and correct: answered as `isError: true` with the message as text.
///
/// Any `std::error::Error` converts into it with `?`; build one from a message with [`ToolError::msg`].
/// It deliberately does not implement `std::error::Error` itself (like `anyhow::Error`), which is what
/// makes the blanket conversion possible.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    content: Vec<Content>,
}

impl ToolError {
    /// An error with a message for the model.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self { content: vec![Content::text(message.to_string())] }
    }

    /// An error with richer content (text and images, say).
    pub fn with_content(content: Vec<Content>) -> Self {
        Self { content }
    }

    /// The message, when the first block is text.
    pub fn message(&self) -> Option<&str> {
        match self.content.first() {
            Some(Content::Text { text, .. }) => Some(text),
            _ => None,
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message().unwrap_or("tool error"))
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ToolError {
    fn from(e: E) -> Self {
        Self::msg(e)
    }
}

/// A type a tool function may return.
///
/// Implemented for [`Json<T>`], `String`, `&'static str`, [`Content`], `Vec<Content>`, [`CallToolResult`],
/// `()`, and `Result<T, E>` where `T` is one of these and `E: Into<ToolError>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an MCP tool",
    note = "return `Json<T>` (T: Serialize + JsonSchema) for structured output, `String` or `Vec<Content>` for content, \
            `CallToolResult` for full control, or `Result<_, E>` with `E: Into<ToolError>` for failures"
)]
pub trait IntoToolResult {
    /// The JSON Schema of the structured result, if this type has one.
    fn output_schema() -> Option<schemars::Schema> {
        None
    }

    /// Converts the value into a result.
    fn into_tool_result(self) -> CallToolResult;
}

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn output_schema() -> Option<schemars::Schema> {
        Some(schemars::SchemaGenerator::default().into_root_schema_for::<T>())
    }

    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(value) => CallToolResult {
                content: vec![Content::text(value.to_string())],
                structured_content: Some(value),
                ..CallToolResult::default()
            },
            Err(e) => {
                tracing::error!(error = %e, "a tool's Json result could not be serialized");
                CallToolResult::error("the tool's result could not be serialized")
            }
        }
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![self])
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(Vec::new())
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn output_schema() -> Option<schemars::Schema> {
        T::output_schema()
    }

    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => CallToolResult { content: e.into().content, is_error: true, ..CallToolResult::default() },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Serialize, JsonSchema)]
    struct Level {
        on_hand: u32,
    }

    #[test]
    fn json_mirrors_structured_content_as_text() {
        let r = Json(Level { on_hand: 3 }).into_tool_result();
        assert_eq!(r.structured_content, Some(json!({"on_hand": 3})));
        assert_eq!(r.content, vec![Content::text(r#"{"on_hand":3}"#)]);
        assert!(!r.is_error);
        let schema = <Json<Level>>::output_schema().unwrap();
        assert_eq!(schema.get("type"), Some(&json!("object")));
    }

    #[test]
    fn errors_become_is_error_results() {
        let r: Result<Json<Level>, ToolError> = Err(ToolError::msg("unknown SKU"));
        let r = r.into_tool_result();
        assert!(r.is_error);
        assert_eq!(r.content, vec![Content::text("unknown SKU")]);
        let io: Result<String, std::io::Error> = Err(std::io::Error::other("disk gone"));
        assert_eq!(io.into_tool_result().content, vec![Content::text("disk gone")]);
        assert!(<Result<String, ToolError>>::output_schema().is_none());
    }
}
