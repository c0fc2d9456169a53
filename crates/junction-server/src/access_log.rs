//! One log line and one metrics observation per request.
//!
//! Handlers attach a [`RequestLog`] to their response (model, caller); this middleware adds the
//! route, status and latency. The caller is named by key alias or display name, never by key.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::SharedState;

/// What a handler knows about a request that the middleware cannot see.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    pub model: Option<String>,
    pub caller: Option<String>,
}

pub async fn middleware(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let method = req.method().clone();
    let response = next.run(req).await;
    let latency = start.elapsed();
    let status = response.status().as_u16();
    let log = response.extensions().get::<RequestLog>();
    let model = log.and_then(|l| l.model.as_deref()).unwrap_or("");
    let caller = log.and_then(|l| l.caller.as_deref()).unwrap_or("");
    state
        .metrics
        .observe_request(&route, model, status, latency);
    tracing::info!(
        target: "junction::access",
        method = %method,
        route = %route,
        model,
        status,
        latency_ms = latency.as_micros() as f64 / 1000.0,
        key = caller,
        "request"
    );
    response
}
