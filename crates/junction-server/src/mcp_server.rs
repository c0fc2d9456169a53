//! The gateway as an MCP server: the hub's catalog (tools, prompts, resources and resource
//! templates) served to MCP clients on `/mcp`.
//!
//! Why a handler of our own rather than a proxy of upstream sessions: the registry already
//! holds one session per upstream and an immutable catalog with LiteLLM's names and filters,
//! so a client session here is cheap (no upstream connection per client) and `tools/list`
//! never touches an upstream. rmcp's streamable HTTP service runs the protocol (sessions,
//! SSE, version negotiation) and creates one [`CatalogServer`] per client session; the HTTP
//! side (`routes/mcp.rs`) authenticates and puts the request's [`Scope`] into the request,
//! which rmcp hands to every call through the request context.
//!
//! Error policy, here and nowhere else (`call_error`): a name the client cannot call
//! (unknown, ambiguous, outside its scope) and a refusal by `allowed_tools`/`allowed_params`
//! are JSON-RPC errors, with LiteLLM's sentence for refusals; a server that is down or fails
//! the call is a tool result with `isError: true`, as LiteLLM answers, so the model reading
//! the result learns what happened. Upstream results pass through unchanged.
//!
//! Prompts and resources have no `isError` result, so there (`request_error`) every failure is
//! a JSON-RPC error: an unknown prompt is -32602 and an unknown resource -32002 (MCP's
//! "resource not found"), a server that is down or fails is -32603 with the server's name in
//! the message, and an upstream's own JSON-RPC error keeps its code.
//!
//! A tool call relays what belongs to it between the client and the upstream (`relay_call`):
//! progress, under the client's own progress token, and the client's cancellation, which
//! reaches the upstream as `notifications/cancelled`. Upstream log messages are not relayed:
//! they belong to the upstream session, which every client shares, not to a call.
//!
//! Most `tools/call`s do not come through rmcp's session at all: `direct.rs` answers them from
//! the route with `application/json`, by the same [`answer_call`].

pub(crate) mod direct;

use std::pin::pin;
use std::sync::{Arc, OnceLock};

use junction_hub::naming::NameError;
use junction_hub::registry::Progress;
use junction_hub::{Arguments, Caller, Catalog, Downstream, HubError, Registry};

use crate::mcp_downstream::DownstreamSession;
use crate::mcp_drain::McpDrain;
#[allow(
    deprecated,
    reason = "logging and subscriptions are deprecated by SEP-2577 but used"
)]
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, ErrorCode, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, Prompt,
    ReadResourceRequestParams, ReadResourceResponse, Resource, ResourceTemplate, ResultType,
    ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams, Tool,
    UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use self::direct::DirectSession;

/// Which servers and tools a request may see: set by the route (`/mcp` → all, `/mcp/a,b`
/// and `/a/mcp` → those, then narrowed by the caller's permissions), read by the handler
/// from the request's HTTP parts.
pub use junction_hub::Scope;

/// One client session's view of the registry.
pub struct CatalogServer {
    registry: Arc<Registry>,
    /// Dropped with the session (rmcp drops the handler when the session ends); its
    /// receivers then see the channel close, which stops the `list_changed` forwarder.
    session_open: watch::Sender<()>,
    /// The session as upstreams talk back to it; dropping it closes the upstream sessions
    /// opened for it.
    downstream: Arc<DownstreamSession>,
    /// Counts the calls in progress, so that shutdown ends streams only after them.
    drain: Arc<McpDrain>,
    /// This session's entry for the direct path, once it is known (its id comes with its
    /// requests); removed again when the session ends.
    direct: OnceLock<Arc<DirectSession>>,
    /// Whether the session is one of rmcp's streamable HTTP sessions, whose `mcp-session-id`
    /// the direct path knows it by. A legacy HTTP+SSE session has its id in the query.
    streamable: bool,
}

impl CatalogServer {
    pub fn new(registry: Arc<Registry>, drain: Arc<McpDrain>) -> CatalogServer {
        CatalogServer {
            drain,
            downstream: Arc::new(DownstreamSession::new(Arc::clone(&registry))),
            registry,
            session_open: watch::Sender::new(()),
            direct: OnceLock::new(),
            streamable: true,
        }
    }

    /// A handler for a legacy HTTP+SSE session (`mcp_sse.rs`): its calls are answered on its
    /// event stream, never by the direct path, whatever headers its POSTs carry.
    pub fn legacy(registry: Arc<Registry>, drain: Arc<McpDrain>) -> CatalogServer {
        let mut handler = CatalogServer::new(registry, drain);
        handler.streamable = false;
        handler
    }

    /// Who a request is for: its headers (from the route) and this session.
    fn caller(&self, context: &RequestContext<RoleServer>) -> Caller {
        self.downstream.attach(&context.peer);
        caller_for(&caller_of(&context.extensions), &self.downstream)
    }

    /// Lets the route answer this session's plain `tools/call`s itself (`direct.rs`), from the
    /// first message that names the session (the client's `notifications/initialized`, else
    /// its first call). `initialize` itself carries no session id yet.
    fn offer_direct_path(&self, extensions: &rmcp::model::Extensions, peer: &Peer<RoleServer>) {
        if !self.streamable || self.direct.get().is_some() {
            return;
        }
        let Some(session_id) = extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.headers.get(direct::SESSION_ID_HEADER))
            .and_then(|value| value.to_str().ok())
        else {
            return;
        };
        self.downstream.attach(peer);
        let protocol = peer.peer_info().map(|info| info.protocol_version.clone());
        let Some(entry) = self.drain.direct_sessions().register(
            session_id,
            Arc::clone(&self.downstream),
            protocol,
        ) else {
            tracing::warn!(
                "an MCP session id is registered for another session; not answering its calls directly"
            );
            return;
        };
        // Concurrent first calls register the same entry (`register` keeps the first).
        let _ = self.direct.set(entry);
    }
}

impl Drop for CatalogServer {
    /// rmcp drops the handler when its session ends: the direct path forgets the session, and
    /// its direct calls still running are cancelled, as rmcp cancels the session's requests.
    fn drop(&mut self) {
        if let Some(entry) = self.direct.get() {
            self.drain.direct_sessions().end(entry);
        }
    }
}

/// A request's [`Caller`]: the route's (its headers) with the client session it came from.
fn caller_for(base: &Caller, downstream: &Arc<DownstreamSession>) -> Caller {
    let mut caller = base.clone();
    caller.downstream = Some(Arc::clone(downstream) as Arc<dyn Downstream>);
    caller
}

/// The scope the route put into this request. Every route sets one; a request without it
/// would be a wiring bug, refused rather than served with everything.
fn scope_of(extensions: &rmcp::model::Extensions) -> Result<Scope, ErrorData> {
    extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Scope>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("the request carries no server scope", None))
}

/// Who the request is for, as the route put it into the request (nobody in particular when
/// absent: the servers' shared sessions serve it).
/// Who pays for the request's tool calls (absent on paths that do not meter).
fn meter_of(extensions: &rmcp::model::Extensions) -> Option<crate::meter::Meter> {
    extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::meter::Meter>())
        .cloned()
}

fn caller_of(extensions: &rmcp::model::Extensions) -> Arc<Caller> {
    extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Caller>>())
        .cloned()
        .unwrap_or_default()
}

fn scoped_tools(catalog: &Catalog, scope: &Scope) -> Vec<Tool> {
    catalog
        .tools_in(scope)
        .into_iter()
        .map(|(_, tool)| tool)
        .collect()
}

/// What a session's client lists, to tell which `list_changed` notifications it needs.
#[derive(PartialEq)]
struct Listed {
    tools: Vec<Tool>,
    prompts: Vec<Prompt>,
    resources: (Vec<Resource>, Vec<ResourceTemplate>),
}

impl Listed {
    fn of(catalog: &Catalog, scope: &Scope) -> Listed {
        let servers = scope.servers();
        Listed {
            tools: scoped_tools(catalog, scope),
            prompts: catalog.prompts(servers),
            resources: (
                catalog.resources(servers),
                catalog.resource_templates(servers),
            ),
        }
    }
}

#[allow(
    deprecated,
    reason = "logging and resources/subscribe are deprecated by SEP-2577, but clients of the earlier revisions use them"
)]
impl ServerHandler for CatalogServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_completions()
                .enable_logging()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_resources_subscribe()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new("junction", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let scope = scope_of(&context.extensions)?;
        let caller = caller_of(&context.extensions);
        let tools = scoped_tools(&*self.registry.catalog_for(&caller).await, &scope);
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _busy = self.drain.busy();
        let scope = scope_of(&context.extensions)?;
        self.offer_direct_path(&context.extensions, &context.peer);
        let caller = self.caller(&context);
        let progress = context
            .meta
            .get_progress_token()
            .map(|token| (token, &context.peer));
        let meter = meter_of(&context.extensions);
        match answer_call(
            &self.registry,
            &caller,
            &scope,
            meter.as_ref(),
            request,
            &context.ct,
            progress,
        )
        .await
        {
            Some(answer) => answer.map(Into::into),
            // rmcp drops the answer to a cancelled request; this one is never sent.
            None => Err(ErrorData::internal_error(
                "the client cancelled the request",
                None,
            )),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let scope = scope_of(&context.extensions)?;
        let prompts = self.registry.catalog().prompts(scope.servers());
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let _busy = self.drain.busy();
        let scope = scope_of(&context.extensions)?;
        let name = request.name.as_str();
        match self
            .registry
            .get_prompt_in(
                &self.caller(&context),
                scope.servers(),
                name,
                request.arguments,
            )
            .await
        {
            Ok(mut result) => {
                result.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(result.into())
            }
            Err(error) => Err(request_error(&scope, error, || unknown_prompt(name))),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let scope = scope_of(&context.extensions)?;
        let resources = self.registry.catalog().resources(scope.servers());
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let scope = scope_of(&context.extensions)?;
        let templates = self.registry.catalog().resource_templates(scope.servers());
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let _busy = self.drain.busy();
        let scope = scope_of(&context.extensions)?;
        let uri = request.uri.as_str();
        let caller = self.caller(&context);
        match self
            .registry
            .read_resource_in(&caller, scope.servers(), uri)
            .await
        {
            Ok(mut result) => {
                result.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(result.into())
            }
            Err(error) => Err(request_error(&scope, error, || unknown_resource(uri))),
        }
    }

    /// Relayed to the upstream sessions this client's calls use (its own, see
    /// `junction_hub::Downstream`), so their log messages come to it at that level.
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.downstream.attach(&context.peer);
        self.downstream.set_log_level(request.level);
        self.registry
            .set_log_level(self.downstream.id(), request.level)
            .await;
        Ok(())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.downstream.mark_subscribed();
        self.subscription(&request.uri, true, &context).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscription(&request.uri, false, &context).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let _busy = self.drain.busy();
        let scope = scope_of(&context.extensions)?;
        let caller = self.caller(&context);
        self.registry
            .complete(&caller, scope.servers(), request)
            .await
            .map_err(|error| {
                request_error(&scope, error, || {
                    ErrorData::invalid_params("unknown completion reference", None)
                })
            })
    }

    /// Forwards catalog changes that touch this session's scope as
    /// `notifications/{tools,prompts,resources}/list_changed`, until the session or the client
    /// goes away.
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.offer_direct_path(&context.extensions, &context.peer);
        let Ok(scope) = scope_of(&context.extensions) else {
            return;
        };
        let mut catalogs = self.registry.subscribe();
        let mut session_open = self.session_open.subscribe();
        let peer = context.peer;
        let mut listed = Listed::of(&catalogs.borrow_and_update(), &scope);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    // Nothing is ever sent: this resolves when the session's handler is dropped.
                    _ = session_open.changed() => break,
                    changed = catalogs.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
                let now = Listed::of(&catalogs.borrow_and_update(), &scope);
                let sent = async {
                    if now.tools != listed.tools {
                        peer.notify_tool_list_changed().await?;
                    }
                    if now.prompts != listed.prompts {
                        peer.notify_prompt_list_changed().await?;
                    }
                    if now.resources != listed.resources {
                        peer.notify_resource_list_changed().await?;
                    }
                    Ok::<(), rmcp::service::SubscriptionSendError>(())
                }
                .await;
                listed = now;
                if sent.is_err() {
                    break;
                }
            }
        });
    }
}

impl CatalogServer {
    async fn subscription(
        &self,
        uri: &str,
        subscribe: bool,
        context: &RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let scope = scope_of(&context.extensions)?;
        let caller = self.caller(context);
        self.registry
            .subscribe_resource(&caller, scope.servers(), uri, subscribe)
            .await
            .map_err(|error| request_error(&scope, error, || unknown_resource(uri)))
    }
}

/// A `tools/call`, answered the same way whichever path brought it (rmcp's session, or the
/// route's direct path, `direct.rs`): the scope check, the call with what it relays, the
/// `resultType`, and the error policy of this file. `progress` is the client's progress
/// token and the peer to report to (only through rmcp's session). `None`: `cancelled` fired
/// first (the client cancelled, or its session ended), and nothing is to be answered.
pub(crate) async fn answer_call(
    registry: &Registry,
    caller: &Caller,
    scope: &Scope,
    meter: Option<&crate::meter::Meter>,
    request: CallToolRequestParams,
    cancelled: &CancellationToken,
    progress: Option<(ProgressToken, &Peer<RoleServer>)>,
) -> Option<Result<CallToolResult, ErrorData>> {
    if let Some(refusal) = meter.and_then(crate::meter::Meter::over_budget) {
        // Like a refusal by `allowed_params`: a JSON-RPC error, the call never reaches
        // the server. Listing stays free.
        return Some(Err(ErrorData::new(
            ErrorCode::INVALID_REQUEST,
            refusal.to_owned(),
            Some(serde_json::json!({"type": "budget_exceeded"})),
        )));
    }
    let CallToolRequestParams {
        name, arguments, ..
    } = request;
    let catalog = registry.catalog_for(caller).await;
    if let Ok(exposed) = catalog.names().resolve(&name) {
        if !scope.contains(&exposed.server) {
            return Some(Err(unknown_tool(&name)));
        }
        if !scope.may_call(&exposed.server, &exposed.original) {
            // LiteLLM answers a tool outside the key's tool permissions with an error
            // result; it says which tool and server, so the admin knows what to grant.
            return Some(Ok(CallToolResult::error(vec![ContentBlock::text(
                format!(
                    "User not allowed to call this tool: this key may not call tool '{}' of MCP server '{}'. Contact proxy admin to allow it.",
                    exposed.original, exposed.server
                ),
            )])));
        }
    }
    let started = std::time::SystemTime::now();
    let relayed = relay_call(registry, caller, &name, arguments, cancelled, progress).await;
    if let (Some(meter), Relayed::Done(outcome)) = (meter, &relayed)
        && let Ok(exposed) = catalog.names().resolve(&name)
        && let Some(server) = registry.find_server(&exposed.server)
    {
        meter.tool_call(&server, &exposed.original, started, outcome);
    }
    match relayed {
        Relayed::Done(Ok(mut result)) => {
            // A pre-2026 upstream sends no `resultType`, which means "complete"; clients on
            // 2026-07-28 require it. It is stripped again for older clients (by rmcp, or by
            // the direct path the same way).
            result.result_type.get_or_insert(ResultType::COMPLETE);
            Some(Ok(result))
        }
        Relayed::Done(Err(error)) => Some(call_error(&name, scope, error)),
        Relayed::Cancelled => None,
    }
}

/// How a relayed tool call ended.
enum Relayed {
    Done(Result<CallToolResult, HubError>),
    /// The client sent `notifications/cancelled` (or its session ended) first.
    Cancelled,
}

/// Calls a tool upstream on behalf of one client request, relaying what belongs to the call
/// between the two sides (the upstream session is shared by every client, so nothing here is
/// per session but per request):
///
/// * **Progress.** When the request carries `_meta.progressToken`, the upstream call asks for
///   progress with a token of its own, and each report goes to this client as
///   `notifications/progress` under the client's token, before the result (rmcp's HTTP
///   session routes it to the request's SSE stream by that token).
/// * **Cancellation.** rmcp does not stop a handler when the client cancels; it cancels
///   `context.ct` (also when the session ends) and drops the answer; the direct path has a
///   token of its own for the same (`cancelled`). Waiting on it drops the upstream call at
///   once, and `junction-mcp` then sends `notifications/cancelled` upstream.
async fn relay_call(
    registry: &Registry,
    caller: &Caller,
    name: &str,
    arguments: Option<Arguments>,
    cancelled: &CancellationToken,
    progress: Option<(ProgressToken, &Peer<RoleServer>)>,
) -> Relayed {
    let Some((token, peer)) = progress else {
        return tokio::select! {
            biased;
            () = cancelled.cancelled() => Relayed::Cancelled,
            result = registry.call_tool_as(caller, name, arguments, None) => Relayed::Done(result),
        };
    };
    // The callback runs on the task reading the upstream's messages and cannot wait, so the
    // reports queue here and this future sends them in order, flushing those queued when the
    // result arrives before the result itself.
    let (reports, mut queued) = mpsc::unbounded_channel();
    let on_progress: junction_hub::registry::OnProgress = Arc::new(move |progress| {
        let _ = reports.send(progress);
    });
    let call = registry.call_tool_as(caller, name, arguments, Some(on_progress));
    let mut call = pin!(call);
    let notify = |progress: Progress| {
        let mut params = ProgressNotificationParam::new(token.clone(), progress.progress);
        params.total = progress.total;
        params.message = progress.message;
        let peer = peer.clone();
        async move {
            if let Err(error) = peer.notify_progress(params).await {
                tracing::debug!(%error, "cannot relay a progress notification");
            }
        }
    };
    loop {
        tokio::select! {
            biased;
            () = cancelled.cancelled() => return Relayed::Cancelled,
            result = &mut call => {
                while let Ok(progress) = queued.try_recv() {
                    notify(progress).await;
                }
                return Relayed::Done(result);
            }
            Some(progress) = queued.recv() => notify(progress).await,
        }
    }
}

fn unknown_tool(name: &str) -> ErrorData {
    ErrorData::invalid_params(format!("unknown tool {name}"), None)
}

/// Every registry failure of a call, as the client sees it (see the file's error policy).
fn call_error(name: &str, scope: &Scope, error: HubError) -> Result<CallToolResult, ErrorData> {
    match error {
        HubError::UnknownTool(error) => Err(ErrorData::invalid_params(error.to_string(), None)),
        HubError::UnknownServer(_) => Err(unknown_tool(name)),
        // A server outside the scope does not exist for this client, up or down.
        HubError::Unavailable { ref server, .. } if !scope.contains(server) => {
            Err(unknown_tool(name))
        }
        // LiteLLM's sentence is the message, word for word.
        HubError::Forbidden(refusal) => Err(ErrorData::invalid_params(refusal.to_string(), None)),
        HubError::Unavailable { .. } | HubError::Upstream(_) => {
            Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Error: {error}"
            ))]))
        }
        HubError::UnknownPrompt(_)
        | HubError::UnknownResource(_)
        | HubError::Config(_)
        | HubError::NoRuntime => {
            tracing::error!(%error, "unexpected MCP registry error");
            Err(ErrorData::internal_error(error.to_string(), None))
        }
    }
}

fn unknown_prompt(name: &str) -> ErrorData {
    ErrorData::invalid_params(format!("unknown prompt {name}"), None)
}

fn unknown_resource(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!("unknown resource {uri}"),
        Some(serde_json::json!({ "uri": uri })),
    )
}

/// Every registry failure of `prompts/get` and `resources/read`, as the client sees it (see
/// the file's error policy). `unknown` is the error for a name the scope does not have.
fn request_error(scope: &Scope, error: HubError, unknown: impl FnOnce() -> ErrorData) -> ErrorData {
    match error {
        HubError::UnknownPrompt(NameError::Unknown(_))
        | HubError::UnknownResource(NameError::UnknownResource(_))
        | HubError::UnknownServer(_) => unknown(),
        // A server outside the scope does not exist for this client, up or down.
        HubError::Unavailable { ref server, .. } if !scope.contains(server) => unknown(),
        // Ambiguous: the message lists the names to use instead.
        HubError::UnknownPrompt(_) | HubError::UnknownResource(_) => {
            ErrorData::invalid_params(error.to_string(), None)
        }
        HubError::Unavailable { .. } | HubError::Upstream(_) => match error.upstream_code() {
            // The upstream's own verdict (a missing prompt argument is its -32602).
            Some(code) => ErrorData::new(ErrorCode(code), error.to_string(), None),
            None => ErrorData::internal_error(error.to_string(), None),
        },
        HubError::UnknownTool(_)
        | HubError::Forbidden(_)
        | HubError::Config(_)
        | HubError::NoRuntime => {
            tracing::error!(%error, "unexpected MCP registry error");
            ErrorData::internal_error(error.to_string(), None)
        }
    }
}
