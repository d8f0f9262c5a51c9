//! The resources of the conformance scenarios (`resources-*`).

use mcp_runtime::prelude::*;
use serde::Serialize;

/// A 1×1 red PNG, as bytes.
const RED_PIXEL: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0xFC, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x05, 0x02, 0x00, 0x5F, 0xC8, 0xF1,
    0xD2, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A static text resource for testing.
#[mcp_resource(uri = "test://static-text", name = "static-text", mime_type = "text/plain")]
async fn static_text() -> &'static str {
    "This is the content of the static text resource."
}

/// A static binary resource (a PNG) for testing.
#[mcp_resource(uri = "test://static-binary", name = "static-binary", mime_type = "image/png")]
async fn static_binary() -> Vec<u8> {
    RED_PIXEL.to_vec()
}

/// A resource clients subscribe to.
#[mcp_resource(uri = "test://watched-resource", name = "watched-resource", mime_type = "text/plain")]
async fn watched_resource() -> &'static str {
    "Watched resource content."
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateData {
    id: String,
    template_test: bool,
    data: String,
}

/// Data for one id, from a resource template.
#[mcp_resource(uri = "test://template/{id}/data", name = "template-data", mime_type = "application/json")]
async fn template_data(id: String) -> Json<TemplateData> {
    Json(TemplateData { data: format!("Data for ID: {id}"), id, template_test: true })
}
