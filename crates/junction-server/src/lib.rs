//! Junction's HTTP surface.
//!
//! [`Gateway::start`] wires the pieces from a parsed config (store, model router,
//! authenticator, metrics) and [`Gateway::serve`] runs them on a listener until shutdown. The
//! layout follows the request: `auth` resolves a [`principal::Principal`] once, `routes/*`
//! handle each surface, `error` maps every failure to the client's format in one place, and
//! `access_log` writes one line per request.

mod access_log;
mod auth;
mod body;
mod clock;
mod error;
mod metrics;
mod per_core;
pub mod principal;
mod routes;
mod state;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router as HttpRouter;
use axum::routing::{get, post};
use junction_config::Config;
use junction_llm::{DeploymentError, Router};
use junction_store::{Store, StoreError};
use tokio::net::TcpListener;

pub use error::ApiError;

use crate::auth::Authenticator;
use crate::metrics::Metrics;
use crate::state::{AppState, SharedState};

/// LiteLLM sets no body limit; 32 MiB leaves room for base64 images and stops abuse.
const DEFAULT_BODY_LIMIT_MB: f64 = 32.0;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config names something that cannot be served (exit code 2, like other config errors).
    #[error(transparent)]
    Config(#[from] DeploymentError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

/// A ready-to-serve gateway.
pub struct Gateway {
    state: SharedState,
}

impl Gateway {
    /// Connects the store (running migrations) and builds the model router.
    pub async fn start(config: &Config, database_url: &str) -> Result<Gateway, StartError> {
        let metrics = Arc::new(Metrics::default());
        let observed = metrics.clone();
        let router = Router::from_config(config)?.with_observer(move |failure| {
            observed.upstream_error(&failure.model, &failure.upstream, failure.reason);
        });
        let store = Store::connect(database_url).await?;
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
        let state = Arc::new(AppState {
            router,
            store,
            auth,
            metrics,
            body_limit,
            metrics_need_auth: settings.require_auth_for_metrics_endpoint.unwrap_or(true),
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
        let result = per_core::serve(self.app(), listener, threads.max(1), shutdown, drain).await;
        store.close().await;
        result
    }
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}
