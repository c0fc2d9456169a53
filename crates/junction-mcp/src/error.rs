//! Everything that can go wrong talking to an MCP server, worded for the operator.

use std::time::Duration;

/// A failed MCP operation. Every variant names the server.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The client configuration cannot work (bad URL, unreadable CA bundle, …).
    #[error("MCP server {server}: invalid configuration: {message}")]
    Config { server: String, message: String },
    /// The server could not be reached or the handshake failed.
    #[error("cannot connect to MCP server {server}: {message}")]
    Connect { server: String, message: String },
    /// The server refused the credentials (HTTP 401/403, or an OAuth2 token endpoint error).
    #[error("MCP server {server} refused the credentials: {message}")]
    Unauthorized { server: String, message: String },
    /// No answer in time; the request was cancelled on the server.
    #[error("MCP server {server} did not answer {operation} within {timeout:?}")]
    Timeout {
        server: String,
        operation: String,
        timeout: Duration,
    },
    /// The server answered with a JSON-RPC error.
    #[error("MCP server {server} rejected {operation}: {message} (code {code})")]
    Rejected {
        server: String,
        operation: String,
        code: i32,
        message: String,
    },
    /// The connection broke while a request was in flight and could not be retried safely.
    #[error("connection to MCP server {server} lost during {operation}: {message}")]
    Disconnected {
        server: String,
        operation: String,
        message: String,
    },
    /// An OpenAI tool call that cannot become an MCP call (bad JSON arguments, …).
    #[error("invalid tool call: {0}")]
    InvalidToolCall(String),
}

impl McpError {
    /// The server this error is about, when there is one.
    pub fn server(&self) -> Option<&str> {
        match self {
            McpError::Config { server, .. }
            | McpError::Connect { server, .. }
            | McpError::Unauthorized { server, .. }
            | McpError::Timeout { server, .. }
            | McpError::Rejected { server, .. }
            | McpError::Disconnected { server, .. } => Some(server),
            McpError::InvalidToolCall(_) => None,
        }
    }
}
