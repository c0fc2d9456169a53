//! What a Responses request can fail with, already in the client's terms: an HTTP status, an
//! OpenAI error `type`, a message and the offending parameter. The server renders it in the
//! one OpenAI error shape; nothing here knows about HTTP bodies.

use junction_llm::LlmError;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ResponsesError {
    pub status: u16,
    /// OpenAI's `error.type`.
    pub kind: &'static str,
    pub message: String,
    pub param: Option<&'static str>,
}

impl ResponsesError {
    pub fn invalid(message: impl Into<String>) -> ResponsesError {
        ResponsesError {
            status: 400,
            kind: "invalid_request_error",
            message: message.into(),
            param: None,
        }
    }

    pub fn invalid_param(param: &'static str, message: impl Into<String>) -> ResponsesError {
        ResponsesError {
            param: Some(param),
            ..ResponsesError::invalid(message)
        }
    }

    /// What OpenAI answers for an id the caller may not see, whether it exists or not:
    /// telling the two apart would let one key probe another's ids.
    pub fn not_found(id: &str) -> ResponsesError {
        ResponsesError {
            status: 404,
            kind: "invalid_request_error",
            message: format!("Response with id '{id}' not found."),
            param: None,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ResponsesError {
        ResponsesError {
            status: 403,
            kind: "permission_error",
            message: message.into(),
            param: None,
        }
    }

    /// The database failed: the client may retry; details go to the log, not to the client.
    pub fn storage(error: &junction_store::StoreError) -> ResponsesError {
        tracing::error!(%error, "responses: database error");
        ResponsesError {
            status: 503,
            kind: "internal_error",
            message: "the database is unavailable; try again".to_owned(),
            param: None,
        }
    }

    /// The model failed. Before any tool ran, its own status goes to the client (a 400 from
    /// the upstream is the client's mistake); once tools have run, the loop as a whole failed
    /// at the gateway's side of the exchange, which is a 502 saying which round broke.
    pub fn model(error: &LlmError, round: u32) -> ResponsesError {
        if round == 0 {
            return ResponsesError {
                status: error.status(),
                kind: error.error_type(),
                message: error.to_string(),
                param: matches!(error, LlmError::UnknownModel(_)).then_some("model"),
            };
        }
        ResponsesError {
            status: 502,
            kind: "api_error",
            message: format!("the model failed after {round} round(s) of MCP tool calls: {error}"),
            param: None,
        }
    }
}
