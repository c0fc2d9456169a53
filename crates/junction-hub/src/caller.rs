//! [`Caller`]: what the registry needs to know about who a request is made for.
//!
//! The registry knows nothing of HTTP or of keys; the HTTP layer resolves those and hands over
//! only what changes how an upstream is reached: the request headers upstreams may see (LiteLLM's
//! `extra_headers`, `x-mcp-<alias>-*` and `x-mcp-auth` rules apply to them, see
//! `client_headers.rs`), and the downstream MCP session upstreams may talk back to
//! (`downstream.rs`).

use std::sync::Arc;

use crate::client_headers::RequestHeaders;
use crate::downstream::Downstream;

/// Who a request is made for. The default is nobody in particular: every server's shared
/// session serves it.
#[derive(Clone, Default)]
pub struct Caller {
    /// The client's request headers, without the one that carried the gateway's key.
    pub headers: RequestHeaders,
    /// The MCP client session the request came from, when there is one.
    pub downstream: Option<Arc<dyn Downstream>>,
}

impl Caller {
    pub fn with_headers(headers: RequestHeaders) -> Caller {
        Caller {
            headers,
            downstream: None,
        }
    }
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("headers", &self.headers)
            .field("downstream", &self.downstream.as_ref().map(|d| d.id()))
            .finish()
    }
}
