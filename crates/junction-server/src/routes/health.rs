//! `GET /health/liveliness` and `/health/readiness`: probes for orchestrators, open without a key
//! because they reveal nothing but whether the process and its database are up.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::SharedState;

pub async fn liveliness() -> Response {
    axum::Json("I'm alive!").into_response()
}

pub async fn readiness(State(state): State<SharedState>) -> Response {
    match state.store.ping().await {
        Ok(()) => axum::Json(json!({
            "status": "healthy",
            "db": "connected",
            "version": env!("CARGO_PKG_VERSION"),
        }))
        .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "unhealthy",
                "db": "disconnected",
                "error": error.to_string(),
            })),
        )
            .into_response(),
    }
}
