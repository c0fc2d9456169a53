//! One client session of `/mcp`, as the hub sees it ([`junction_hub::Downstream`]): what it
//! can answer, the log level it asked for, and the way back to it for upstream requests, log
//! messages and resource updates.
//!
//! rmcp creates a handler per client session but hands the session's [`Peer`] only to each
//! request, so the peer is recorded on every request (the latest one carries the session's
//! current stream).

// Logging is deprecated by SEP-2577 (2026-07-28); clients of the earlier revisions use it.
#![allow(deprecated)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use junction_hub::{Downstream, Registry};
use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ClientResult, ErrorData, LoggingLevel, LoggingMessageNotificationParam,
    ResourceUpdatedNotificationParam, ServerRequest,
};
use rmcp::service::Peer;
use serde_json::Value;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A downstream client session.
pub struct DownstreamSession {
    id: u64,
    peer: Mutex<Option<Peer<RoleServer>>>,
    log_level: Mutex<Option<LoggingLevel>>,
    subscribed: AtomicBool,
    /// To name resources in updates as this client knows them.
    registry: Arc<Registry>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DownstreamSession {
    pub fn new(registry: Arc<Registry>) -> DownstreamSession {
        DownstreamSession {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            peer: Mutex::new(None),
            log_level: Mutex::new(None),
            subscribed: AtomicBool::new(false),
            registry,
        }
    }

    /// Records the peer of the request being served.
    pub fn attach(&self, peer: &Peer<RoleServer>) {
        *lock(&self.peer) = Some(peer.clone());
    }

    pub fn set_log_level(&self, level: LoggingLevel) {
        *lock(&self.log_level) = Some(level);
    }

    pub fn mark_subscribed(&self) {
        self.subscribed.store(true, Ordering::Release);
    }

    fn peer(&self) -> Option<Peer<RoleServer>> {
        lock(&self.peer).clone()
    }
}

impl Downstream for DownstreamSession {
    fn id(&self) -> u64 {
        self.id
    }

    fn capabilities(&self) -> ClientCapabilities {
        self.peer()
            .and_then(|peer| peer.peer_info())
            .map(|info| info.capabilities.clone())
            .unwrap_or_default()
    }

    fn log_level(&self) -> Option<LoggingLevel> {
        *lock(&self.log_level)
    }

    fn request(
        &self,
        request: ServerRequest,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>> {
        let peer = self.peer();
        Box::pin(async move {
            let Some(peer) = peer else {
                return Err(ErrorData::internal_error(
                    "the client session is gone",
                    None,
                ));
            };
            peer.send_request(request)
                .await
                .map_err(|error| match error {
                    rmcp::ServiceError::McpError(error) => error,
                    other => ErrorData::internal_error(
                        format!("the client did not answer: {other}"),
                        None,
                    ),
                })
        })
    }

    fn log(&self, server: &str, level: LoggingLevel, logger: Option<String>, data: Value) {
        let Some(peer) = self.peer() else {
            return;
        };
        let params = LoggingMessageNotificationParam::new(level, data)
            .with_logger(logger.unwrap_or_else(|| server.to_owned()));
        tokio::spawn(async move {
            if let Err(error) = peer.notify_logging_message(params).await {
                tracing::debug!(%error, "cannot relay an upstream log message");
            }
        });
    }

    fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    fn resource_updated(&self, server: &str, uri: &str) {
        let Some(peer) = self.peer() else {
            return;
        };
        let uri = self.registry.exposed_resource_uri(server, uri);
        tokio::spawn(async move {
            if let Err(error) = peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
            {
                tracing::debug!(%error, "cannot relay a resource update");
            }
        });
    }
}

impl Drop for DownstreamSession {
    fn drop(&mut self) {
        self.registry.forget_downstream(self.id);
    }
}
