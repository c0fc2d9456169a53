//! What every handler shares: the model router, the MCP registry and its `/mcp` service, the
//! store, the authenticator and the metrics.

use std::sync::Arc;

use junction_hub::Registry;
use junction_llm::Router;
use junction_store::Store;

use crate::auth::Authenticator;
use crate::mcp_drain::McpDrain;
use crate::mcp_legacy_sse::LegacySessions;
use crate::mcp_server::CatalogServer;
use crate::metrics::Metrics;

/// The `/mcp` endpoint: rmcp's streamable HTTP service with in-memory sessions.
pub type McpHttpService = rmcp::transport::StreamableHttpService<
    CatalogServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
>;

pub struct AppState {
    pub router: Arc<Router>,
    /// `/v1/responses`: the tool loop over `router` and `mcp`, state in `store`.
    pub responses: Arc<junction_responses::Engine>,
    /// The `mcp_servers`: sessions, health, the tool catalog.
    pub mcp: Arc<Registry>,
    /// Serves `/mcp` over `mcp`; one [`CatalogServer`] per client session.
    pub mcp_http: McpHttpService,
    /// The open sessions of `/mcp`'s legacy HTTP+SSE transport.
    pub mcp_legacy: Arc<LegacySessions>,
    /// Requests in flight on `/mcp`, and the end of its streams at shutdown.
    pub mcp_drain: Arc<McpDrain>,
    pub store: Store,
    /// Writes spend logs in the background; handlers only queue them.
    pub spend: crate::spend::SpendRecorder,
    /// MCP servers defined through `/v1/mcp/server`, kept in `store`, served by `mcp`.
    pub stored_mcp: Arc<crate::stored_mcp_servers::StoredServers>,
    /// Polls `store` for other replicas' server changes; stopped at shutdown.
    pub stored_mcp_sync: crate::stored_mcp_servers::SyncTask,
    pub auth: Authenticator,
    pub metrics: Arc<Metrics>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Whether `/metrics` needs the master key.
    pub metrics_need_auth: bool,
    /// Browser origins besides localhost allowed on `/mcp` (DNS-rebinding protection).
    pub mcp_allowed_origins: Vec<String>,
}

pub type SharedState = Arc<AppState>;
