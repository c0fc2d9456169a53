//! The server side of MCP's HTTP+SSE transport (revision 2024-11-05, "legacy SSE"): the
//! sessions, the rmcp transport each one is served over, and the event stream.
//!
//! A legacy session is one long-lived `GET` (the event stream) plus any number of `POST`s to
//! the endpoint the stream named first. rmcp no longer ships this transport, but it serves any
//! [`Transport`], so each session is the same handler as the streamable endpoint, served by
//! rmcp over two channels:
//!
//! - inbound: the `POST` handler (`routes/mcp_sse.rs`) parses a message and puts it into the
//!   session's channel, which the transport's `receive` reads;
//! - outbound: the transport's `send` puts every server→client message into the other
//!   channel, which the event stream writes as `event: message`.
//!
//! The event stream owns the session: when its client goes away, hyper drops the body, the
//! [`SessionGuard`] inside it removes the session (later `POST`s get 404) and stops the
//! session's rmcp service (in-flight calls are cancelled). When the service ends on its own,
//! the outbound channel closes and the stream ends, so the client sees its session end.
//!
//! Nothing here knows about HTTP requests, keys or scopes beyond carrying them: the routes
//! decide who may open and post, this file only keeps the sessions.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, Service};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::mcp_server::Scope;

/// How often an idle stream carries a comment, so proxies and clients do not time it out.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Messages buffered per direction before the sender waits (a slow client slows its own
/// session, never the gateway's memory).
const CHANNEL_CAPACITY: usize = 32;

/// The open legacy sessions of the gateway, by id.
#[derive(Default)]
pub struct LegacySessions {
    sessions: Mutex<HashMap<String, Session>>,
}

/// What a `POST` needs of its session: where its messages go, the scope the stream was opened
/// with, and who opened it.
#[derive(Clone)]
pub struct Session {
    pub inbound: mpsc::Sender<ClientJsonRpcMessage>,
    pub scope: Scope,
    /// [`crate::principal::Principal`] identity of the key that opened the stream.
    pub owner: String,
}

impl LegacySessions {
    /// Starts serving `handler` on a new session and returns its id and its event stream,
    /// whose first event is `endpoint` with `endpoint(id)` as data, with a comment after
    /// every `keep_alive` without an event.
    pub fn open<S>(
        self: &Arc<Self>,
        handler: S,
        stop: CancellationToken,
        scope: Scope,
        owner: String,
        endpoint: impl FnOnce(&str) -> String,
        keep_alive: Duration,
    ) -> (
        String,
        impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
    )
    where
        S: Service<RoleServer> + Send + 'static,
    {
        let id = new_session_id();
        let (inbound_tx, inbound_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (outbound_tx, outbound_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        self.lock().insert(
            id.clone(),
            Session {
                inbound: inbound_tx,
                scope,
                owner,
            },
        );
        let transport = ChannelTransport {
            inbound: inbound_rx,
            outbound: outbound_tx,
        };
        let session_id = id.clone();
        tokio::spawn(async move {
            let run = async {
                match rmcp::serve_server(handler, transport).await {
                    // Dropping `waiting` (the stream went away) drops the running service,
                    // which cancels it.
                    Ok(running) => {
                        let _ = running.waiting().await;
                    }
                    Err(error) => {
                        tracing::debug!(session = %session_id, %error, "legacy MCP session ended before initialization");
                    }
                }
            };
            tokio::select! {
                () = run => {}
                // Resolves (with an error) when the stream's guard drops the sender.
                _ = stop_rx => {}
            }
            tracing::debug!(session = %session_id, "legacy MCP session closed");
        });
        let events = EventStream {
            endpoint: Some(endpoint(&id)),
            outbound: outbound_rx,
            stop,
            closing: false,
            keep_alive: tokio::time::interval_at(
                tokio::time::Instant::now() + keep_alive,
                keep_alive,
            ),
            _guard: SessionGuard {
                sessions: self.clone(),
                id: id.clone(),
                _stop: stop_tx,
            },
        };
        (id, events.into_stream())
    }

    /// The open session `id`, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A random UUID v4, from the operating system's RNG: the session id is the only thing a
/// `POST` shows besides its key, so it must not be guessable.
fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    if let Err(error) = getrandom::getrandom(&mut bytes) {
        // No OS randomness is not something a server can work around.
        panic!("the operating system's random number generator failed: {error}");
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Removes its session when the event stream is dropped, and (by dropping `_stop`) stops
/// the session's rmcp service.
struct SessionGuard {
    sessions: Arc<LegacySessions>,
    id: String,
    _stop: oneshot::Sender<()>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.id);
    }
}

/// The rmcp side of a session: what the `POST`s delivered in, the stream's channel out.
struct ChannelTransport {
    inbound: mpsc::Receiver<ClientJsonRpcMessage>,
    outbound: mpsc::Sender<ServerJsonRpcMessage>,
}

/// The event stream's client went away.
#[derive(Debug, thiserror::Error)]
#[error("the SSE stream of this MCP session is closed")]
pub struct StreamClosed;

impl Transport<RoleServer> for ChannelTransport {
    type Error = StreamClosed;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), StreamClosed>> + Send + 'static {
        let outbound = self.outbound.clone();
        async move { outbound.send(item).await.map_err(|_| StreamClosed) }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.inbound.recv()
    }

    async fn close(&mut self) -> Result<(), StreamClosed> {
        self.inbound.close();
        Ok(())
    }
}

/// The body of the `GET`: `endpoint` first, then each outbound message, with keep-alive
/// comments while idle.
struct EventStream {
    endpoint: Option<String>,
    outbound: mpsc::Receiver<ServerJsonRpcMessage>,
    /// Cancelled at shutdown: the stream ends after sending what is queued.
    stop: CancellationToken,
    closing: bool,
    keep_alive: tokio::time::Interval,
    _guard: SessionGuard,
}

impl EventStream {
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        futures_util::stream::unfold(self, |mut events| async move {
            if let Some(endpoint) = events.endpoint.take() {
                return Some((Ok(frame("endpoint", &endpoint)), events));
            }
            loop {
                if events.closing {
                    let message = events.outbound.try_recv().ok()?;
                    match serde_json::to_string(&message) {
                        Ok(json) => return Some((Ok(frame("message", &json)), events)),
                        Err(error) => {
                            tracing::error!(%error, "cannot serialize an MCP message; dropped");
                            continue;
                        }
                    }
                }
                tokio::select! {
                    () = events.stop.cancelled() => events.closing = true,
                    message = events.outbound.recv() => {
                        // `None`: the service ended, and so does the stream.
                        let message = message?;
                        match serde_json::to_string(&message) {
                            Ok(json) => {
                                events.keep_alive.reset();
                                return Some((Ok(frame("message", &json)), events));
                            }
                            Err(error) => {
                                tracing::error!(%error, "cannot serialize an MCP message; dropped");
                            }
                        }
                    }
                    _ = events.keep_alive.tick() => {
                        return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), events));
                    }
                }
            }
        })
    }
}

/// One event. `data` is one line: compact JSON has no newline, and a URL none either.
fn frame(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_distinct_uuid_v4s() {
        let a = new_session_id();
        let b = new_session_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert!(
            a.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[tokio::test]
    async fn a_stream_names_its_endpoint_relays_answers_keeps_alive_and_owns_its_session() {
        use futures_util::StreamExt;

        struct Minimal;
        impl rmcp::ServerHandler for Minimal {}

        let sessions = Arc::new(LegacySessions::default());
        let (id, events) = sessions.open(
            Minimal,
            CancellationToken::new(),
            Scope::all(),
            "owner".to_owned(),
            |id| format!("/m?session_id={id}"),
            Duration::from_millis(20),
        );
        let mut events = Box::pin(events);
        let mut next = async || events.next().await.unwrap().unwrap();
        assert_eq!(
            next().await,
            frame("endpoint", &format!("/m?session_id={id}"))
        );
        let session = sessions.get(&id).unwrap();
        assert_eq!(session.owner, "owner");
        let initialize: ClientJsonRpcMessage = serde_json::from_value(serde_json::json!({
            "jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {
                "protocolVersion": "2024-11-05",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            }
        }))
        .unwrap();
        session.inbound.send(initialize).await.unwrap();
        let answer = loop {
            let frame = next().await;
            if frame != Bytes::from_static(b": keep-alive\n\n") {
                break String::from_utf8(frame.to_vec()).unwrap();
            }
        };
        assert!(answer.starts_with("event: message\ndata: {"), "{answer}");
        assert!(answer.contains(r#""id":7"#), "{answer}");
        assert!(answer.ends_with("}\n\n") && answer.matches('\n').count() == 3);
        // Idle: comments keep the connection alive.
        assert_eq!(next().await, Bytes::from_static(b": keep-alive\n\n"));
        // The client goes away: the session is gone, and its service stops reading.
        drop(events);
        assert!(sessions.get(&id).is_none());
        tokio::time::timeout(Duration::from_secs(5), session.inbound.closed())
            .await
            .unwrap();
    }

    #[test]
    fn frames_are_single_events() {
        assert_eq!(
            frame("endpoint", "/mcp/message?session_id=x"),
            Bytes::from_static(b"event: endpoint\ndata: /mcp/message?session_id=x\n\n")
        );
    }
}
