//! The diagnostic tools the stateless scenarios (`server-stateless`, SEP-2575) probe the server with.
