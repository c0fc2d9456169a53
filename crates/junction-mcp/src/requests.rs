//! The requests a server sends to its client (`sampling/createMessage`, `elicitation/create`,
//! `roots/list`), and [`ClientHooks`], everything a client calls back into.
//!
//! The library has no model to lend and no user to ask, so it answers none of these itself: a
//! [`ServerRequestHandler`] given by the user does (the gateway relays them to the downstream
//! client on whose behalf it calls). The client announces in `initialize` exactly the
//! capabilities that handler names, so a server only asks what will be answered; without a
//! handler it announces none and refuses the three requests with method-not-found.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use rmcp::model::{
    ClientCapabilities, ClientResult, ErrorData, GetExtensions, RequestMetaObject, ServerRequest,
};
use rmcp::service::{RequestContext, RoleClient};

use crate::handler::NotificationHandler;

/// Answers the requests a server sends to its client: `sampling/createMessage`, `elicitation/create`, `roots/list`.
pub trait ServerRequestHandler: Send + Sync + 'static {
    /// The capabilities announced in `initialize` (only sampling / elicitation / roots the handler can answer).
    fn capabilities(&self) -> ClientCapabilities;
    /// Answers one request of server `server` (the ClientConfig name). Called concurrently, from a task of its own (never blocks the session's reader).
    ///
    /// The request carries the server's `_meta` (see `rmcp::model::GetMeta`). The answer must
    /// be the matching [`ClientResult`] variant (`CreateMessageResult`, `ElicitResult`,
    /// `ListRootsResult`); another one is answered to the server as an internal error. The
    /// returned future is dropped when the server cancels the request or the session ends.
    fn handle(
        &self,
        server: &str,
        request: ServerRequest,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>>;

    /// Whether the session must be a stateful one (the `initialize` handshake, up to
    /// 2025-11-25): the stateless 2026-07-28 revision has no server-initiated requests on a
    /// session. A handler that only declines them (and declares capabilities so that servers
    /// list everything they offer) can leave the client free to pick the newest revision.
    fn needs_stateful_session(&self) -> bool {
        true
    }
}

/// What a client calls back into.
#[derive(Clone, Default)]
pub struct ClientHooks {
    pub notifications: Option<Arc<dyn NotificationHandler>>,
    pub requests: Option<Arc<dyn ServerRequestHandler>>,
}

impl std::fmt::Debug for ClientHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHooks")
            .field("notifications", &self.notifications.is_some())
            .field("requests", &self.requests.is_some())
            .finish()
    }
}

/// Hands `request` to `handler` and waits for its answer, or until the server cancels the
/// request (or the session ends), which drops the handler's work.
///
/// `rmcp` takes the request's `_meta` and extensions out into `context` before calling the
/// client handler; they are put back so the handler sees the request as the server sent it.
pub(crate) async fn ask(
    handler: &dyn ServerRequestHandler,
    server: &str,
    mut request: ServerRequest,
    context: RequestContext<RoleClient>,
) -> Result<ClientResult, ErrorData> {
    let RequestContext {
        ct,
        meta,
        extensions,
        ..
    } = context;
    *request.extensions_mut() = extensions;
    // An empty `_meta` is left out, as the server left it out, rather than sent on as `{}`.
    if meta.is_empty() {
        request.extensions_mut().remove::<RequestMetaObject>();
    } else {
        request.extensions_mut().insert(meta);
    }
    let answer = handler.handle(server, request);
    tokio::select! {
        answer = answer => answer,
        () = ct.cancelled() => Err(ErrorData::internal_error(
            "the request was cancelled before the client answered it",
            None,
        )),
    }
}

/// The error a server gets when the handler answered a request with the result of another
/// kind of request.
pub(crate) fn mismatch(method: &str, answer: &ClientResult) -> ErrorData {
    let kind = match answer {
        ClientResult::CreateMessageResult(_) => "a sampling/createMessage result",
        ClientResult::ListRootsResult(_) => "a roots/list result",
        ClientResult::ElicitResult(_) => "an elicitation/create result",
        ClientResult::EmptyResult(_) => "an empty result",
        // `ClientResult` is non-exhaustive: custom results and kinds rmcp may add.
        _ => "another kind of result",
    };
    ErrorData::internal_error(
        format!("the client's request handler answered {method} with {kind}"),
        None,
    )
}
