use mcp_runtime::prelude::*;

struct Db;

/// Needs the state main gives the server.
#[mcp_tool]
async fn count(db: State<Db>) -> String {
    let _ = &*db;
    "0".to_owned()
}

#[mcp_server(name = "with-server", version = "1.2.3", title = "With a server", description = "Customised in main")]
async fn main(server: Server) -> Result<Server, std::io::Error> {
    Ok(server.with_state(Db).instructions("count things"))
}
