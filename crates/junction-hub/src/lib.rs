//! Junction's MCP gateway core: the configured MCP servers behind one catalog.
//!
//! * `registry`: one persistent [`junction_mcp::McpClient`] session per `mcp_servers` entry,
//!   started in parallel at boot, with health and a cached catalog of tools, prompts,
//!   resources and resource templates.
//! * `naming`: LiteLLM's `<server>-<tool>` names, always valid MCP names, never colliding.
//! * `filter`: `allowed_tools`, `disallowed_tools` and `allowed_params`, with LiteLLM's messages.
//! * `client_headers`: LiteLLM's per-request upstream headers (`extra_headers`,
//!   `x-mcp-<alias>-*`, `x-mcp-auth`); `downstream`: relaying upstreams' requests and logs to
//!   the one client session they belong to; `variants`: the extra upstream sessions both need.
//!
//! The HTTP surface (`/mcp`, `/mcp-rest/*`, `/v1/mcp/*`) lives in `junction-server`; this crate
//! knows nothing of HTTP or of keys: a [`Caller`] carries what matters of the request.

mod caller;
pub mod client_headers;
mod downstream;
pub mod filter;
pub mod naming;
pub mod registry;
mod scope;
pub mod server_id;
mod tool_error;
pub mod upstream_config;
mod variants;

pub use caller::Caller;
pub use client_headers::RequestHeaders;
pub use downstream::{Downstream, wants_own_sessions};

pub use registry::{
    Arguments, Catalog, HubError, Registry, RegistryOptions, ServerHealth, ServerInfo,
    ServerOrigin, ServerStatus,
};
pub use scope::Scope;
pub use tool_error::tool_error;
pub use upstream_config::{Upstream, UpstreamConfigError};
