//! [`Throttle`]: the service [`ThrottleLayer`](super::ThrottleLayer) wraps around execution.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::{BoxFuture, Either, Ready, ready};
use serde_json::json;
use tower::Service;
use tracing::Instrument;

use super::layer::Shared;
use super::{Decision, Scope};
use crate::protocol::{ErrorCode, ErrorObject};
use crate::request::{McpRequest, McpResponse, Outcome};

/// Spends the call's budgets, or refuses it with the time to wait.
#[derive(Clone)]
pub struct Throttle<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for Throttle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

/// What a call gets back: a refusal at once, the inner service's own future when no limit applies to the
/// call (nothing boxed), or the checked call.
type Answer<F> =
    Either<Ready<Result<McpResponse, Infallible>>, Either<F, BoxFuture<'static, Result<McpResponse, Infallible>>>>;

impl<S> Service<McpRequest> for Throttle<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Answer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        // The rules in force when the call arrives; a reload swaps them for the calls after it.
        let rules = self.shared.rules.load();
        if !rules.plan.throttles(&request.method) {
            return Either::Right(Either::Left(self.inner.call(request)));
        }
        let tool = request.tool_name();
        let quota = tool.and_then(|t| self.shared.tool_quota(&rules.plan, t));
        let permit = match tool.and_then(|t| rules.concurrency.get(t)) {
            None => None,
            Some((_, semaphore)) => match Arc::clone(semaphore).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return Either::Left(ready(Ok(refuse(Scope::Concurrency, Duration::from_secs(1))))),
            },
        };
        if quota.is_none() && permit.is_none() && !rules.plan.limits_callers() {
            return Either::Right(Either::Left(self.inner.call(request)));
        }
        let limits = rules.plan.limits_for(&request.principal.budget_key(request.source), tool.zip(quota));
        drop(rules);
        // The service that was made ready answers this call; its clone waits for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Either::Right(Either::Right(Box::pin(async move {
            let checked = if limits.is_empty() {
                Ok(Decision::Allow)
            } else {
                shared.limiter.check(&limits).instrument(tracing::debug_span!("mcp.throttle")).await
            };
            match refusal(checked) {
                None => {
                    let response = inner.call(request).await;
                    drop(permit);
                    response
                }
                Some(refused) => {
                    tracing::debug!(principal = %request.principal.id, method = %request.method, "rate limited");
                    Ok(refused)
                }
            }
        })))
    }
}

/// The answer to a check that refused (−32012) or could not decide (−32013); `None` when it allowed.
pub(super) fn refusal(checked: Result<Decision, super::LimiterError>) -> Option<McpResponse> {
    match checked {
        Ok(Decision::Allow) => None,
        Ok(Decision::Deny { scope, retry_after }) => Some(refuse(scope, retry_after)),
        Err(e) => {
            let mut error = ErrorObject::new(ErrorCode::THROTTLE_UNAVAILABLE, format!("{e}: retry later"));
            error.data = Some(json!({ "retryAfterMs": 1000 }));
            Some(McpResponse::error(error, Outcome::RateLimited))
        }
    }
}

fn refuse(scope: Scope, retry_after: Duration) -> McpResponse {
    // Whole milliseconds rounded up: never shorter than the true wait.
    let ms = u64::try_from(retry_after.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
    let what = match scope {
        Scope::Concurrency => "too many calls of this tool are running".to_owned(),
        scope => format!("rate limit exceeded ({} budget)", scope.as_str()),
    };
    let mut error = ErrorObject::new(ErrorCode::RATE_LIMITED, format!("{what}: retry in {ms} ms"));
    error.data = Some(json!({ "retryAfterMs": ms, "limit": scope.as_str() }));
    McpResponse::error(error, Outcome::RateLimited)
}
