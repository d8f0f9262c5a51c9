//! Customer profiles for a support-routing agent: one tool, behind JWT authentication and a scope.
//!
//! The profile holds personal data (`email`, `phone`): only callers whose token grants `profiles:read` may
//! fetch it, at most 40 times a minute.

use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

/// A customer as the support desk sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerProfile {
    /// `CUST-` and eight digits.
    pub customer_id: String,
    /// Full name.
    pub name: String,
    /// Contact e-mail (personal data).
    pub email: String,
    /// Contact phone number (personal data).
    pub phone: String,
    /// `standard`, `gold` or `platinum`.
    pub tier: String,
    /// The queue new tickets of this customer go to.
    pub queue: String,
    /// Who asked: the principal of the call.
    pub requested_by: String,
}

/// Fetches a customer's profile (contact details, tier and routing queue) by customer id.
#[mcp_tool(scopes = ["profiles:read"], rate = "40/min", read_only)]
pub async fn fetch_customer_profile(
    /// The customer: `CUST-` followed by eight digits.
    #[schema(pattern = r"^CUST-[0-9]{8}$")]
    #[audit(clear)]
    customer_id: String,
    ctx: Context,
) -> Result<Json<CustomerProfile>, ToolError> {
    let number: u32 = customer_id[5..].parse().map_err(|_| ToolError::msg("malformed customer id"))?;
    if number == 0 {
        return Err(ToolError::msg(format!("no customer {customer_id}")));
    }
    // Fake but stable data: the same id always gives the same customer.
    const NAMES: [&str; 4] = ["Ada Byron", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"];
    const TIERS: [(&str, &str); 3] = [("standard", "general"), ("gold", "priority"), ("platinum", "dedicated")];
    let name = NAMES[number as usize % NAMES.len()];
    let (tier, queue) = TIERS[number as usize % TIERS.len()];
    Ok(Json(CustomerProfile {
        email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
        phone: format!("+1-555-{:04}", number % 10_000),
        customer_id,
        name: name.to_owned(),
        tier: tier.to_owned(),
        queue: queue.to_owned(),
        requested_by: ctx.principal().id.clone(),
    }))
}
