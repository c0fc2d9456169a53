//! What the server sends us unasked: notifications, requests, and progress for calls in flight.
//!
//! `rmcp` hands everything a server sends outside of answers to a `ClientHandler`. Ours
//! forwards the notifications a gateway cares about to the user's [`NotificationHandler`], and
//! routes progress notifications to the callback of the
//! [`crate::McpClient::call_tool_with_progress`] call that asked for them, by progress token.
//! It declares only the client capabilities (roots, sampling, elicitation) of the user's
//! [`ServerRequestHandler`] and hands those requests to it (see [`crate::requests`]); without
//! one it declares none, as a gateway has no user to ask and no model of its own to lend, and
//! refuses them with method-not-found. `ping` is answered by `rmcp`. One handler exists per
//! session, so progress tokens (numbered per session by `rmcp`) never mix across reconnections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

#[allow(
    deprecated,
    reason = "logging is deprecated by SEP-2577, but servers still send it"
)]
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::{
    ClientCapabilities, ClientResult, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationCreateRequestMethod, ErrorData, Implementation, InitializeRequestParams,
    NumberOrString, ProgressNotificationParam, ProgressToken, ProtocolVersion,
    ResourceUpdatedNotificationParam, ServerRequest,
};
#[allow(
    deprecated,
    reason = "sampling and roots are deprecated by SEP-2577, but servers still send them"
)]
use rmcp::model::{
    CreateMessageRequest, CreateMessageRequestMethod, CreateMessageRequestParams,
    CreateMessageResult, ListRootsRequest, ListRootsRequestMethod, ListRootsResult,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use rmcp::{ClientHandler, ClientLifecycleMode};

use crate::requests::{self, ClientHooks, ServerRequestHandler};

/// One progress report of a running request.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// How far along; increases with every report, even when the total is unknown.
    pub progress: f64,
    /// The value `progress` reaches at the end, when the server knows it.
    pub total: Option<f64>,
    /// A human-readable description of the current step.
    pub message: Option<String>,
}

/// A notification from an MCP server.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Notification {
    /// `notifications/tools/list_changed`: cached tool lists are stale.
    ToolsListChanged,
    /// `notifications/prompts/list_changed`.
    PromptsListChanged,
    /// `notifications/resources/list_changed`.
    ResourcesListChanged,
    /// `notifications/resources/updated` for a subscribed resource.
    ResourceUpdated { uri: String },
    /// `notifications/message`: a log line of the server. `level` is the MCP (syslog) level
    /// name (`debug`, `info`, … `emergency`).
    Log {
        level: String,
        logger: Option<String>,
        data: serde_json::Value,
    },
    /// `notifications/progress`, for any request (calls made with
    /// [`crate::McpClient::call_tool_with_progress`] also get it through their callback).
    Progress { token: String, progress: Progress },
}

/// Receives the notifications of every server a client talks to.
///
/// Called from the task that reads the server's messages: it should return quickly (hand
/// slow work to a channel or a task).
pub trait NotificationHandler: Send + Sync + 'static {
    fn on_notification(&self, server: &str, notification: Notification);
}

impl<F> NotificationHandler for F
where
    F: Fn(&str, Notification) + Send + Sync + 'static,
{
    fn on_notification(&self, server: &str, notification: Notification) {
        self(server, notification)
    }
}

pub(crate) type ProgressCallback = Arc<dyn Fn(Progress) + Send + Sync>;

/// The progress callbacks of one session's requests, by progress token.
#[derive(Clone, Default)]
pub(crate) struct ProgressRoutes {
    routes: Arc<Mutex<HashMap<ProgressToken, ProgressCallback>>>,
}

impl ProgressRoutes {
    /// Sends the progress of `token` to `callback` until the returned guard is dropped.
    pub(crate) fn register(&self, token: ProgressToken, callback: ProgressCallback) -> RouteGuard {
        self.lock().insert(token.clone(), callback);
        RouteGuard {
            routes: self.clone(),
            token,
        }
    }

    /// Calls the callback registered for this progress report's token, if any.
    pub(crate) fn deliver(&self, params: &ProgressNotificationParam) {
        let callback = self.lock().get(&params.progress_token).cloned();
        if let Some(callback) = callback {
            callback(Progress {
                progress: params.progress,
                total: params.total,
                message: params.message.clone(),
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ProgressToken, ProgressCallback>> {
        // The map stays consistent even if a holder panicked: entries are inserted or removed
        // whole.
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a progress route when the request it belongs to is over (or abandoned).
pub(crate) struct RouteGuard {
    routes: ProgressRoutes,
    token: ProgressToken,
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        self.routes.lock().remove(&self.token);
    }
}

/// The `rmcp` client handler of one session.
pub(crate) struct Handler {
    server: Arc<str>,
    hooks: ClientHooks,
}

impl Handler {
    pub(crate) fn new(server: Arc<str>, hooks: ClientHooks) -> Self {
        Handler { server, hooks }
    }

    fn forward(&self, notification: Notification) {
        if let Some(handler) = &self.hooks.notifications {
            handler.on_notification(&self.server, notification);
        }
    }

    /// Hands a server's request to the request handler; `None` when there is none.
    async fn ask(
        &self,
        request: ServerRequest,
        context: RequestContext<RoleClient>,
    ) -> Option<Result<ClientResult, ErrorData>> {
        let handler: &dyn ServerRequestHandler = self.hooks.requests.as_deref()?;
        Some(requests::ask(handler, &self.server, request, context).await)
    }
}

/// The identity and capabilities we announce in `initialize`: those of the request handler,
/// or none.
pub(crate) fn client_info(requests: Option<&dyn ServerRequestHandler>) -> InitializeRequestParams {
    // Without a request handler, no roots, sampling or elicitation: we would have nothing
    // honest to answer with. The `initialize` handshake only exists up to 2025-11-25, so that
    // is what it offers; the stateless 2026-07-28 revision is reached through
    // `server/discover` (see `lifecycle`).
    let capabilities = requests.map_or_else(ClientCapabilities::default, |handler| {
        handler.capabilities()
    });
    InitializeRequestParams::new(
        capabilities,
        Implementation::new("junction", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// How a session starts: probe with `server/discover` for the stateless 2026-07-28 revision,
/// and fall back to the `initialize` handshake (2024-11-05 … 2025-11-25) when the server is of
/// the older era, as the specification's era detection describes.
pub(crate) fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
    }
}

/// The progress token as text (`"7"` or the server's string), for [`Notification::Progress`].
fn token_text(token: &ProgressToken) -> String {
    match &token.0 {
        NumberOrString::Number(n) => n.to_string(),
        NumberOrString::String(s) => s.to_string(),
    }
}

impl ClientHandler for Handler {
    fn get_info(&self) -> InitializeRequestParams {
        client_info(self.hooks.requests.as_deref())
    }

    #[allow(
        deprecated,
        reason = "sampling is deprecated by SEP-2577, but servers still send it"
    )]
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let request = ServerRequest::CreateMessageRequest(CreateMessageRequest::new(params));
        match self.ask(request, context).await {
            None => Err(ErrorData::method_not_found::<CreateMessageRequestMethod>()),
            Some(Ok(ClientResult::CreateMessageResult(result))) => Ok(*result),
            Some(Ok(other)) => Err(requests::mismatch("sampling/createMessage", &other)),
            Some(Err(error)) => Err(error),
        }
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let request = ServerRequest::ElicitRequest(ElicitRequest::new(params));
        match self.ask(request, context).await {
            None => Err(ErrorData::method_not_found::<ElicitationCreateRequestMethod>()),
            Some(Ok(ClientResult::ElicitResult(result))) => Ok(result),
            Some(Ok(other)) => Err(requests::mismatch("elicitation/create", &other)),
            Some(Err(error)) => Err(error),
        }
    }

    #[allow(
        deprecated,
        reason = "roots are deprecated by SEP-2577, but servers still ask for them"
    )]
    async fn list_roots(
        &self,
        context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let request = ServerRequest::ListRootsRequest(ListRootsRequest::default());
        match self.ask(request, context).await {
            None => Err(ErrorData::method_not_found::<ListRootsRequestMethod>()),
            Some(Ok(ClientResult::ListRootsResult(result))) => Ok(result),
            Some(Ok(other)) => Err(requests::mismatch("roots/list", &other)),
            Some(Err(error)) => Err(error),
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let progress = Progress {
            progress: params.progress,
            total: params.total,
            message: params.message,
        };
        // The request's own callback was already called, in order, by the transport
        // wrapper (`transport::Watched`); here only the session-wide handler is told.
        self.forward(Notification::Progress {
            token: token_text(&params.progress_token),
            progress,
        });
    }

    #[allow(
        deprecated,
        reason = "logging is deprecated by SEP-2577, but servers still send it"
    )]
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = match serde_json::to_value(params.level) {
            Ok(serde_json::Value::String(level)) => level,
            _ => "info".to_owned(),
        };
        self.forward(Notification::Log {
            level,
            logger: params.logger,
            data: params.data,
        });
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.forward(Notification::ResourceUpdated { uri: params.uri });
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.forward(Notification::ResourcesListChanged);
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.forward(Notification::ToolsListChanged);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.forward(Notification::PromptsListChanged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_deliver_as_long_as_their_guard_lives() {
        let routes = ProgressRoutes::default();
        let token = ProgressToken(NumberOrString::Number(3));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let guard = routes.register(
            token.clone(),
            Arc::new(move |p: Progress| sink.lock().unwrap().push(p.progress)),
        );
        let report = |progress: f64| ProgressNotificationParam::new(token.clone(), progress);
        routes.deliver(&report(1.0));
        drop(guard);
        routes.deliver(&report(2.0));
        assert_eq!(*seen.lock().unwrap(), vec![1.0]);
    }

    #[test]
    fn tokens_print_as_the_server_sent_them() {
        assert_eq!(token_text(&ProgressToken(NumberOrString::Number(7))), "7");
        assert_eq!(
            token_text(&ProgressToken(NumberOrString::String("ab".into()))),
            "ab"
        );
    }

    #[test]
    fn without_a_request_handler_we_announce_no_client_capabilities() {
        let info = client_info(None);
        assert!(info.capabilities.roots.is_none());
        assert!(info.capabilities.sampling.is_none());
        assert!(info.capabilities.elicitation.is_none());
        assert_eq!(info.client_info.name, "junction");
    }

    /// Answers nothing; announces roots only.
    struct RootsOnly;

    impl ServerRequestHandler for RootsOnly {
        #[allow(deprecated, reason = "roots are deprecated by SEP-2577")]
        fn capabilities(&self) -> ClientCapabilities {
            ClientCapabilities::builder().enable_roots().build()
        }

        fn handle(
            &self,
            _server: &str,
            _request: ServerRequest,
        ) -> futures_util::future::BoxFuture<'static, Result<ClientResult, ErrorData>> {
            Box::pin(async { Ok(ClientResult::empty(())) })
        }
    }

    #[test]
    fn with_a_request_handler_we_announce_its_capabilities() {
        let info = client_info(Some(&RootsOnly));
        assert!(info.capabilities.roots.is_some());
        assert!(info.capabilities.sampling.is_none());
        assert!(info.capabilities.elicitation.is_none());
    }
}
