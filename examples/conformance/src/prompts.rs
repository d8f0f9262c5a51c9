//! The prompts of the conformance scenarios (`prompts-*`, `completion-complete`).

use mcp_runtime::prelude::*;

use crate::tools::RED_PIXEL_PNG;

/// A simple prompt without arguments.
#[mcp_prompt]
async fn test_simple_prompt() -> &'static str {
    "This is a simple prompt for testing."
}

/// A prompt with two required arguments.
#[mcp_prompt]
async fn test_prompt_with_arguments(
    /// First test argument
    #[complete(complete_arg1)]
    arg1: String,
    /// Second test argument
    arg2: String,
) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

async fn complete_arg1(value: String, _ctx: CompletionContext) -> Vec<String> {
    ["paris", "park", "party"].into_iter().filter(|v| v.starts_with(&value)).map(str::to_owned).collect()
}

/// A prompt that embeds a resource.
#[mcp_prompt(name = "test_prompt_with_embedded_resource")]
async fn embedded_resource(
    /// URI of the resource to embed
    #[allow(non_snake_case)]
    resourceUri: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(Content::embedded_text(
            resourceUri,
            "text/plain",
            "Embedded resource content for testing.",
        )),
        PromptMessage::user_text("Please process the embedded resource above."),
    ]
}

/// A prompt with an image.
#[mcp_prompt]
async fn test_prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(Content::image(RED_PIXEL_PNG, "image/png")),
        PromptMessage::user_text("Please analyze the image above."),
    ]
}
