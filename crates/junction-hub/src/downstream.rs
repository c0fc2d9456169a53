//! [`Downstream`]: a client session of the gateway that upstream servers may talk back to,
//! and the relay that connects the two.
//!
//! MCP servers send requests to their client (`sampling/createMessage`, `elicitation/create`,
//! `roots/list`) and log to it. Behind a gateway, "the client" is whichever downstream session
//! the work is done for, and only that session may see the request: a prompt to sample or a
//! question for the user belongs to one user. A shared upstream session cannot tell whose call
//! a server request belongs to, so a downstream session that can answer such requests (it
//! declared sampling, elicitation or roots), or that asked for log messages
//! (`logging/setLevel`) or resource updates (`resources/subscribe`), gets upstream sessions of its own (see `variants.rs`), opened on its
//! first call to each server and closed with it. Those sessions announce exactly the
//! downstream's capabilities, so upstreams only ask what can be answered, and everything they
//! send back belongs to that one downstream session. Request ids are the two sessions' own:
//! each side numbers its requests, and the relay answers one with the other's answer.

// Logging is deprecated by SEP-2577 (2026-07-28), but servers and clients of the earlier
// revisions still use it, and the gateway relays it for them.
#![allow(deprecated)]

use std::sync::Arc;

use futures_util::future::BoxFuture;
use junction_mcp::model::{
    ClientCapabilities, ClientResult, ErrorCode, ErrorData, LoggingLevel, ServerRequest,
};
use junction_mcp::{Notification, NotificationHandler, ServerRequestHandler};
use serde_json::Value;
use tokio::sync::Notify;

/// A downstream client session, as the registry needs it.
pub trait Downstream: Send + Sync + 'static {
    /// Unique among the gateway's live sessions, fixed for this one's life.
    fn id(&self) -> u64;
    /// The sampling, elicitation and roots capabilities the client declared (others empty).
    fn capabilities(&self) -> ClientCapabilities;
    /// The level of log messages it asked for, if it did.
    fn log_level(&self) -> Option<LoggingLevel>;
    /// Sends a server request to the client and waits for its answer.
    fn request(
        &self,
        request: ServerRequest,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>>;
    /// Relays a log message of upstream `server` (already filtered by [`Self::log_level`]).
    fn log(&self, server: &str, level: LoggingLevel, logger: Option<String>, data: Value);
    /// Whether it subscribed to a resource (its updates must reach it alone).
    fn subscribed(&self) -> bool;
    /// Relays `notifications/resources/updated` of upstream `server` for its `uri`.
    fn resource_updated(&self, server: &str, uri: &str);
}

/// Whether `downstream` needs upstream sessions of its own: something an upstream sends
/// back during its calls (a server request, a log message, a resource update) must reach it.
/// When it does not, its calls go through the servers' shared sessions, and nothing but the
/// answer comes back (the gateway's `/mcp` answers such calls without an event stream).
pub fn wants_own_sessions(downstream: &dyn Downstream) -> bool {
    let capabilities = relayed(downstream.capabilities());
    capabilities.sampling.is_some()
        || capabilities.elicitation.is_some()
        || capabilities.roots.is_some()
        || downstream.log_level().is_some()
        || downstream.subscribed()
}

/// The part of a client's capabilities the relay passes on.
fn relayed(capabilities: ClientCapabilities) -> ClientCapabilities {
    let mut relayed = ClientCapabilities::default();
    relayed.sampling = capabilities.sampling;
    relayed.elicitation = capabilities.elicitation;
    relayed.roots = capabilities.roots;
    relayed
}

/// The hooks of an upstream session opened for one downstream session: its server requests
/// and log messages go to that downstream; list changes still refresh the catalog.
pub(crate) struct Relay {
    pub downstream: Arc<dyn Downstream>,
    pub refresh: Arc<Notify>,
}

impl ServerRequestHandler for Relay {
    fn capabilities(&self) -> ClientCapabilities {
        relayed(self.downstream.capabilities())
    }

    fn handle(
        &self,
        _server: &str,
        request: ServerRequest,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>> {
        self.downstream.request(request)
    }
}

impl NotificationHandler for Relay {
    fn on_notification(&self, server: &str, notification: Notification) {
        match notification {
            Notification::ToolsListChanged
            | Notification::PromptsListChanged
            | Notification::ResourcesListChanged => self.refresh.notify_one(),
            Notification::Log {
                level,
                logger,
                data,
            } => {
                let Ok(level) = serde_json::from_value::<LoggingLevel>(Value::String(level)) else {
                    return;
                };
                let wanted = self.downstream.log_level();
                if wanted.is_some_and(|min| severity(level) >= severity(min)) || wanted.is_none() {
                    self.downstream.log(server, level, logger, data);
                }
            }
            Notification::ResourceUpdated { uri } => self.downstream.resource_updated(server, &uri),
            _ => {}
        }
    }
}

/// What a server's shared session answers to server requests. It declares sampling,
/// elicitation and roots, because servers list some tools only to clients that have them
/// (server-everything's `trigger-sampling-request`), and the catalog must show what the
/// gateway's clients can use. A call from a client session that can answer them goes through
/// a session of its own (see the top of this file); a request on the shared one comes from a
/// call of a client that cannot, and is declined with a message saying so (roots: none).
pub(crate) struct SharedSessionAnswers;

impl ServerRequestHandler for SharedSessionAnswers {
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::builder()
            .enable_sampling()
            .enable_elicitation()
            .enable_roots()
            .build()
    }

    fn handle(
        &self,
        server: &str,
        request: ServerRequest,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>> {
        let answer = match request {
            ServerRequest::ListRootsRequest(_) => Ok(ClientResult::ListRootsResult(
                junction_mcp::model::ListRootsResult::default(),
            )),
            other => Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!(
                    "{} from MCP server {server} cannot be answered: the client of this call did not declare the capability, and the gateway has no user or model of its own",
                    method_of(&other)
                ),
                None,
            )),
        };
        Box::pin(std::future::ready(answer))
    }

    fn needs_stateful_session(&self) -> bool {
        false
    }
}

fn method_of(request: &ServerRequest) -> String {
    serde_json::to_value(request)
        .ok()
        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "a request".to_owned())
}

/// Syslog order, least severe first.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}
