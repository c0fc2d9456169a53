//! The wires a session can run over, and what the client needs to know about their failures.
//!
//! Each transport module builds an `rmcp` [`Transport`]: [`http`] (streamable HTTP, `rmcp`'s
//! worker over our `reqwest` client), [`stdio`] (a child process), [`sse`] (the legacy
//! HTTP+SSE transport) and [`local`] (a server in this process, over an in-memory pipe).
//! On a streamable HTTP session the client also sends requests itself, without `rmcp`'s
//! tasks ([`post`]); [`event_stream`] decodes the event streams of both HTTP transports.
//! The client wraps whichever it gets in [`Watched`], which records the moment the
//! transport's input ends, so a dead session is noticed before the next request is sent
//! into it rather than after, and answers the requests a server refused with an id-less
//! error (see there).
//!
//! [`classify`] turns a transport error (as `rmcp` reports it, boxed and type-erased) into
//! what the client has to decide: was the request certainly not delivered (safe to resend),
//! possibly delivered (only idempotent operations may be retried), or refused credentials.

pub(crate) mod event_stream;
pub(crate) mod http;
pub(crate) mod local;
pub(crate) mod post;
pub(crate) mod sse;
pub(crate) mod stdio;

use std::collections::HashSet;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rmcp::RoleClient;
use rmcp::model::ServerNotification;
use rmcp::model::{ErrorData, JsonRpcMessage, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, InsufficientScopeError, StreamableHttpError,
};

use crate::McpError;

/// What the client needs to know about a session's wire, shared with [`Watched`].
#[derive(Default)]
pub(crate) struct WireState {
    /// Set when the transport's input ended (a stdio child exited, a stream closed, the
    /// server said it does not know the session).
    ended: AtomicBool,
    /// Requests handed to the transport whose sending has not finished. For streamable HTTP
    /// that lasts until the POST's answer was read, so a request leaves this set only once
    /// a server accepted it.
    sending: Mutex<HashSet<RequestId>>,
    /// Requests the server refused because it does not know the session: not run, so safe
    /// to send again on a new session.
    refused: Mutex<HashSet<RequestId>>,
    /// Progress callbacks of this session's requests. Progress is routed here, in the order
    /// messages arrive, and not in rmcp's handler: rmcp runs notification handlers in tasks of
    /// their own but hands replies over at once, so a request's last progress report could
    /// otherwise come after its result, when its route is gone.
    pub(crate) progress: crate::handler::ProgressRoutes,
}

impl WireState {
    pub(crate) fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Whether the server refused request `id` without running it.
    pub(crate) fn refused(&self, id: &RequestId) -> bool {
        lock(&self.refused).contains(id)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain sets, never left half-updated.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A transport wrapper that watches the wire for the client.
///
/// It records the moment the transport's input ends: `rmcp` learns that a stdio child died,
/// or that a stream ended, only through `receive`, and its `Peer` notices a little later,
/// when the service loop has wound down; the flag lets the client tell a dead session from a
/// live one without racing that loop.
///
/// It also handles JSON-RPC errors without an id, which `rmcp` drops (leaving the request
/// they answer waiting for its timeout). Servers send them when they cannot read the
/// request's id; the TypeScript SDK's example servers, server-everything among them, answer
/// every request of a session they do not know (after a restart) with HTTP 400 and such an
/// error, "Bad Request: No valid session ID provided", where the spec wants a 404 (which
/// `rmcp` handles by re-initializing). Such an error ends the session, and the requests
/// still being sent are marked refused, so the client resends them on a new session. Any
/// other id-less error is given to the request being sent when there is exactly one.
///
/// A session whose requests the client also POSTs itself ([`post`]) gets the messages that
/// arrived with those answers through an inbox, received as if from the transport.
pub(crate) struct Watched<T> {
    inner: T,
    server: Arc<str>,
    state: Arc<WireState>,
    inbox: Option<post::Inbox>,
}

impl<T> Watched<T> {
    pub(crate) fn new(inner: T, server: Arc<str>, state: Arc<WireState>) -> Self {
        Watched {
            inner,
            server,
            state,
            inbox: None,
        }
    }

    /// Also receives what arrives in `inbox`.
    pub(crate) fn with_inbox(mut self, inbox: post::Inbox) -> Self {
        self.inbox = Some(inbox);
        self
    }
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for Watched<T> {
    type Error = T::Error;

    fn name() -> std::borrow::Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let id = match &item {
            JsonRpcMessage::Request(request) => Some(request.id.clone()),
            _ => None,
        };
        if let Some(id) = &id {
            lock(&self.state.sending).insert(id.clone());
        }
        let state = Arc::clone(&self.state);
        let sent = self.inner.send(item);
        async move {
            let result = sent.await;
            if let Some(id) = id {
                lock(&state.sending).remove(&id);
            }
            result
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        let state = Arc::clone(&self.state);
        let server = Arc::clone(&self.server);
        let next = self.inner.receive();
        let inbox = self.inbox.as_mut();
        async move {
            // Both are cancel-safe, as rmcp needs (it polls `receive` inside `select!`).
            let mut message = match inbox {
                Some(inbox) => tokio::select! {
                    biased;
                    Some(posted) = inbox.recv() => Some(posted),
                    received = next => received,
                },
                None => next.await,
            };
            if let Some(JsonRpcMessage::Notification(notification)) = &message
                && let ServerNotification::ProgressNotification(progress) =
                    &notification.notification
            {
                state.progress.deliver(&progress.params);
            }
            if let Some(JsonRpcMessage::Error(error)) = &mut message
                && error.id.is_none()
            {
                if is_unknown_session(&error.error) {
                    tracing::warn!(
                        server = %server,
                        answer = %error.error.message,
                        "the MCP server does not know this session"
                    );
                    let sending: Vec<RequestId> = lock(&state.sending).drain().collect();
                    lock(&state.refused).extend(sending);
                    message = None;
                } else {
                    let sending = lock(&state.sending);
                    if sending.len() == 1 {
                        error.id = sending.iter().next().cloned();
                    }
                }
            }
            if message.is_none() {
                state.ended.store(true, Ordering::Release);
            }
            message
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.state.ended.store(true, Ordering::Release);
        self.inner.close()
    }
}

/// A JSON-RPC error saying the server does not know our session id (so it did not run the
/// request). See [`Watched`] for who sends these.
pub(crate) fn is_unknown_session(error: &ErrorData) -> bool {
    if error.code.0 != -32000 && error.code.0 != -32001 {
        return false;
    }
    let message = error.message.to_ascii_lowercase();
    message.contains("session")
        && [
            "no valid",
            "not found",
            "unknown",
            "invalid",
            "expired",
            "terminated",
        ]
        .iter()
        .any(|hint| message.contains(hint))
}

/// What a transport failure means for the request that hit it.
#[derive(Debug)]
pub(crate) enum TransportFailure {
    /// The request never reached the server (connection refused, pipe already closed): it can
    /// be sent again on a new connection, whatever it was.
    NotDelivered(String),
    /// The connection broke; the server may or may not have seen the request.
    Lost(String),
    /// The server refused the credentials (HTTP 401/403, or no OAuth2 token could be had).
    Unauthorized(String),
}

/// Reads a transport error and its sources, most specific first.
pub(crate) fn classify(error: &(dyn StdError + 'static)) -> TransportFailure {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(failure) = classify_one(e) {
            return failure;
        }
        current = e.source();
    }
    TransportFailure::Lost(chain(error))
}

fn classify_one(e: &(dyn StdError + 'static)) -> Option<TransportFailure> {
    if let Some(e) = e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        return Some(self::http::classify(e));
    }
    if let Some(e) = e.downcast_ref::<reqwest::Error>() {
        return Some(self::http::classify_reqwest(e));
    }
    if e.is::<AuthRequiredError>() || e.is::<InsufficientScopeError>() {
        return Some(TransportFailure::Unauthorized(e.to_string()));
    }
    // The SSE transport reports its failures as our own errors.
    if let Some(e) = e.downcast_ref::<McpError>() {
        return Some(match e {
            McpError::Unauthorized { message, .. } => {
                TransportFailure::Unauthorized(message.clone())
            }
            // From a send, the SSE transport uses `Connect` only when the server certainly did
            // not process the message (refused connection, forgotten session), so it is safe
            // to resend; `Disconnected` means it may have been processed.
            McpError::Connect { message, .. } => TransportFailure::NotDelivered(message.clone()),
            McpError::Disconnected { message, .. } => TransportFailure::Lost(message.clone()),
            other => TransportFailure::Lost(other.to_string()),
        });
    }
    if let Some(e) = e.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind;
        return Some(match e.kind() {
            // Writing to a child whose stdin is closed, or a refused connection: nothing was
            // read by the server.
            ErrorKind::BrokenPipe | ErrorKind::ConnectionRefused | ErrorKind::NotConnected => {
                TransportFailure::NotDelivered(e.to_string())
            }
            _ => TransportFailure::Lost(e.to_string()),
        });
    }
    None
}

/// An error and its sources as one line ("a: b: c"), skipping repeats (many errors print
/// their source in their own message).
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        current = e.source();
    }
    text
}
