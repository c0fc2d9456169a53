//! HTTP handlers, one file per surface. Each handler authenticates through
//! [`crate::auth::Authenticator`] and reports what it learned in a [`crate::access_log::RequestLog`].

pub mod chat;
pub mod health;
pub mod keys;
pub mod mcp;
pub mod mcp_rest;
pub mod mcp_sse;
pub mod metrics;
pub mod models;
pub mod responses;

use axum::response::{IntoResponse, Response};

use crate::access_log::RequestLog;
use crate::error::ApiError;

/// Attaches the request's log details to whatever the handler produced.
pub(crate) fn finish(result: Result<Response, ApiError>, log: RequestLog) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(log);
    response
}
