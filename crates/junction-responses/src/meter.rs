//! What the tool loop tells the gateway about the calls it makes, so that each model call
//! and each MCP tool call is logged and charged to the caller. The engine knows no keys or
//! budgets: the server implements [`Meter`] and passes one with the [`crate::Invocation`].

use std::time::SystemTime;

/// Receives one report per call, as it ends.
pub trait Meter: Send + Sync {
    fn model_call(&self, call: MeteredModelCall);
    fn tool_call(&self, call: MeteredToolCall);
}

/// One model call of the loop (one round).
#[derive(Debug, Clone)]
pub struct MeteredModelCall {
    /// The model the request named.
    pub model: String,
    pub started: SystemTime,
    /// Why it failed; `None` when it answered.
    pub error: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: f64,
}

/// One call of a gateway MCP tool.
#[derive(Debug, Clone)]
pub struct MeteredToolCall {
    /// The `mcp_servers` key of its server.
    pub server: String,
    /// The tool's upstream (unprefixed) name.
    pub tool: String,
    pub started: SystemTime,
    /// Why it failed (an error result counts); `None` when it succeeded.
    pub error: Option<String>,
}
