//! What every handler shares: the model router, the MCP registry, the store, the
//! authenticator and the metrics.

use std::sync::Arc;

use junction_hub::Registry;
use junction_llm::Router;
use junction_store::Store;

use crate::auth::Authenticator;
use crate::metrics::Metrics;

pub struct AppState {
    pub router: Router,
    /// The `mcp_servers`: sessions, health, the tool catalog.
    pub mcp: Arc<Registry>,
    pub store: Store,
    pub auth: Authenticator,
    pub metrics: Arc<Metrics>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Whether `/metrics` needs the master key.
    pub metrics_need_auth: bool,
}

pub type SharedState = Arc<AppState>;
