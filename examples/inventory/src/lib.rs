//! An inventory gateway: stock look-ups and adjustments for AI agents, over MCP.
//!
//! The tools live in this library so tests can serve them in-process; `main.rs` is the server binary.
//!
//! It is also a live server: `stock://{sku}` is a resource template clients subscribe to, and a successful
//! `adjust_stock` tells them that SKU's stock changed (`notifications/resources/updated`); an administrator's
//! `set_maintenance` takes `adjust_stock` off the server and puts it back, and every client listening for
//! list changes hears of it (`notifications/tools/list_changed`). Both go through the server's handle,
//! [`Context::server`].
//!
//! And it has long work: `recount_warehouse` walks a warehouse aisle by aisle for a few seconds. A client
//! that can take tasks gets a task at once and polls it (progress per aisle in its status message), and
//! may cancel it mid-way; any other client waits for the answer.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

/// Stock of one SKU, in one warehouse or summed over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StockLevel {
    /// The stock keeping unit.
    pub sku: String,
    /// The warehouse, or `None` for the total over every warehouse.
    pub warehouse_id: Option<String>,
    /// Units on hand.
    pub on_hand: i64,
}

/// A warehouse that holds stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Warehouse {
    /// Its identifier.
    pub id: String,
    /// Where it is.
    pub city: String,
}

/// One SKU's stock, as the `stock://{sku}` resource reads it: units on hand per warehouse and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuStock {
    /// The stock keeping unit.
    pub sku: String,
    /// Units on hand in each warehouse that stocks it, by warehouse id.
    pub warehouses: BTreeMap<String, i64>,
    /// Units on hand over every warehouse.
    pub total: i64,
}

/// An in-memory inventory: units on hand by (SKU, warehouse).
#[derive(Debug)]
pub struct Inventory {
    warehouses: Vec<Warehouse>,
    stock: Mutex<BTreeMap<(String, String), i64>>,
}

impl Inventory {
    /// The demo inventory: five SKUs in two warehouses.
    pub fn seeded() -> Self {
        let warehouses = vec![
            Warehouse { id: "WH-EAST".into(), city: "Newark".into() },
            Warehouse { id: "WH-WEST".into(), city: "Reno".into() },
        ];
        let stock = [
            ("ABC123", "WH-EAST", 40),
            ("ABC123", "WH-WEST", 2),
            ("WIDGET9", "WH-EAST", 125),
            ("GADGET42", "WH-WEST", 0),
            ("SPROCKET7", "WH-EAST", 18),
            ("SPROCKET7", "WH-WEST", 61),
            ("BOLT00001", "WH-WEST", 5000),
        ]
        .into_iter()
        .map(|(sku, wh, n)| ((sku.to_owned(), wh.to_owned()), n))
        .collect();
        Self { warehouses, stock: Mutex::new(stock) }
    }

    fn warehouse_known(&self, id: &str) -> bool {
        self.warehouses.iter().any(|w| w.id == id)
    }

    fn stock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), i64>> {
        self.stock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Retrieves current inventory levels for a given SKU.
#[mcp_tool(rate = "30/min", scopes = ["inventory:read"], read_only)]
pub async fn lookup_stock(
    /// Stock keeping unit: 5-12 upper-case letters or digits.
    #[schema(pattern = r"^[A-Z0-9]{5,12}$")]
    sku: String,
    /// Warehouse to search; every warehouse when absent.
    #[schema(min_length = 3)]
    warehouse_id: Option<String>,
    inventory: State<Inventory>,
) -> Result<Json<StockLevel>, ToolError> {
    if let Some(wh) = &warehouse_id
        && !inventory.warehouse_known(wh)
    {
        return Err(ToolError::msg(format!("unknown warehouse {wh}")));
    }
    let stock = inventory.stock();
    let mut found = false;
    let on_hand = stock
        .iter()
        .filter(|((s, w), _)| *s == sku && warehouse_id.as_ref().is_none_or(|want| want == w))
        .inspect(|_| found = true)
        .map(|(_, n)| n)
        .sum();
    if !found && !stock.keys().any(|(s, _)| *s == sku) {
        return Err(ToolError::msg(format!("unknown SKU {sku}")));
    }
    Ok(Json(StockLevel { sku, warehouse_id, on_hand }))
}

/// Adds `delta` units (negative to remove) to a SKU's stock in one warehouse.
#[mcp_tool(rate = "10/min", scopes = ["inventory:write"], destructive)]
pub async fn adjust_stock(
    /// Stock keeping unit: 5-12 upper-case letters or digits.
    #[schema(pattern = r"^[A-Z0-9]{5,12}$")]
    sku: String,
    /// The warehouse whose stock changes.
    #[schema(min_length = 3)]
    warehouse_id: String,
    /// Units to add; negative to remove.
    #[schema(minimum = -100_000, maximum = 100_000)]
    delta: i64,
    inventory: State<Inventory>,
    ctx: Context,
) -> Result<Json<StockLevel>, ToolError> {
    if !inventory.warehouse_known(&warehouse_id) {
        return Err(ToolError::msg(format!("unknown warehouse {warehouse_id}")));
    }
    let on_hand = {
        let mut stock = inventory.stock();
        let entry = stock.entry((sku.clone(), warehouse_id.clone())).or_insert(0);
        let next = *entry + delta;
        if next < 0 {
            return Err(ToolError::msg(format!(
                "only {} units of {sku} in {warehouse_id}: cannot remove {}",
                *entry, -delta
            )));
        }
        *entry = next;
        next
    };
    // Clients subscribed to this SKU's `stock://` resource are told to read it again.
    ctx.server().notify_resource_updated(&format!("stock://{sku}"));
    ctx.info(format!("adjusted {sku} in {warehouse_id} by {delta}")).await;
    Ok(Json(StockLevel { sku, warehouse_id: Some(warehouse_id), on_hand }))
}

/// Lists the warehouses that hold stock.
#[mcp_tool(read_only)]
pub async fn list_warehouses(inventory: State<Inventory>) -> Json<Vec<Warehouse>> {
    Json(inventory.warehouses.clone())
}

/// The tool `set_maintenance` takes off the server while maintenance is on.
const MAINTAINED: &str = "adjust_stock";

/// Turns maintenance mode on or off. While it is on, stock cannot be adjusted: `adjust_stock` is taken off
/// the server (clients listening for tool list changes are told) until maintenance is turned off again.
#[mcp_tool(rate = "10/min", scopes = ["inventory:admin"], destructive, idempotent)]
pub async fn set_maintenance(
    /// `true` to start maintenance, `false` to end it.
    enabled: bool,
    ctx: Context,
) -> String {
    let server = ctx.server();
    let changed = if enabled { server.disable_tool(MAINTAINED) } else { server.enable_tool(MAINTAINED) };
    let served = server.tool_names().iter().any(|name| name == MAINTAINED);
    match (enabled, changed, served) {
        (true, true, _) => format!("maintenance on: {MAINTAINED} is off the server until maintenance ends"),
        (true, false, _) => format!("maintenance was already on: {MAINTAINED} stays off the server"),
        (false, true, true) => format!("maintenance off: {MAINTAINED} is back"),
        (false, false, true) => format!("maintenance was not on: {MAINTAINED} is served"),
        (false, _, false) => {
            format!("maintenance off, but {MAINTAINED} stays off the server: the configuration disables it")
        }
    }
}

/// What a recount found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Recount {
    /// The warehouse recounted.
    pub warehouse_id: String,
    /// Aisles walked.
    pub aisles: u32,
    /// SKUs found on its shelves.
    pub skus: u32,
    /// Units on hand over all of them.
    pub on_hand: i64,
}

/// Aisles in every demo warehouse.
pub const AISLES: u32 = 6;

/// How long a whole recount takes: `INVENTORY_RECOUNT_MS` milliseconds (default 3000).
fn recount_time() -> Duration {
    let ms = std::env::var("INVENTORY_RECOUNT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    Duration::from_millis(ms)
}

/// Logs a recount that stops before its last aisle (cancelled, or the server shut down).
struct Walk<'a> {
    warehouse_id: &'a str,
    aisle: u32,
}

impl Drop for Walk<'_> {
    fn drop(&mut self) {
        if self.aisle < AISLES {
            tracing::warn!(
                warehouse_id = self.warehouse_id,
                aisle = self.aisle,
                "recount stopped before the last aisle"
            );
        }
    }
}

/// Recounts a warehouse's stock aisle by aisle and reports what it found: slow (a few seconds), so a client
/// that can take a task gets one at once, with progress per aisle, and can cancel it. It changes nothing;
/// the write scope keeps the long walk to those who manage stock.
#[mcp_tool(scopes = ["inventory:write"], task = "optional", read_only, idempotent)]
pub async fn recount_warehouse(
    /// The warehouse to recount.
    #[schema(min_length = 3, max_length = 32)]
    warehouse_id: String,
    inventory: State<Inventory>,
    ctx: Context,
) -> Result<Json<Recount>, ToolError> {
    if !inventory.warehouse_known(&warehouse_id) {
        return Err(ToolError::msg(format!("unknown warehouse {warehouse_id}")));
    }
    let per_aisle = recount_time() / AISLES;
    let mut walk = Walk { warehouse_id: &warehouse_id, aisle: 0 };
    while walk.aisle < AISLES {
        tokio::time::sleep(per_aisle).await;
        walk.aisle += 1;
        let message = format!("aisle {} of {AISLES} counted", walk.aisle);
        ctx.progress(f64::from(walk.aisle), Some(f64::from(AISLES)), Some(&message)).await;
    }
    let (skus, on_hand) = inventory
        .stock()
        .iter()
        .filter(|((_, w), _)| *w == warehouse_id)
        .fold((0, 0), |(skus, units), (_, n)| (skus + 1, units + n));
    drop(walk);
    Ok(Json(Recount { warehouse_id, aisles: AISLES, skus, on_hand }))
}

/// The stock of one SKU, as JSON: units on hand in each warehouse that stocks it, and the total. Subscribe
/// to it to be told when an adjustment changes it.
#[mcp_resource(uri = "stock://{sku}", name = "stock", mime_type = "application/json", scopes = ["inventory:read"])]
pub async fn sku_stock(sku: String, inventory: State<Inventory>) -> Option<Json<SkuStock>> {
    let warehouses: BTreeMap<String, i64> =
        inventory.stock().iter().filter(|((s, _), _)| *s == sku).map(|((_, w), n)| (w.clone(), *n)).collect();
    if warehouses.is_empty() {
        return None;
    }
    let total = warehouses.values().sum();
    Some(Json(SkuStock { sku, warehouses, total }))
}

/// The server with the inventory's tools, resource template and state, for tests and embedding.
pub fn server() -> Server {
    Server::new("inventory-gateway", env!("CARGO_PKG_VERSION"))
        .tool(lookup_stock::SPEC)
        .tool(adjust_stock::SPEC)
        .tool(list_warehouses::SPEC)
        .tool(set_maintenance::SPEC)
        .tool(recount_warehouse::SPEC)
        .resource(sku_stock::SPEC)
        .with_state(Inventory::seeded())
}
