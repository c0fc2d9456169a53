//! [`Caller`]: what the registry needs to know about who a request is made for.
//!
//! The registry knows nothing of HTTP or of keys; the HTTP layer resolves those and hands over
//! only what changes how an upstream is reached: the request headers upstreams may see (LiteLLM's
//! `extra_headers`, `x-mcp-<alias>-*` and `x-mcp-auth` rules apply to them, see
//! `client_headers.rs`).

use crate::client_headers::RequestHeaders;

/// Who a request is made for. The default is nobody in particular: every server's shared
/// session serves it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The client's request headers, without the one that carried the gateway's key.
    pub headers: RequestHeaders,
}

impl Caller {
    pub fn with_headers(headers: RequestHeaders) -> Caller {
        Caller { headers }
    }
}
