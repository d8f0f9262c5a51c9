//! The `x-mcp-header` fixtures (SEP-2243): tools whose arguments are mirrored into `Mcp-Param-*` headers.
