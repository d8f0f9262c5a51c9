//! The support-routing server: Streamable HTTP on 127.0.0.1:8090/mcp, every request authenticated with a JWT
//! checked against the public key in `JWT_PUBLIC_KEY` (`mcp.toml` beside this crate's manifest).
//!
//! ```sh
//! JWT_PUBLIC_KEY="$(cat idp-public.pem)" cargo run -p support-routing
//! ```

use mcp_runtime::prelude::*;
use support_routing as _;

#[mcp_server(
    name = "support-routing",
    instructions = "Fetch customer profiles to route support tickets.",
    config = "mcp.toml"
)]
async fn main() {}
