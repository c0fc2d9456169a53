//! MCP servers that live in this process, reached over an in-memory pipe instead of a wire.
//!
//! An OpenAPI specification served as MCP tools is such a server: Junction runs the MCP
//! side itself. Giving it the same [`crate::McpClient`] as every other upstream means the
//! gateway treats it like any other server (catalog, health, per-caller sessions, timeouts)
//! without a second code path. Each session gets the credentials and headers an HTTP
//! client would send, so per-caller headers reach the local server the same way.

use std::collections::BTreeMap;

use crate::{Auth, McpError};

/// One new session with a local server.
pub struct LocalSession {
    /// The session's credentials, as configured (or replaced by the caller's).
    pub auth: Auth,
    /// Headers an HTTP client would send with every request of this session.
    pub headers: BTreeMap<String, String>,
    /// The server's end of the pipe: newline-delimited JSON-RPC, as over stdio.
    pub io: tokio::io::DuplexStream,
}

/// An MCP server running inside this process.
pub trait LocalServer: std::fmt::Debug + Send + Sync + 'static {
    /// What the server stands for, for logs (never credentials).
    fn target(&self) -> String;

    /// Starts serving one session; the server answers on `session.io` until it closes.
    /// Must not block: the handshake runs once this returns.
    fn serve(&self, session: LocalSession) -> Result<(), McpError>;
}
