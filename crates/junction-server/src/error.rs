//! The one place where failures become HTTP: OpenAI-style `{"error": {message, type, param, code}}`.
//!
//! `code` carries the HTTP status as a string, as LiteLLM does, so clients written against
//! LiteLLM that branch on it keep working.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use junction_llm::LlmError;
use junction_store::StoreError;

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub param: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            param: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "auth_error", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found_error", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }

    pub fn with_param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }

    /// The JSON body, also used inside streams as a final `data:` event.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.status.as_u16().to_string(),
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<LlmError> for ApiError {
    fn from(err: LlmError) -> Self {
        let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_GATEWAY);
        let param = match &err {
            LlmError::UnknownModel(_) => Some("model"),
            _ => None,
        };
        ApiError {
            status,
            kind: err.error_type(),
            message: err.to_string(),
            param,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_request_error", message)
            }
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "internal_error",
                    "the database is unavailable; try again",
                )
            }
        }
    }
}
