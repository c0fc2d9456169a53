//! [`McpClient`]: one persistent MCP session per server, shared by concurrent calls.
//!
//! LiteLLM opens a connection, initializes, makes one call and closes, for every operation.
//! A gateway serving many requests cannot afford that, and stdio servers (a process per
//! session) even less, so a client keeps one `rmcp` session open and every call goes through
//! it: `rmcp`'s `Peer` multiplexes concurrent requests by JSON-RPC id.
//!
//! Sessions break: a stdio server crashes, an HTTP server restarts and forgets its sessions,
//! the network drops. The client notices (the transport's input ended, or a request failed at
//! the transport level), and the next operation opens a new session with backoff (at once,
//! then after 100 ms, 500 ms and 2 s, as long as the call's time allows). One reconnect lock
//! makes concurrent callers share that work. The failed request itself is sent again only
//! when that cannot run anything twice: always when it certainly did not reach the server
//! (connection refused, a session the server said it does not know), and otherwise only for
//! idempotent operations (`*/list`, `prompts/get`, `resources/read`, `completion/complete`,
//! `logging/setLevel`, `resources/subscribe` and `unsubscribe`, `ping`). A `tools/call` that
//! may have run becomes [`McpError::Disconnected`]. A new session is told the logging level
//! and the resource subscriptions of the old one before any call uses it (see
//! [`crate::remembered`]).
//!
//! On a streamable HTTP session of a revision before 2026-07-28, requests (all but calls that
//! want progress reports) are POSTed by the caller's own task rather than handed through
//! `rmcp`'s peer, service loop and transport worker ([`crate::transport::post`]): the same
//! session, headers and outcomes, for about two thirds of the CPU time and fewer hand-offs
//! between tasks. `rmcp` still runs the session itself.
//!
//! Every operation is bounded by [`ClientConfig::call_timeout`], reconnection included. When
//! the time is up, or the caller stops waiting (drops the future), the server is told with
//! `notifications/cancelled` so it can stop the work.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::ServiceError;
use rmcp::ServiceExt as _;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
    ClientRequest, CompleteRequest, CompleteRequestParams, CompleteResult, ErrorCode, ErrorData,
    GetPromptRequest, GetPromptRequestParams, GetPromptResult, Implementation, InitializeResult,
    ListPromptsRequest, ListResourceTemplatesRequest, ListResourcesRequest, ListToolsRequest,
    PaginatedRequestParams, PingRequest, Prompt, ProtocolVersion, ReadResourceRequest,
    ReadResourceRequestParams, ReadResourceResult, RequestId, Resource, ResourceTemplate,
    ServerPeerInfo, ServerResult, Tool,
};
#[allow(
    deprecated,
    reason = "logging and resources/subscribe are deprecated (SEP-2577, and listen in 2026-07-28), but servers of the 2025 revisions implement them"
)]
use rmcp::model::{
    LoggingLevel, SetLevelRequest, SetLevelRequestParams, SubscribeRequest, SubscribeRequestParams,
    UnsubscribeRequest, UnsubscribeRequestParams,
};
use rmcp::service::{ClientInitializeError, Peer, PeerRequestOptions, RoleClient, RunningService};
use rmcp::{ClientLifecycleMode, ClientServiceExt};
use tokio::time::Instant;

use crate::auth::Credentials;
use crate::handler::{Handler, NotificationHandler, Progress, ProgressCallback, ProgressRoutes};
use crate::remembered::Remembered;
use crate::requests::ClientHooks;
use crate::transport::post::{self, Poster};
use crate::transport::{self, TransportFailure, Watched, WireState};
use crate::{Auth, ClientConfig, McpError, TransportConfig};

/// Waits between reconnection attempts; the first attempt is immediate.
const RECONNECT_BACKOFF: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
];

/// Extra time the outer bound of an operation gives `rmcp`'s own request timeout (which is
/// set to the time left), so that the timeout path that notifies the server normally wins.
const TIMEOUT_GRACE: Duration = Duration::from_millis(250);

/// Bound on ending a session: the stdio shutdown sequence (close stdin, SIGTERM, SIGKILL)
/// takes up to about 6 s, an HTTP `DELETE` up to 5 s.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bound on sending `notifications/cancelled` for an abandoned request.
const CANCEL_SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for one MCP server. Cheap to clone; clones share the session.
///
/// Dropping the last clone ends the session in the background (for stdio, the child is
/// stopped and reaped); [`McpClient::close`] does it and waits.
#[derive(Clone)]
pub struct McpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("name", &self.inner.config.name)
            .field("target", &self.inner.config.transport.target())
            .finish_non_exhaustive()
    }
}

struct Inner {
    name: Arc<str>,
    config: ClientConfig,
    /// The HTTP client and credentials of the HTTP transports, made once per client.
    http: Option<HttpParts>,
    hooks: ClientHooks,
    /// The logging level and subscriptions every new session is told again.
    remembered: Remembered,
    current: Mutex<Option<Arc<Session>>>,
    /// Held while opening a session, so concurrent callers open one between them.
    reconnect: tokio::sync::Mutex<()>,
    sessions_opened: AtomicU64,
    closed: AtomicBool,
}

struct HttpParts {
    client: reqwest::Client,
    credentials: Credentials,
}

/// One `rmcp` session and what we know about its health.
struct Session {
    /// Counts sessions of this client (1 for the first), for the logs.
    generation: u64,
    peer: Peer<RoleClient>,
    /// Taken by [`Session::close`]; dropping it also ends the session (in the background).
    running: tokio::sync::Mutex<Option<RunningService<RoleClient, Handler>>>,
    /// What the transport saw: its input ending, requests the server refused.
    wire: Arc<WireState>,
    /// Set when a request failed at the transport level.
    broken: AtomicBool,
    info: Option<InitializeResult>,
    progress: ProgressRoutes,
    /// The OAuth2 token this session was opened with (fixed for its lifetime).
    oauth_token: Option<String>,
    /// For a streamable HTTP session of a revision before 2026-07-28: sends requests without
    /// going through `rmcp`'s tasks (see [`transport::post`]).
    poster: Option<Poster>,
}

impl Session {
    fn is_dead(&self) -> bool {
        self.wire.ended() || self.broken.load(Ordering::Acquire) || self.peer.is_transport_closed()
    }

    async fn close(&self) {
        let running = self.running.lock().await.take();
        if let Some(mut running) = running {
            let _ = running.close_with_timeout(CLOSE_TIMEOUT).await;
        }
    }
}

/// How one attempt at an operation failed.
enum Failure {
    /// An answer to give the caller as is.
    Final(McpError),
    /// The request did not reach the server: sending it again cannot run anything twice.
    NotDelivered(String),
    /// The connection broke with the request possibly delivered.
    Lost(String),
    /// The server refused the credentials.
    Unauthorized(String),
}

impl From<TransportFailure> for Failure {
    fn from(failure: TransportFailure) -> Self {
        match failure {
            TransportFailure::NotDelivered(m) => Failure::NotDelivered(m),
            TransportFailure::Lost(m) => Failure::Lost(m),
            TransportFailure::Unauthorized(m) => Failure::Unauthorized(m),
        }
    }
}

/// One page of a list: its items and the cursor of the next page.
type Page<T> = (Vec<T>, Option<String>);

/// Whether a request may be sent again after the connection broke under it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reading operations: running them twice is harmless.
    Idempotent,
    /// `tools/call`: only when the request certainly did not reach the server.
    IfNotDelivered,
}

/// Why opening a session failed, and whether trying again may help.
struct ConnectFailure {
    error: McpError,
    transient: bool,
}

impl ConnectFailure {
    fn permanent(error: McpError) -> Self {
        ConnectFailure {
            error,
            transient: false,
        }
    }
}

impl McpClient {
    /// Connects and initializes a session, within [`ClientConfig::connect_timeout`].
    pub async fn connect(config: ClientConfig) -> Result<McpClient, McpError> {
        Self::connect_with(config, ClientHooks::default()).await
    }

    /// [`McpClient::connect`], with the server's notifications going to `handler`.
    pub async fn connect_with_handler(
        config: ClientConfig,
        handler: Arc<dyn NotificationHandler>,
    ) -> Result<McpClient, McpError> {
        let hooks = ClientHooks {
            notifications: Some(handler),
            requests: None,
        };
        Self::connect_with(config, hooks).await
    }

    /// [`McpClient::connect`], with the server's notifications and requests (sampling,
    /// elicitation, roots) going to `hooks`. The client announces the capabilities of
    /// `hooks.requests`, and none without it.
    pub async fn connect_with(
        config: ClientConfig,
        hooks: ClientHooks,
    ) -> Result<McpClient, McpError> {
        let name: Arc<str> = Arc::from(config.name.as_str());
        let http = match &config.transport {
            TransportConfig::StreamableHttp { .. } | TransportConfig::Sse { .. } => {
                let client = crate::tls::http_client(&name, &config.tls)?;
                let credentials =
                    Credentials::new(&name, &config.auth, &config.headers, client.clone())?;
                Some(HttpParts {
                    client,
                    credentials,
                })
            }
            TransportConfig::Local(_) => None,
            TransportConfig::Stdio { .. } => {
                if !matches!(config.auth, Auth::None) || !config.headers.is_empty() {
                    tracing::warn!(
                        server = %name,
                        "credentials and headers are ignored for a stdio MCP server"
                    );
                }
                None
            }
        };
        let inner = Arc::new(Inner {
            name,
            http,
            hooks,
            remembered: Remembered::default(),
            current: Mutex::new(None),
            reconnect: tokio::sync::Mutex::new(()),
            sessions_opened: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            config,
        });
        let connect_timeout = inner.config.connect_timeout;
        let session = match tokio::time::timeout(connect_timeout, inner.open_session()).await {
            Ok(Ok(session)) => session,
            Ok(Err(failure)) => return Err(failure.error),
            Err(_) => return Err(inner.timeout("initialize", connect_timeout)),
        };
        *inner.lock_current() = Some(session);
        Ok(McpClient { inner })
    }

    /// The server's name in the configuration (for logs and errors).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// What the server said about itself when the current session was initialized.
    pub fn server_info(&self) -> Option<InitializeResult> {
        self.inner
            .lock_current()
            .as_ref()
            .and_then(|session| session.info.clone())
    }

    /// Every tool of the server (all pages).
    pub async fn list_tools(&self) -> Result<Vec<Tool>, McpError> {
        self.paginate(
            "tools/list",
            |params| ClientRequest::ListToolsRequest(ListToolsRequest::with_param(params)),
            |result| match result {
                ServerResult::ListToolsResult(r) => Some((r.tools, r.next_cursor)),
                _ => None,
            },
        )
        .await
    }

    /// Every prompt of the server (all pages).
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, McpError> {
        self.paginate(
            "prompts/list",
            |params| ClientRequest::ListPromptsRequest(ListPromptsRequest::with_param(params)),
            |result| match result {
                ServerResult::ListPromptsResult(r) => Some((r.prompts, r.next_cursor)),
                _ => None,
            },
        )
        .await
    }

    /// Every resource of the server (all pages).
    pub async fn list_resources(&self) -> Result<Vec<Resource>, McpError> {
        self.paginate(
            "resources/list",
            |params| ClientRequest::ListResourcesRequest(ListResourcesRequest::with_param(params)),
            |result| match result {
                ServerResult::ListResourcesResult(r) => Some((r.resources, r.next_cursor)),
                _ => None,
            },
        )
        .await
    }

    /// Every resource template of the server (all pages).
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, McpError> {
        self.paginate(
            "resources/templates/list",
            |params| {
                ClientRequest::ListResourceTemplatesRequest(
                    ListResourceTemplatesRequest::with_param(params),
                )
            },
            |result| match result {
                ServerResult::ListResourceTemplatesResult(r) => {
                    Some((r.resource_templates, r.next_cursor))
                }
                _ => None,
            },
        )
        .await
    }

    /// Calls a tool. A result with `is_error: Some(true)` is a tool failure the server
    /// reported (not an `Err`): it is meant for the model.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<CallToolResult, McpError> {
        self.call(name, arguments, None).await
    }

    /// [`McpClient::call_tool`], with the server's progress reports for this call going to
    /// `on_progress` (the request carries a `progressToken`; servers that report progress
    /// send `notifications/progress` with it).
    pub async fn call_tool_with_progress(
        &self,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
        on_progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<CallToolResult, McpError> {
        self.call(name, arguments, Some(Arc::new(on_progress)))
            .await
    }

    async fn call(
        &self,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
        on_progress: Option<ProgressCallback>,
    ) -> Result<CallToolResult, McpError> {
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = arguments;
        let inner = Arc::clone(&self.inner);
        self.execute(
            "tools/call",
            Retry::IfNotDelivered,
            move |session, deadline| {
                let inner = Arc::clone(&inner);
                let request = ClientRequest::CallToolRequest(CallToolRequest::new(params.clone()));
                let on_progress = on_progress.clone();
                async move {
                    match inner
                        .request(&session, request, "tools/call", deadline, on_progress)
                        .await?
                    {
                        ServerResult::CallToolResult(result) => Ok(result),
                        ServerResult::InputRequiredResult(_) => {
                            Err(Failure::Final(inner.rejected(
                                "tools/call",
                                ErrorCode::INTERNAL_ERROR.0,
                                "the server asked for client input inside its result \
                         (2026-07-28 input requests), which this client does not answer",
                            )))
                        }
                        other => Err(Failure::Final(inner.unexpected("tools/call", &other))),
                    }
                }
            },
        )
        .await
    }

    /// Gets a prompt, filled in with `arguments`.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<GetPromptResult, McpError> {
        let mut params = GetPromptRequestParams::new(name);
        params.arguments = arguments;
        let inner = Arc::clone(&self.inner);
        self.execute(
            "prompts/get",
            Retry::Idempotent,
            move |session, deadline| {
                let inner = Arc::clone(&inner);
                let request =
                    ClientRequest::GetPromptRequest(GetPromptRequest::new(params.clone()));
                async move {
                    match inner
                        .request(&session, request, "prompts/get", deadline, None)
                        .await?
                    {
                        ServerResult::GetPromptResult(result) => Ok(result),
                        other => Err(Failure::Final(inner.unexpected("prompts/get", &other))),
                    }
                }
            },
        )
        .await
    }

    /// Reads a resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let params = ReadResourceRequestParams::new(uri);
        let inner = Arc::clone(&self.inner);
        self.execute(
            "resources/read",
            Retry::Idempotent,
            move |session, deadline| {
                let inner = Arc::clone(&inner);
                let request =
                    ClientRequest::ReadResourceRequest(ReadResourceRequest::new(params.clone()));
                async move {
                    match inner
                        .request(&session, request, "resources/read", deadline, None)
                        .await?
                    {
                        ServerResult::ReadResourceResult(result) => Ok(result),
                        other => Err(Failure::Final(inner.unexpected("resources/read", &other))),
                    }
                }
            },
        )
        .await
    }

    /// Checks that the server answers (MCP `ping`).
    pub async fn ping(&self) -> Result<(), McpError> {
        let inner = Arc::clone(&self.inner);
        self.execute("ping", Retry::Idempotent, move |session, deadline| {
            let inner = Arc::clone(&inner);
            async move {
                let request = ClientRequest::PingRequest(PingRequest::default());
                // The answer is an empty object; any success will do.
                inner
                    .request(&session, request, "ping", deadline, None)
                    .await
                    .map(|_| ())
            }
        })
        .await
    }

    /// Asks the server to send log messages (`notifications/message`, delivered to the
    /// notification handler as [`crate::Notification::Log`]) of `level` and above
    /// (`logging/setLevel`). The level is remembered and set again on every new session.
    #[allow(
        deprecated,
        reason = "logging is deprecated by SEP-2577, but servers still implement it"
    )]
    pub async fn set_logging_level(&self, level: LoggingLevel) -> Result<(), McpError> {
        let previous = self.inner.remembered.set_level(level);
        let request =
            ClientRequest::SetLevelRequest(SetLevelRequest::new(SetLevelRequestParams::new(level)));
        let answer = self.ask("logging/setLevel", request, |_| Ok(())).await;
        if answer.is_err() {
            self.inner.remembered.undo_level(level, previous);
        }
        answer
    }

    /// Subscribes to changes of the resource `uri` (`resources/subscribe`): the server sends
    /// `notifications/resources/updated`, delivered to the notification handler as
    /// [`crate::Notification::ResourceUpdated`]. The subscription is remembered and made
    /// again on every new session, until [`McpClient::unsubscribe`].
    #[allow(
        deprecated,
        reason = "resources/subscribe is legacy-only in rmcp (2026-07-28 uses subscriptions/listen), but servers of the 2025 revisions implement it"
    )]
    pub async fn subscribe(&self, uri: &str) -> Result<(), McpError> {
        let new = self.inner.remembered.subscribe(uri);
        let request = ClientRequest::SubscribeRequest(SubscribeRequest::new(
            SubscribeRequestParams::new(uri),
        ));
        let answer = self.ask("resources/subscribe", request, |_| Ok(())).await;
        if answer.is_err() && new {
            self.inner.remembered.unsubscribe(uri);
        }
        answer
    }

    /// Ends a subscription (`resources/unsubscribe`). It is forgotten even if the request
    /// fails, so a new session does not subscribe again.
    #[allow(
        deprecated,
        reason = "resources/unsubscribe is legacy-only in rmcp (2026-07-28 uses subscriptions/listen), but servers of the 2025 revisions implement it"
    )]
    pub async fn unsubscribe(&self, uri: &str) -> Result<(), McpError> {
        self.inner.remembered.unsubscribe(uri);
        let request = ClientRequest::UnsubscribeRequest(UnsubscribeRequest::new(
            UnsubscribeRequestParams::new(uri),
        ));
        self.ask("resources/unsubscribe", request, |_| Ok(())).await
    }

    /// Suggestions for the value of a prompt's or resource template's argument
    /// (`completion/complete`).
    pub async fn complete(
        &self,
        params: CompleteRequestParams,
    ) -> Result<CompleteResult, McpError> {
        let request = ClientRequest::CompleteRequest(CompleteRequest::new(params));
        self.ask("completion/complete", request, |result| match result {
            ServerResult::CompleteResult(result) => Ok(result),
            other => Err(Box::new(other)),
        })
        .await
    }

    /// An idempotent operation of one request: sends `request` (again on a new session if
    /// the connection broke under it) and reads the answer with `take`, which gives back the
    /// answers of the wrong kind.
    async fn ask<T: Send + 'static>(
        &self,
        operation: &'static str,
        request: ClientRequest,
        take: fn(ServerResult) -> Result<T, Box<ServerResult>>,
    ) -> Result<T, McpError> {
        let inner = Arc::clone(&self.inner);
        self.execute(operation, Retry::Idempotent, move |session, deadline| {
            let inner = Arc::clone(&inner);
            let request = request.clone();
            async move {
                let answer = inner
                    .request(&session, request, operation, deadline, None)
                    .await?;
                take(answer).map_err(|other| Failure::Final(inner.unexpected(operation, &other)))
            }
        })
        .await
    }

    /// Ends the session and waits for it to be over (`DELETE` for streamable HTTP, the
    /// shutdown sequence for a stdio child). Operations on this client (and its clones) fail
    /// afterwards.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let session = self.inner.lock_current().take();
        if let Some(session) = session {
            session.close().await;
        }
    }

    /// A list operation, following `nextCursor` to the end. A retry starts again from the
    /// first page, as cursors need not survive a new session.
    async fn paginate<T: Send + 'static>(
        &self,
        operation: &'static str,
        make: fn(PaginatedRequestParams) -> ClientRequest,
        take: fn(ServerResult) -> Option<Page<T>>,
    ) -> Result<Vec<T>, McpError> {
        let inner = Arc::clone(&self.inner);
        self.execute(operation, Retry::Idempotent, move |session, deadline| {
            let inner = Arc::clone(&inner);
            async move {
                let mut items = Vec::new();
                let mut cursor: Option<String> = None;
                let mut seen = HashSet::new();
                loop {
                    let params = PaginatedRequestParams::default().with_cursor(cursor.take());
                    let result = inner
                        .request(&session, make(params), operation, deadline, None)
                        .await?;
                    let (page, next) = match take(result) {
                        Some(page) => page,
                        None => {
                            return Err(Failure::Final(inner.rejected(
                                operation,
                                ErrorCode::INTERNAL_ERROR.0,
                                "the answer is not a list",
                            )));
                        }
                    };
                    items.extend(page);
                    match next {
                        Some(next) if !next.is_empty() => {
                            // A server that hands out a cursor twice would page forever.
                            if !seen.insert(next.clone()) {
                                return Err(Failure::Final(inner.rejected(
                                    operation,
                                    ErrorCode::INTERNAL_ERROR.0,
                                    "the server repeated a pagination cursor",
                                )));
                            }
                            cursor = Some(next);
                        }
                        _ => return Ok(items),
                    }
                }
            }
        })
        .await
    }

    /// Runs `attempt` on a live session within the call timeout, reconnecting and retrying
    /// once when the connection failed under it and `retry` allows.
    async fn execute<T, F, Fut>(
        &self,
        operation: &'static str,
        retry: Retry,
        attempt: F,
    ) -> Result<T, McpError>
    where
        F: Fn(Arc<Session>, Instant) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let inner = &self.inner;
        let timeout = inner.config.call_timeout;
        let deadline = Instant::now() + timeout;
        let work = async {
            let mut retried = false;
            loop {
                let session = inner.session(operation, deadline).await?;
                let failure = match attempt(Arc::clone(&session), deadline).await {
                    Ok(value) => return Ok(value),
                    Err(failure) => failure,
                };
                match failure {
                    Failure::Final(error) => return Err(error),
                    Failure::Unauthorized(message) => {
                        // An OAuth2 token can be revoked or expire early: get a new one and
                        // try once more (the request was refused, so it did not run).
                        if !retried && inner.uses_oauth() {
                            inner.forget_token(&session).await;
                            retried = true;
                            continue;
                        }
                        return Err(inner.unauthorized(&message));
                    }
                    Failure::NotDelivered(message) => {
                        inner.mark_broken(&session, &message);
                        if retried {
                            return Err(inner.disconnected(operation, message));
                        }
                    }
                    Failure::Lost(message) => {
                        inner.mark_broken(&session, &message);
                        if retried || retry != Retry::Idempotent {
                            let message = if retry == Retry::IfNotDelivered {
                                format!(
                                    "{message}; not retried, as the server may have run the call"
                                )
                            } else {
                                message
                            };
                            return Err(inner.disconnected(operation, message));
                        }
                    }
                }
                retried = true;
            }
        };
        match tokio::time::timeout_at(deadline + TIMEOUT_GRACE, work).await {
            Ok(result) => result,
            Err(_) => Err(inner.timeout(operation, timeout)),
        }
    }
}

impl Inner {
    fn lock_current(&self) -> std::sync::MutexGuard<'_, Option<Arc<Session>>> {
        // Only ever replaced whole; a panic elsewhere cannot leave it half-written.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn uses_oauth(&self) -> bool {
        matches!(self.config.auth, Auth::OAuth2(_))
            && matches!(
                self.config.transport,
                TransportConfig::StreamableHttp { .. }
            )
    }

    /// A live session: the current one, or a new one when it is dead or its OAuth2 token is
    /// no longer the one to use.
    async fn session(
        &self,
        operation: &'static str,
        deadline: Instant,
    ) -> Result<Arc<Session>, McpError> {
        if let Some(session) = self.usable_current(operation).await? {
            return Ok(session);
        }
        let _reconnecting = self.reconnect.lock().await;
        // Another caller may have reconnected while we waited for the lock.
        if let Some(session) = self.usable_current(operation).await? {
            return Ok(session);
        }
        let old = self.lock_current().take();
        if let Some(old) = old {
            if old.is_dead() {
                tracing::warn!(
                    server = %self.name,
                    session = old.generation,
                    "MCP session lost; reconnecting"
                );
                // End what is left of it (a stream, a process) without making callers wait.
                tokio::spawn(async move { old.close().await });
            } else {
                // Replaced only for a new token: calls in flight finish on it, and it ends
                // when the last of them lets go of it.
                tracing::debug!(server = %self.name, "new OAuth2 token; opening a new MCP session");
            }
        }
        let session = self.connect_with_backoff(operation, deadline).await?;
        self.restore(&session, deadline).await;
        let mut current = self.lock_current();
        if self.closed.load(Ordering::Acquire) {
            drop(current);
            session.close().await;
            return Err(self.closed_error(operation));
        }
        *current = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Tells a new session what the old ones were told: the logging level, the
    /// subscriptions. A failure is logged and not the caller's: the operation that needed the
    /// session goes on (a broken session is noticed by its own request).
    #[allow(
        deprecated,
        reason = "logging and resources/subscribe are deprecated (SEP-2577, and listen in 2026-07-28), but servers of the 2025 revisions implement them"
    )]
    async fn restore(&self, session: &Session, deadline: Instant) {
        let remembered = self.remembered.snapshot();
        let level = remembered.level.map(|level| {
            let params = SetLevelRequestParams::new(level);
            let request = ClientRequest::SetLevelRequest(SetLevelRequest::new(params));
            ("logging/setLevel", request)
        });
        let subscriptions = remembered.subscriptions.into_iter().map(|uri| {
            let params = SubscribeRequestParams::new(uri);
            let request = ClientRequest::SubscribeRequest(SubscribeRequest::new(params));
            ("resources/subscribe", request)
        });
        for (operation, request) in level.into_iter().chain(subscriptions) {
            let why = match self
                .request(session, request, operation, deadline, None)
                .await
            {
                Ok(_) => continue,
                Err(Failure::Final(error)) => error.to_string(),
                Err(Failure::Unauthorized(message)) => message,
                Err(Failure::NotDelivered(message) | Failure::Lost(message)) => {
                    self.mark_broken(session, &message);
                    message
                }
            };
            tracing::warn!(
                server = %self.name,
                session = session.generation,
                operation,
                error = %why,
                "could not restore a setting on the new MCP session"
            );
        }
    }

    /// The current session if it can take a request.
    async fn usable_current(
        &self,
        operation: &'static str,
    ) -> Result<Option<Arc<Session>>, McpError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(self.closed_error(operation));
        }
        let Some(session) = self.lock_current().clone() else {
            return Ok(None);
        };
        if session.is_dead() {
            return Ok(None);
        }
        if self.uses_oauth()
            && let Some(http) = &self.http
        {
            // Cached most of the time; a new token means a new session (see transport/http).
            let token = http.credentials.oauth_token().await?;
            if token != session.oauth_token {
                return Ok(None);
            }
        }
        Ok(Some(session))
    }

    async fn connect_with_backoff(
        &self,
        operation: &'static str,
        deadline: Instant,
    ) -> Result<Arc<Session>, McpError> {
        let mut waits = RECONNECT_BACKOFF.iter();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let limit = left.min(self.config.connect_timeout);
            let error = match tokio::time::timeout(limit, self.open_session()).await {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err(failure)) if !failure.transient => return Err(failure.error),
                Ok(Err(failure)) => failure.error,
                Err(_) if limit < self.config.connect_timeout => {
                    return Err(self.timeout(operation, self.config.call_timeout));
                }
                Err(_) => self.timeout("initialize", self.config.connect_timeout),
            };
            tracing::warn!(server = %self.name, %error, "reconnecting to the MCP server failed");
            match waits.next() {
                Some(wait) if Instant::now() + *wait < deadline => tokio::time::sleep(*wait).await,
                _ => return Err(error),
            }
        }
    }

    /// Opens the transport and runs the MCP start-up on it with `lifecycle`.
    async fn serve_wire(
        &self,
        handler: Handler,
        state: &Arc<WireState>,
        lifecycle: ClientLifecycleMode,
        oauth_token: &mut Option<String>,
        poster: &mut Option<Poster>,
    ) -> Result<Result<RunningService<RoleClient, Handler>, ClientInitializeError>, ConnectFailure>
    {
        let served = match &self.config.transport {
            TransportConfig::StreamableHttp { url } => {
                let http = self.http_parts()?;
                if self.uses_oauth() {
                    *oauth_token = http
                        .credentials
                        .oauth_token()
                        .await
                        .map_err(ConnectFailure::permanent)?;
                }
                let tls = &self.config.tls;
                let default_tls = tls.ca_bundle.is_none() && !tls.insecure_skip_verify;
                let parts = post::parts(Arc::clone(&self.name), http.client.clone(), default_tls);
                let wire = transport::http::transport(
                    &self.name,
                    url,
                    parts.client,
                    &http.credentials,
                    oauth_token.clone(),
                )
                .map_err(ConnectFailure::permanent)?;
                *poster = Some(parts.poster);
                handler
                    .serve_with_lifecycle(
                        Watched::new(wire, Arc::clone(&self.name), Arc::clone(state))
                            .with_inbox(parts.inbox),
                        lifecycle.clone(),
                    )
                    .await
            }
            TransportConfig::Sse { url } => {
                let http = self.http_parts()?;
                let wire = transport::sse::connect(
                    &self.name,
                    url,
                    http.client.clone(),
                    http.credentials.clone(),
                )
                .await
                .map_err(|error| {
                    let transient = matches!(error, McpError::Connect { .. });
                    ConnectFailure { error, transient }
                })?;
                handler
                    .serve(Watched::new(
                        wire,
                        Arc::clone(&self.name),
                        Arc::clone(state),
                    ))
                    .await
            }
            TransportConfig::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let wire = transport::stdio::spawn(&self.name, command, args, env, cwd.as_deref())
                    .map_err(ConnectFailure::permanent)?;
                handler
                    .serve_with_lifecycle(
                        Watched::new(wire, Arc::clone(&self.name), Arc::clone(state)),
                        lifecycle.clone(),
                    )
                    .await
            }
            TransportConfig::Local(server) => {
                let wire = transport::local::open(server.as_ref(), &self.config)
                    .map_err(ConnectFailure::permanent)?;
                handler
                    .serve_with_lifecycle(
                        Watched::new(wire, Arc::clone(&self.name), Arc::clone(state)),
                        lifecycle.clone(),
                    )
                    .await
            }
        };
        Ok(served)
    }

    /// Connects, initializes, and returns the new session.
    async fn open_session(&self) -> Result<Arc<Session>, ConnectFailure> {
        let generation = self.sessions_opened.fetch_add(1, Ordering::Relaxed) + 1;
        let state = Arc::new(WireState::default());
        let progress = state.progress.clone();
        let mut oauth_token = None;
        let mut poster = None;
        let new_handler = || Handler::new(Arc::clone(&self.name), self.hooks.clone());
        // The stateless 2026-07-28 revision has no server-initiated requests on a session, so a
        // client that answers them (sampling, elicitation, roots) speaks the stateful one.
        let lifecycle = if self
            .hooks
            .requests
            .as_ref()
            .is_some_and(|handler| handler.needs_stateful_session())
        {
            ClientLifecycleMode::Initialize
        } else {
            crate::handler::lifecycle()
        };
        let mut served = self
            .serve_wire(
                new_handler(),
                &state,
                lifecycle,
                &mut oauth_token,
                &mut poster,
            )
            .await?;
        // The specification's era detection: anything but a modern answer to `server/discover`
        // means a pre-2026 server. rmcp falls back by itself on errors and silence, but not when
        // a server answers the probe with some other result (as simple servers that answer
        // every unknown method with `{}` do), so that case falls back here.
        if matches!(
            served,
            Err(ClientInitializeError::ExpectedInitResult(_)
                | ClientInitializeError::ExpectedInitResponse(_))
        ) {
            tracing::info!(server = %self.name, "unexpected answer to server/discover: using the initialize handshake");
            served = self
                .serve_wire(
                    new_handler(),
                    &state,
                    ClientLifecycleMode::Initialize,
                    &mut oauth_token,
                    &mut poster,
                )
                .await?;
        }
        let running = served.map_err(|e| self.initialize_failure(e))?;
        let peer = running.peer().clone();
        let info = peer.peer_info().map(|info| initialize_result(&info));
        // 2026-07-28 POSTs carry per-request headers that only rmcp knows how to make.
        let poster = poster.filter(|_| {
            info.as_ref()
                .is_some_and(|i| i.protocol_version < ProtocolVersion::V_2026_07_28)
        });
        tracing::info!(
            server = %self.name,
            session = generation,
            target = %self.config.transport.target(),
            protocol = info.as_ref().map(|i| i.protocol_version.to_string()).unwrap_or_default(),
            server_name = info.as_ref().map(|i| i.server_info.name.as_str()).unwrap_or_default(),
            "MCP session initialized"
        );
        Ok(Arc::new(Session {
            generation,
            peer,
            running: tokio::sync::Mutex::new(Some(running)),
            wire: state,
            broken: AtomicBool::new(false),
            info,
            progress,
            oauth_token,
            poster,
        }))
    }

    fn http_parts(&self) -> Result<&HttpParts, ConnectFailure> {
        self.http.as_ref().ok_or_else(|| {
            ConnectFailure::permanent(McpError::Config {
                server: self.name.to_string(),
                message: "no HTTP client for an HTTP transport".into(),
            })
        })
    }

    /// For a stdio server, where a broken pipe or a closed stream during the handshake most
    /// likely comes from: the process exited (whichever of the two the race shows first).
    fn stdio_exit_hint(&self) -> &'static str {
        match self.config.transport {
            TransportConfig::Stdio { .. } => {
                "; the server process exited or closed its output (its stderr is in the logs, \
                 target junction_mcp::stderr)"
            }
            _ => "",
        }
    }

    fn initialize_failure(&self, error: ClientInitializeError) -> ConnectFailure {
        let connect = |message: String| McpError::Connect {
            server: self.name.to_string(),
            message,
        };
        match error {
            ClientInitializeError::TransportError { error, context } => {
                match transport::classify(&error) {
                    TransportFailure::Unauthorized(message) => {
                        ConnectFailure::permanent(self.unauthorized(&message))
                    }
                    TransportFailure::NotDelivered(message) | TransportFailure::Lost(message) => {
                        ConnectFailure {
                            error: connect(format!(
                                "{message} (while trying to {context}){}",
                                self.stdio_exit_hint()
                            )),
                            transient: true,
                        }
                    }
                }
            }
            ClientInitializeError::JsonRpcError(data) => {
                ConnectFailure::permanent(connect(format!(
                    "the server refused initialize: {} (code {})",
                    data.message, data.code.0
                )))
            }
            ClientInitializeError::ConnectionClosed(context) => ConnectFailure {
                error: connect(format!(
                    "the connection closed before the {context}{}",
                    self.stdio_exit_hint()
                )),
                transient: true,
            },
            other => ConnectFailure {
                error: connect(transport::chain(&other)),
                transient: true,
            },
        }
    }

    /// Sends one request on `session` and waits for its answer, bounded by `deadline`.
    async fn request(
        &self,
        session: &Session,
        request: ClientRequest,
        operation: &'static str,
        deadline: Instant,
        on_progress: Option<ProgressCallback>,
    ) -> Result<ServerResult, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Final(
                self.timeout(operation, self.config.call_timeout),
            ));
        }
        if on_progress.is_none()
            && let Some(poster) = session.poster.as_ref().filter(|p| p.ready())
        {
            return self
                .post_request(session, poster, request, operation, deadline)
                .await;
        }
        // rmcp sends `notifications/cancelled` itself when this timeout fires.
        let options = PeerRequestOptions::with_timeout(left);
        let handle = match session
            .peer
            .send_request_with_option(request, options)
            .await
        {
            Ok(handle) => handle,
            // The session's loop is gone: the request was never handed to the transport.
            Err(error) => return Err(self.service_failure(session, error, operation, None)),
        };
        let _route = on_progress.map(|callback| {
            session
                .progress
                .register(handle.progress_token.clone(), callback)
        });
        let handle_id = handle.id.clone();
        let guard = CancelOnDrop {
            peer: Some(session.peer.clone()),
            id: handle.id.clone(),
        };
        let answer = handle.await_response().await;
        guard.disarm();
        answer.map_err(|error| self.service_failure(session, error, operation, Some(&handle_id)))
    }

    /// [`Inner::request`] through the session's [`Poster`]: the same outcomes, without
    /// `rmcp`'s tasks in the way.
    async fn post_request(
        &self,
        session: &Session,
        poster: &Poster,
        request: ClientRequest,
        operation: &'static str,
        deadline: Instant,
    ) -> Result<ServerResult, Failure> {
        let id = poster.next_id();
        let guard = CancelOnDrop {
            peer: Some(session.peer.clone()),
            id: id.clone(),
        };
        let answer = match tokio::time::timeout_at(deadline, poster.send(id, request)).await {
            Ok(answer) => answer,
            // Dropping the guard armed tells the server to stop.
            Err(_) => {
                return Err(Failure::Final(
                    self.timeout(operation, self.config.call_timeout),
                ));
            }
        };
        guard.disarm();
        match answer {
            Ok(post::Answer::Result(result)) => Ok(result),
            Ok(post::Answer::Error(data)) if self.is_unknown_session(&data) => {
                Err(Failure::NotDelivered(format!(
                    "the server no longer knows this session ({})",
                    data.message
                )))
            }
            Ok(post::Answer::Error(data)) => Err(Failure::Final(self.rejected(
                operation,
                data.code.0,
                &data.message,
            ))),
            Err(failure) => Err(failure.into()),
        }
    }

    /// What a failed request means; `id` is `None` when it was not even handed to the
    /// session (its loop was gone).
    fn service_failure(
        &self,
        session: &Session,
        error: ServiceError,
        operation: &'static str,
        id: Option<&RequestId>,
    ) -> Failure {
        match error {
            ServiceError::McpError(data) => {
                // With an id, such an error is for this request alone (from a server that
                // could read the id); without one, the transport wrapper handled it.
                if self.is_unknown_session(&data) {
                    // The server refused the request before running it.
                    return Failure::NotDelivered(format!(
                        "the server no longer knows this session ({})",
                        data.message
                    ));
                }
                Failure::Final(self.rejected(operation, data.code.0, &data.message))
            }
            ServiceError::Timeout { .. } => {
                Failure::Final(self.timeout(operation, self.config.call_timeout))
            }
            ServiceError::TransportClosed => match id {
                None => Failure::NotDelivered("the session had already ended".to_owned()),
                Some(id) if session.wire.refused(id) => {
                    Failure::NotDelivered("the server no longer knows this session".to_owned())
                }
                Some(_) => {
                    Failure::Lost("the connection closed before the answer arrived".to_owned())
                }
            },
            ServiceError::TransportSend(error) => transport::classify(&error).into(),
            ServiceError::Cancelled { reason } => Failure::Final(self.disconnected(
                operation,
                format!(
                    "the request was cancelled ({})",
                    reason.as_deref().unwrap_or("no reason given")
                ),
            )),
            ServiceError::UnexpectedResponse => Failure::Final(self.rejected(
                operation,
                ErrorCode::INTERNAL_ERROR.0,
                "the answer does not match the request",
            )),
            other => Failure::Lost(transport::chain(&other)),
        }
    }

    /// A JSON-RPC error saying the server does not know our session (see
    /// [`transport::is_unknown_session`]); only an HTTP server has sessions to forget.
    fn is_unknown_session(&self, data: &ErrorData) -> bool {
        matches!(
            self.config.transport,
            TransportConfig::StreamableHttp { .. }
        ) && transport::is_unknown_session(data)
    }

    fn mark_broken(&self, session: &Session, why: &str) {
        if !session.broken.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                server = %self.name,
                session = session.generation,
                reason = why,
                "MCP session broken; the next operation reconnects"
            );
        }
    }

    /// After a 401: forget the token, so the next session gets a fresh one.
    async fn forget_token(&self, session: &Session) {
        if let Some(http) = &self.http {
            http.credentials.invalidate_token().await;
        }
        session.broken.store(true, Ordering::Release);
    }

    fn unauthorized(&self, detail: &str) -> McpError {
        let advice = match &self.config.auth {
            Auth::None if !self.config.headers.contains_key("authorization") => {
                "the server requires credentials and none are configured (auth_type/auth_value)"
            }
            Auth::OAuth2(_) => "the server refused the OAuth2 token",
            _ => "check the configured credentials (auth_type/auth_value)",
        };
        McpError::Unauthorized {
            server: self.name.to_string(),
            message: format!("{detail}: {advice}"),
        }
    }

    fn rejected(&self, operation: &str, code: i32, message: &str) -> McpError {
        McpError::Rejected {
            server: self.name.to_string(),
            operation: operation.to_owned(),
            code,
            message: message.to_owned(),
        }
    }

    fn unexpected(&self, operation: &str, answer: &ServerResult) -> McpError {
        let kind = serde_json::to_value(answer)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            })
            .unwrap_or_default();
        self.rejected(
            operation,
            ErrorCode::INTERNAL_ERROR.0,
            &format!("unexpected answer (fields: {kind})"),
        )
    }

    fn timeout(&self, operation: &str, timeout: Duration) -> McpError {
        McpError::Timeout {
            server: self.name.to_string(),
            operation: operation.to_owned(),
            timeout,
        }
    }

    fn disconnected(&self, operation: &str, message: String) -> McpError {
        McpError::Disconnected {
            server: self.name.to_string(),
            operation: operation.to_owned(),
            message,
        }
    }

    fn closed_error(&self, operation: &str) -> McpError {
        self.disconnected(operation, "the client was closed".to_owned())
    }
}

/// Tells the server to stop a request whose caller stopped waiting (dropped the future).
///
/// `rmcp` cancels on its own timeout; this covers the other way a request is abandoned.
struct CancelOnDrop {
    peer: Option<Peer<RoleClient>>,
    id: RequestId,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.peer = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(peer) = self.peer.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let id = self.id.clone();
        runtime.spawn(async move {
            let notice = CancelledNotificationParam::new(
                Some(id),
                Some("the client stopped waiting for the answer".to_owned()),
            );
            let _ = tokio::time::timeout(CANCEL_SEND_TIMEOUT, peer.notify_cancelled(notice)).await;
        });
    }
}

/// The `initialize` answer as `rmcp` keeps it, in the shape of the spec.
fn initialize_result(info: &ServerPeerInfo) -> InitializeResult {
    let mut result = InitializeResult::new(info.capabilities.clone())
        .with_protocol_version(info.protocol_version.clone());
    // A 2026-07-28 server may not name itself; say so rather than pretend to be rmcp.
    result.server_info = info
        .server_info
        .clone()
        .unwrap_or_else(|| Implementation::new("", ""));
    result.instructions = info.instructions.clone();
    result.meta = info.meta.clone();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}

    // The gateway holds clients in shared state and calls them from spawned tasks.
    #[allow(dead_code, reason = "only compiled, for its Send checks")]
    async fn futures_are_send(client: McpClient) {
        assert_send_sync::<McpClient>();
        assert_send(&client.list_tools());
        assert_send(&client.list_prompts());
        assert_send(&client.list_resources());
        assert_send(&client.list_resource_templates());
        assert_send(&client.call_tool("t", None));
        assert_send(&client.call_tool_with_progress("t", None, |_| {}));
        assert_send(&client.get_prompt("p", None));
        assert_send(&client.read_resource("u"));
        assert_send(&client.ping());
        #[allow(deprecated, reason = "only compiled")]
        assert_send(&client.set_logging_level(rmcp::model::LoggingLevel::Info));
        assert_send(&client.subscribe("u"));
        assert_send(&client.unsubscribe("u"));
        assert_send(&client.complete(CompleteRequestParams::new(
            rmcp::model::Reference::for_prompt("p"),
            rmcp::model::ArgumentInfo::new("a", ""),
        )));
        assert_send(&McpClient::connect_with(
            ClientConfig::new("s", TransportConfig::StreamableHttp { url: String::new() }),
            ClientHooks::default(),
        ));
        assert_send(&client.close());
        assert_send(&McpClient::connect(ClientConfig::new(
            "s",
            TransportConfig::StreamableHttp { url: String::new() },
        )));
    }

    #[test]
    fn initialize_results_keep_what_the_server_said() {
        let info = ServerPeerInfo::new(
            rmcp::model::ProtocolVersion::V_2025_06_18,
            rmcp::model::ServerCapabilities::default(),
        )
        .with_server_info(Implementation::new("srv", "2"))
        .with_instructions("be nice");
        let result = initialize_result(&info);
        assert_eq!(
            result.protocol_version,
            rmcp::model::ProtocolVersion::V_2025_06_18
        );
        assert_eq!(result.server_info.name, "srv");
        assert_eq!(result.instructions.as_deref(), Some("be nice"));
    }
}
