//! The in-process transport: a pipe to a [`LocalServer`] in this process.
//!
//! The server gets one end of an in-memory duplex stream and the session's credentials;
//! the client speaks newline-delimited JSON-RPC on the other end, exactly as over stdio.

use rmcp::RoleClient;
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::io::{DuplexStream, ReadHalf, WriteHalf};

use crate::local::{LocalServer, LocalSession};
use crate::{ClientConfig, McpError};

/// Room for one large message in flight each way before the writer waits for the reader.
const PIPE_BUFFER: usize = 256 * 1024;

pub(crate) type LocalWire =
    AsyncRwTransport<RoleClient, ReadHalf<DuplexStream>, WriteHalf<DuplexStream>>;

/// Starts a session on `server` and returns the client's end of its pipe.
pub(crate) fn open(server: &dyn LocalServer, config: &ClientConfig) -> Result<LocalWire, McpError> {
    let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
    server.serve(LocalSession {
        auth: config.auth.clone(),
        headers: config.headers.clone(),
        io: theirs,
    })?;
    let (read, write) = tokio::io::split(ours);
    Ok(AsyncRwTransport::new_client(read, write))
}
