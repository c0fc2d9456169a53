//! What can go wrong on the way to a model, with the HTTP status the client should see.

/// A failed chat call. The server turns it into an OpenAI-style error body with [`status`].
///
/// [`status`]: LlmError::status
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The request cannot be sent as it is (400).
    #[error("{0}")]
    InvalidRequest(String),
    /// No deployment serves this model name (404).
    #[error("model '{0}' is not served by this gateway")]
    UnknownModel(String),
    /// The upstream refused the request with a 4xx; the status is relayed (429 stays 429).
    #[error("{message}")]
    Upstream { status: u16, message: String },
    /// Every deployment tried was unreachable or failed with 5xx (502).
    #[error("{0}")]
    Unavailable(String),
    /// The upstream did not answer within the deployment's timeout (504).
    #[error("{0}")]
    Timeout(String),
}

impl LlmError {
    /// The HTTP status for the client.
    pub fn status(&self) -> u16 {
        match self {
            LlmError::InvalidRequest(_) => 400,
            LlmError::UnknownModel(_) => 404,
            LlmError::Upstream { status, .. } => *status,
            LlmError::Unavailable(_) => 502,
            LlmError::Timeout(_) => 504,
        }
    }

    /// OpenAI's `error.type` for this failure.
    pub fn error_type(&self) -> &'static str {
        match self.status() {
            400 | 404 | 413 | 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            429 => "rate_limit_error",
            504 => "timeout",
            _ => "api_error",
        }
    }
}
