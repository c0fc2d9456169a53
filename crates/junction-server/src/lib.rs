//! Junction's HTTP surface.
//!
//! [`Gateway::start`] wires the pieces from a parsed config (store, model router, MCP
//! registry, authenticator, metrics) and [`Gateway::serve`] runs them on a listener until
//! shutdown. The layout follows the request: `auth` resolves a [`principal::Principal`] once,
//! `routes/*` handle each surface, `error` maps every failure to the client's format in one
//! place, and `access_log` writes one line per request.

mod access_log;
mod auth;
mod body;
mod clock;
mod error;
mod ids;
pub mod mcp_access;
mod mcp_downstream;
mod mcp_drain;
mod mcp_legacy_sse;
mod mcp_server;
mod meter;
mod metrics;
mod per_core;
pub mod principal;
mod routes;
mod spend;
mod state;
mod stored_mcp_servers;
mod upstream_headers;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router as HttpRouter;
use axum::routing::{any, get, post};
use junction_config::Config;
use junction_hub::{HubError, Registry, RegistryOptions, UpstreamConfigError};
use junction_llm::{DeploymentError, Router};
use junction_store::{Store, StoreError};
use tokio::net::TcpListener;

pub use error::ApiError;

use crate::auth::Authenticator;
use crate::mcp_server::CatalogServer;
use crate::metrics::Metrics;
use crate::state::{AppState, McpHttpService, SharedState};
use rmcp::transport::StreamableHttpServerConfig;

/// LiteLLM sets no body limit; 32 MiB leaves room for base64 images and stops abuse.
const DEFAULT_BODY_LIMIT_MB: f64 = 32.0;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config names something that cannot be served (exit code 2, like other config errors).
    #[error(transparent)]
    Config(#[from] InvalidConfig),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The MCP registry could not start for a reason other than its config.
    #[error("MCP gateway: {0}")]
    Mcp(HubError),
}

/// A config that parses but cannot be served: a model deployment or an MCP server.
#[derive(Debug, thiserror::Error)]
pub enum InvalidConfig {
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    #[error(transparent)]
    McpServer(#[from] UpstreamConfigError),
}

impl From<DeploymentError> for StartError {
    fn from(error: DeploymentError) -> Self {
        StartError::Config(error.into())
    }
}

impl From<HubError> for StartError {
    fn from(error: HubError) -> Self {
        match error {
            HubError::Config(error) => StartError::Config(error.into()),
            other => StartError::Mcp(other),
        }
    }
}

/// A ready-to-serve gateway.
pub struct Gateway {
    state: SharedState,
}

impl Gateway {
    /// Builds the model router, starts connecting the MCP servers (in the background: start
    /// does not wait for them) and connects the store (running migrations).
    pub async fn start(config: &Config, database_url: &str) -> Result<Gateway, StartError> {
        let metrics = Arc::new(Metrics::default());
        let observed = metrics.clone();
        let router = Router::from_config(config)?.with_observer(move |failure| {
            observed.upstream_error(&failure.model, &failure.upstream, failure.reason);
        });
        let mcp = Registry::start_with(
            &config.mcp_servers,
            junction_hub::naming::separator_from_env(),
            RegistryOptions {
                client_side_auth_header: config
                    .general_settings
                    .mcp_client_side_auth_header_name
                    .clone(),
                mcp_aliases: config.litellm_settings.mcp_aliases.clone(),
                ..RegistryOptions::default()
            },
        )
        .await?;
        let store = match Store::connect(database_url).await {
            Ok(store) => store,
            Err(error) => {
                mcp.shutdown().await;
                return Err(error.into());
            }
        };
        let settings = &config.general_settings;
        if settings.master_key.is_none() && !settings.allow_unauthenticated {
            tracing::warn!(
                "general_settings.master_key is not set: no request can authenticate. Set a master_key, or allow_unauthenticated: true for a private test setup"
            );
        }
        let auth = Authenticator::new(
            settings.master_key.as_deref(),
            settings.allow_unauthenticated,
            store.clone(),
        );
        let body_limit = (settings
            .max_request_size_mb
            .unwrap_or(DEFAULT_BODY_LIMIT_MB)
            * 1024.0
            * 1024.0) as usize;
        let router = Arc::new(router);
        let responses = Arc::new(junction_responses::Engine::new(
            router.clone(),
            mcp.clone(),
            store.clone(),
            responses_options(settings),
        ));
        let mcp_drain = Arc::new(mcp_drain::McpDrain::default());
        let mcp_http = mcp_http_service(&mcp, &mcp_drain, body_limit);
        let spend = spend::SpendRecorder::start(store.clone());
        let stored_mcp = Arc::new(stored_mcp_servers::StoredServers::new(
            store.clone(),
            mcp.clone(),
            settings,
            config.mcp_servers.clone(),
        ));
        // Served before the first request: a restart must not lose stored servers.
        if let Err(error) = stored_mcp.reload().await {
            mcp.shutdown().await;
            return Err(error.into());
        }
        let stored_mcp_sync = stored_mcp.spawn_sync(stored_mcp_servers::SYNC_INTERVAL);
        let state = Arc::new(AppState {
            router,
            responses,
            mcp,
            mcp_http,
            mcp_legacy: Arc::default(),
            mcp_drain,
            store,
            spend,
            stored_mcp,
            stored_mcp_sync,
            auth,
            metrics,
            body_limit,
            metrics_need_auth: settings.require_auth_for_metrics_endpoint.unwrap_or(true),
            mcp_allowed_origins: settings.mcp_allowed_origins.clone(),
        });
        Ok(Gateway { state })
    }

    /// The axum application, for serving or for in-process tests.
    pub fn app(&self) -> HttpRouter {
        let state = self.state.clone();
        HttpRouter::new()
            .route("/v1/chat/completions", post(routes::chat::handle))
            .route("/chat/completions", post(routes::chat::handle))
            .route("/v1/models", get(routes::models::handle))
            .route("/models", get(routes::models::handle))
            .route("/health/liveliness", get(routes::health::liveliness))
            .route("/health/readiness", get(routes::health::readiness))
            .route("/metrics", get(routes::metrics::handle))
            .route("/key/generate", post(routes::keys::generate))
            .route("/key/info", get(routes::keys::info))
            .route("/key/update", post(routes::keys::update))
            .route("/key/delete", post(routes::keys::delete))
            .route("/key/list", get(routes::keys::list))
            .route("/team/new", post(routes::teams::new))
            .route("/team/update", post(routes::teams::update))
            .route("/team/info", get(routes::teams::info))
            .route("/team/list", get(routes::teams::list))
            .route("/team/delete", post(routes::teams::delete))
            .route("/team/member_add", post(routes::teams::member_add))
            .route("/team/member_delete", post(routes::teams::member_delete))
            .route("/organization/new", post(routes::organizations::new))
            .route(
                "/organization/update",
                axum::routing::patch(routes::organizations::update)
                    .post(routes::organizations::update),
            )
            .route(
                "/organization/info",
                get(routes::organizations::info).post(routes::organizations::info_many),
            )
            .route("/organization/list", get(routes::organizations::list))
            .route(
                "/organization/delete",
                axum::routing::delete(routes::organizations::delete)
                    .post(routes::organizations::delete),
            )
            .route("/user/new", post(routes::users::new))
            .route("/user/info", get(routes::users::info))
            .route("/user/update", post(routes::users::update))
            .route("/user/list", get(routes::users::list))
            .route("/user/delete", post(routes::users::delete))
            .route("/spend/logs", get(routes::spend::logs))
            .route("/ui", get(routes::ui::root))
            .route("/ui/", get(routes::ui::index))
            .route("/ui/api/session", get(routes::ui::session))
            .route("/ui/{file}", get(routes::ui::asset))
            .route("/v1/responses", post(routes::responses::create))
            .route("/responses", post(routes::responses::create))
            .route(
                "/v1/responses/{id}",
                get(routes::responses::get).delete(routes::responses::delete),
            )
            .route(
                "/responses/{id}",
                get(routes::responses::get).delete(routes::responses::delete),
            )
            .route(
                "/v1/responses/{id}/input_items",
                get(routes::responses::input_items),
            )
            .route(
                "/responses/{id}/input_items",
                get(routes::responses::input_items),
            )
            .route("/v1/mcp/server/health", get(routes::mcp_rest::health))
            .route(
                "/v1/mcp/server",
                get(routes::mcp_servers::list)
                    .post(routes::mcp_servers::create)
                    .put(routes::mcp_servers::update),
            )
            .route(
                "/v1/mcp/server/{server_id}",
                get(routes::mcp_servers::get).delete(routes::mcp_servers::delete),
            )
            .route("/v1/mcp/tools", get(routes::mcp_rest::tools))
            .route(
                "/v1/mcp/access_groups",
                get(routes::mcp_rest::access_groups),
            )
            .route("/mcp-rest/tools/list", get(routes::mcp_rest::list))
            .route("/mcp-rest/tools/call", post(routes::mcp_rest::call))
            .route("/mcp", any(routes::mcp::all))
            .route("/mcp/", any(routes::mcp::all))
            .route("/mcp/sse", any(routes::mcp::sse))
            .route(
                routes::mcp_sse::MESSAGE_PATH,
                post(routes::mcp_sse::message),
            )
            // The POST path of LiteLLM's early (true HTTP+SSE) versions.
            .route("/mcp/sse/messages", post(routes::mcp_sse::message))
            .route("/mcp/{servers}", any(routes::mcp::listed))
            .route("/{server}/mcp", any(routes::mcp::single))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                access_log::middleware,
            ))
            .fallback(not_found)
            .with_state(state)
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests and streams finish for at
    /// most `drain`, then returns. `threads` single-threaded runtimes serve the connections; the
    /// calling runtime accepts and is one of them (see `per_core.rs` for why).
    pub async fn serve(
        self,
        listener: TcpListener,
        threads: usize,
        shutdown: impl Future<Output = ()> + Send + 'static,
        drain: Duration,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let spend = self.state.spend.clone();
        let state = self.state.clone();
        let mcp = state.mcp.clone();
        let mcp_drain = self.state.mcp_drain.clone();
        // MCP clients keep streams open while connected: end them once the requests in
        // flight are answered, rather than waiting the whole drain for clients to leave.
        let shutdown = async move {
            shutdown.await;
            tokio::spawn(async move { mcp_drain.close_streams_when_idle().await });
        };
        let result = per_core::serve(self.app(), listener, threads.max(1), shutdown, drain).await;
        // After the drain: no request can still be using a session, and no server may be
        // added behind the registry's back.
        state.stored_mcp_sync.stop();
        mcp.shutdown().await;
        // Every request has ended: what they recorded is written before the store closes.
        spend.close().await;
        store.close().await;
        result
    }
}

/// The `/mcp` service. Sessions (the pre-2026 lifecycle) are kept so that a client can be told
/// when its tool list changes. rmcp's Host and Origin checks are off: they accept loopback
/// only, and `routes/mcp.rs` checks `Origin` itself, allowing the gateway's own host names.
fn mcp_http_service(
    registry: &Arc<Registry>,
    drain: &Arc<mcp_drain::McpDrain>,
    body_limit: usize,
) -> McpHttpService {
    let registry = registry.clone();
    let drain = drain.clone();
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(body_limit)
        .with_cancellation_token(drain.streams());
    McpHttpService::new(
        move || Ok(CatalogServer::new(registry.clone(), drain.clone())),
        Arc::default(),
        config,
    )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// `/v1/responses` settings from `general_settings`.
fn responses_options(
    settings: &junction_config::GeneralSettings,
) -> junction_responses::EngineOptions {
    let defaults = junction_responses::EngineOptions::default();
    junction_responses::EngineOptions {
        max_tool_rounds: settings
            .responses_max_tool_rounds
            .unwrap_or(defaults.max_tool_rounds),
        external: junction_responses::ExternalPolicy {
            allow: settings.responses_allow_external_mcp_urls,
            allow_private: settings.responses_allow_private_mcp_urls,
            ..defaults.external
        },
        id_security: !settings.disable_responses_id_security,
    }
}
