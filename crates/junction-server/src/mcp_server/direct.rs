//! The direct path: plain `tools/call`s answered by the route with `application/json`,
//! without going through rmcp's session.
//!
//! Why: rmcp's stateful streamable HTTP serves a POST through the session's worker task. The
//! route asks the worker for a request-wise channel and pushes the message to it. The worker
//! hands it to the session's service task, which spawns a task for the handler. The answer
//! travels back the same way and goes out as an SSE stream: headers and a priming event
//! first, the answer and the end of the stream later. That is about five task hand-offs and
//! two writes per call, measured at a third of a millisecond (`bench/README.md`, "MCP
//! benchmark"). The streamable HTTP transport lets a server answer a POST with one JSON body
//! instead. For most calls, nothing but the answer would ever travel on that POST's stream:
//!
//! * a `tools/call` whose `_meta` has no `progressToken` (no progress to relay) and no
//!   per-request protocol version, and whose params carry nothing of the 2026-07-28 input
//!   requests;
//! * from a session that needs no relay (`junction_hub::wants_own_sessions`: its client
//!   declared no sampling, elicitation or roots, and set no log level or subscription, so
//!   upstreams send nothing back to it during its calls);
//! * on a session that negotiated a revision before 2026-07-28 (whose requests need no
//!   per-request metadata), with an `MCP-Protocol-Version` header that is absent or such a
//!   known revision (rmcp's header check), a JSON `Content-Type`, an `Accept` that lists both
//!   `application/json` and `text/event-stream` (rmcp requires both), and a body with a
//!   `Content-Length` of at most [`MAX_BODY`].
//!
//! Such a call is answered by [`super::answer_call`], the function rmcp's handler uses too, so
//! the scope check, the errors and `resultType` are the same; `resultType` is then stripped for
//! the session's pre-2026-07-28 client, as rmcp does. Anything else goes to rmcp unchanged.
//!
//! rmcp still owns the session:
//!
//! * **Which sessions exist.** A session gets an entry here when its handler first sees its id
//!   (`notifications/initialized`, or its first call through rmcp). The entry goes when the
//!   handler is dropped (the session ended: idle, shutdown) or when the route sees the
//!   session's `DELETE`. A POST for a session without an entry goes to rmcp, which answers 404
//!   for a session it does not know.
//! * **Cancellation.** A `notifications/cancelled` for a direct call's request id cancels it
//!   here, and still goes to rmcp, which ignores an id it does not know. A cancelled call (or
//!   one whose session ended) gets an event stream without an event, as rmcp ends the stream
//!   of a cancelled request without an answer. A client that drops the connection drops the
//!   call with it; the upstream is told either way (`junction-mcp`).
//! * **Idle timeout.** rmcp closes a session after 5 minutes without a message through its
//!   worker. A session that only makes direct calls is therefore shown to rmcp at most once a
//!   minute ([`TOUCH_AFTER`]) with a `notifications/cancelled` for the call just answered,
//!   which rmcp and the handler ignore (the MCP spec says to ignore a cancellation of a
//!   request that has already finished).
//! * **Shutdown.** A direct call counts as in flight (`McpDrain::busy`) until it is answered.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use junction_hub::Caller;
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientNotification, ClientRequest, ErrorData,
    GetMeta, JsonRpcNotification, JsonRpcRequest, ProtocolVersion, RequestId, ServerJsonRpcMessage,
    ServerResult,
};
use tokio_util::sync::CancellationToken;

use super::{Scope, answer_call, caller_for};
use crate::mcp_downstream::DownstreamSession;
use crate::state::AppState;

/// The header naming a streamable HTTP session.
pub(crate) const SESSION_ID_HEADER: &str = "mcp-session-id";
const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// Largest body read here. A call with bigger arguments goes to rmcp: a copy of its body is not
/// worth keeping, and rmcp applies the configured body limit.
const MAX_BODY: u64 = 64 * 1024;

/// How long a session may make only direct calls before rmcp is shown it is alive; well
/// within rmcp's idle timeout (5 minutes).
const TOUCH_AFTER: Duration = Duration::from_secs(60);

/// The sessions whose plain calls may be answered directly, by session id.
#[derive(Debug, Default)]
pub(crate) struct DirectSessions {
    sessions: Mutex<HashMap<Arc<str>, Arc<DirectSession>>>,
}

/// One session, as the direct path needs it.
pub(crate) struct DirectSession {
    id: Arc<str>,
    downstream: Arc<DownstreamSession>,
    /// The revision the client asked for in `initialize`, which rmcp's handler decides the
    /// shape of results by.
    protocol: Option<ProtocolVersion>,
    /// Cancelled when the session ends; every direct call's token is a child of it.
    ended: CancellationToken,
    /// The direct calls in progress, by request id, for `notifications/cancelled`.
    calls: Mutex<HashMap<RequestId, CancellationToken>>,
    /// Since when rmcp's worker last saw a message of this session, in ms since `born`.
    touched_ms: AtomicU64,
    born: Instant,
}

impl std::fmt::Debug for DirectSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectSession")
            .field("id", &self.id)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DirectSessions {
    /// The entry of session `id`, created on the first call (two first calls of a session can
    /// race here and get the same entry). `None` if `id` is another session's: session ids
    /// are random and never reused, so that would be a wiring bug, and no handler may end
    /// (or answer for) another session's entry.
    pub(crate) fn register(
        &self,
        id: &str,
        downstream: Arc<DownstreamSession>,
        protocol: Option<ProtocolVersion>,
    ) -> Option<Arc<DirectSession>> {
        let mut sessions = lock(&self.sessions);
        if let Some(existing) = sessions.get(id) {
            return Arc::ptr_eq(&existing.downstream, &downstream).then(|| Arc::clone(existing));
        }
        let id: Arc<str> = Arc::from(id);
        let entry = Arc::new(DirectSession {
            id: Arc::clone(&id),
            downstream,
            protocol,
            ended: CancellationToken::new(),
            calls: Mutex::default(),
            touched_ms: AtomicU64::new(0),
            born: Instant::now(),
        });
        sessions.insert(id, Arc::clone(&entry));
        Some(entry)
    }

    fn get(&self, id: &str) -> Option<Arc<DirectSession>> {
        lock(&self.sessions).get(id).cloned()
    }

    /// The session ended: forget it (only this entry) and cancel its direct calls.
    pub(crate) fn end(&self, entry: &Arc<DirectSession>) {
        {
            let mut sessions = lock(&self.sessions);
            if let Entry::Occupied(found) = sessions.entry(Arc::clone(&entry.id))
                && Arc::ptr_eq(found.get(), entry)
            {
                found.remove();
            }
        }
        entry.ended.cancel();
    }

    fn end_id(&self, id: &str) {
        if let Some(entry) = self.get(id) {
            self.end(&entry);
        }
    }
}

impl DirectSession {
    /// Whether this session's plain calls may be answered directly now. The relay can become
    /// needed later in a session (`logging/setLevel`, `resources/subscribe`), so this is
    /// asked for every call.
    fn serves_directly(&self) -> bool {
        self.protocol
            .as_ref()
            .is_some_and(|version| version.as_str() < ProtocolVersion::V_2026_07_28.as_str())
            && !junction_hub::wants_own_sessions(&*self.downstream)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// rmcp's worker is about to see a message of this session.
    fn touched(&self) {
        self.touched_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Whether rmcp should be shown this session is alive (claims the touch if so).
    fn touch_due(&self) -> bool {
        let now = self.now_ms();
        let last = self.touched_ms.load(Ordering::Relaxed);
        let due = u128::from(now.saturating_sub(last)) >= TOUCH_AFTER.as_millis();
        due && self
            .touched_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// A direct call starts: its token, cancelled by the client or the session's end.
    fn start(self: &Arc<Self>, id: RequestId) -> InFlight {
        let token = self.ended.child_token();
        lock(&self.calls).insert(id.clone(), token.clone());
        InFlight {
            session: Arc::clone(self),
            id,
            token,
        }
    }

    /// The client cancelled request `id`; a direct call of that id stops.
    fn cancel(&self, id: &RequestId) {
        if let Some(token) = lock(&self.calls).get(id) {
            token.cancel();
        }
    }
}

/// A direct call in progress; dropping it forgets it.
struct InFlight {
    session: Arc<DirectSession>,
    id: RequestId,
    token: CancellationToken,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut calls = lock(&self.session.calls);
        // A client reusing an id while its first call runs must not lose the second's entry.
        if let Entry::Occupied(found) = calls.entry(self.id.clone())
            && found.get() == &self.token
        {
            found.remove();
        }
    }
}

/// Where the route sends a request of `/mcp`.
pub(crate) enum Routed {
    /// Answered here.
    Answered(Response),
    /// For rmcp, with its body (read here, or untouched).
    ToRmcp(Body),
}

/// Answers a plain `tools/call` (see the top of this file), or hands the request to rmcp after
/// noting what the direct path needs to know of it (a session's end, a cancellation, traffic
/// rmcp sees). `caller` and `scope` are the route's, for this request.
pub(crate) async fn route(
    state: &Arc<AppState>,
    head: &Parts,
    body: Body,
    caller: &Caller,
    scope: &Scope,
) -> Routed {
    let Some(id) = head
        .headers
        .get(SESSION_ID_HEADER)
        .and_then(|value| value.to_str().ok())
    else {
        return Routed::ToRmcp(body);
    };
    let sessions = state.mcp_drain.direct_sessions();
    if head.method == Method::DELETE {
        // Ended now, not when rmcp gets round to dropping the handler: no direct call may
        // start on a session the client has just closed.
        sessions.end_id(id);
        return Routed::ToRmcp(body);
    }
    let Some(session) = sessions.get(id) else {
        return Routed::ToRmcp(body);
    };
    if head.method != Method::POST || !direct_headers(head) {
        session.touched();
        return Routed::ToRmcp(body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY as usize).await {
        Ok(bytes) => bytes,
        // What rmcp answers when it cannot read a body.
        Err(error) => {
            return Routed::Answered(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Failed to read request body: {error}"),
            ));
        }
    };
    match read_message(&bytes) {
        Some(Message::Call(request_id, params)) if session.serves_directly() => {
            Routed::Answered(call(state, &session, head, caller, scope, request_id, params).await)
        }
        Some(Message::Cancelled(request_id)) => {
            session.cancel(&request_id);
            session.touched();
            Routed::ToRmcp(Body::from(bytes))
        }
        _ => {
            session.touched();
            Routed::ToRmcp(Body::from(bytes))
        }
    }
}

/// What the direct path looks for in a body.
enum Message {
    /// A plain `tools/call`.
    Call(RequestId, CallToolRequestParams),
    /// `notifications/cancelled` for a request id.
    Cancelled(RequestId),
}

/// The body as rmcp reads it (`ClientJsonRpcMessage`), when it is a message the direct path
/// handles. Bodies that do not mention either method are not parsed here.
fn read_message(bytes: &[u8]) -> Option<Message> {
    let cancelled = contains(bytes, b"notifications/cancelled");
    if !cancelled && !contains(bytes, b"tools/call") {
        return None;
    }
    match serde_json::from_slice::<ClientJsonRpcMessage>(bytes).ok()? {
        ClientJsonRpcMessage::Request(JsonRpcRequest { id, request, .. }) => {
            // Where rmcp keeps `_meta` (its handler reads it from there).
            let meta = request.get_meta();
            let plain = meta.get_progress_token().is_none() && meta.protocol_version().is_none();
            let ClientRequest::CallToolRequest(call) = request else {
                return None;
            };
            let plain = plain
                && call.params.input_responses.is_none()
                && call.params.request_state.is_none();
            plain.then_some(Message::Call(id, call.params))
        }
        ClientJsonRpcMessage::Notification(JsonRpcNotification {
            notification: ClientNotification::CancelledNotification(notification),
            ..
        }) => notification.params.request_id.map(Message::Cancelled),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Whether the headers are those of a request rmcp would serve, answerable with JSON (see the
/// top of this file). Anything unusual goes to rmcp, which answers it as it always has.
fn direct_headers(head: &Parts) -> bool {
    let headers = &head.headers;
    // rmcp refuses a request that names no host (its DNS-rebinding check needs one).
    let host = match headers.get(header::HOST) {
        Some(host) => host
            .to_str()
            .is_ok_and(|host| host.parse::<axum::http::uri::Authority>().is_ok()),
        None => head.uri.authority().is_some(),
    };
    let content_type_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or(value);
            essence.trim().eq_ignore_ascii_case(JSON)
        });
    let small = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .is_some_and(|length| length <= MAX_BODY);
    let protocol_ok = match headers.get(PROTOCOL_VERSION_HEADER) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|version| {
            version < ProtocolVersion::V_2026_07_28.as_str()
                && ProtocolVersion::KNOWN_VERSIONS
                    .iter()
                    .any(|known| known.as_str() == version)
        }),
    };
    host && content_type_json && small && protocol_ok && accepts_json_and_sse(headers)
}

/// Whether `Accept` lists both JSON and event streams. A media range with any `q` parameter
/// is not counted (rmcp's rule excludes `q=0`; the direct path need not parse weights).
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim();
            if parts.any(|param| param.trim_start().to_ascii_lowercase().starts_with("q=")) {
                continue;
            }
            json |= essence.eq_ignore_ascii_case(JSON);
            sse |= essence.eq_ignore_ascii_case(EVENT_STREAM);
        }
    }
    json && sse
}

/// Serves one direct call.
async fn call(
    state: &Arc<AppState>,
    session: &Arc<DirectSession>,
    head: &Parts,
    caller: &Caller,
    scope: &Scope,
    request_id: RequestId,
    params: CallToolRequestParams,
) -> Response {
    let _busy = state.mcp_drain.busy();
    let caller = caller_for(caller, &session.downstream);
    let in_flight = session.start(request_id.clone());
    let meter = head.extensions.get::<crate::meter::Meter>();
    let answer = answer_call(
        &state.mcp,
        &caller,
        scope,
        meter,
        params,
        &in_flight.token,
        None,
    )
    .await;
    drop(in_flight);
    if session.touch_due() {
        touch(state, head, &request_id);
    }
    match answer {
        Some(answer) => json_answer(request_id, answer),
        None => no_answer(),
    }
}

/// The JSON-RPC answer to a call, shaped as rmcp's handler shapes it for a client before
/// 2026-07-28 (the only ones served here).
fn json_answer(id: RequestId, answer: Result<rmcp::model::CallToolResult, ErrorData>) -> Response {
    let message = match answer {
        Ok(result) => {
            let mut result = ServerResult::CallToolResult(result);
            result.strip_result_type_for_legacy_peer();
            ServerJsonRpcMessage::response(result, id)
        }
        Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
    };
    match serde_json::to_vec(&message) {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            response
        }
        Err(error) => {
            tracing::error!(%error, "cannot serialize an MCP answer");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot serialize the answer: {error}"),
            )
        }
    }
}

/// A cancelled call: an event stream that ends without an event, as rmcp ends the stream of a
/// request the client cancelled. (No priming event either, so the client has no event id to
/// resume from: there is nothing to resume.)
fn no_answer() -> Response {
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn plain(status: StatusCode, message: String) -> Response {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response
}

/// Shows rmcp's worker that the session is alive (see [`TOUCH_AFTER`]), in the background.
fn touch(state: &Arc<AppState>, head: &Parts, answered: &RequestId) {
    let request = keep_alive(head, answered);
    let service = state.mcp_http.clone();
    tokio::spawn(async move {
        let status = service.handle(request).await.status();
        if !status.is_success() {
            tracing::debug!(%status, "rmcp refused a session keep-alive");
        }
    });
}

/// The keep-alive message for the session of `head` (a request rmcp would have accepted):
/// `notifications/cancelled` for `answered`, a request of that session already answered.
fn keep_alive(head: &Parts, answered: &RequestId) -> Request<Body> {
    let notification = serde_json::json!({
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {
            "requestId": answered,
            "reason": "answered by the gateway; this keeps the session alive",
        },
    });
    let mut request = Request::new(Body::from(Bytes::from(notification.to_string())));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = head.uri.clone();
    let headers = request.headers_mut();
    // What rmcp checks: the host (DNS rebinding), the session, the protocol version.
    for name in [
        header::HOST.as_str(),
        SESSION_ID_HEADER,
        PROTOCOL_VERSION_HEADER,
    ] {
        if let Some(value) = head.headers.get(name) {
            headers.insert(name, value.clone());
        }
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Parts {
        let mut request = Request::new(());
        for (name, value) in pairs {
            request.headers_mut().append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        request.into_parts().0
    }

    const PLAIN: [(&str, &str); 5] = [
        ("host", "127.0.0.1:4000"),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("content-length", "120"),
        ("mcp-protocol-version", "2025-06-18"),
    ];

    #[test]
    fn only_plain_requests_qualify_by_their_headers() {
        assert!(direct_headers(&headers(&PLAIN)));
        let without = |skip: &str| {
            headers(
                &PLAIN
                    .iter()
                    .copied()
                    .filter(|(n, _)| *n != skip)
                    .collect::<Vec<_>>(),
            )
        };
        // No version header means 2025-03-26 to rmcp: fine.
        assert!(direct_headers(&without("mcp-protocol-version")));
        assert!(!direct_headers(&without("content-type")));
        assert!(!direct_headers(&without("accept")));
        // Chunked bodies (no length) go to rmcp.
        assert!(!direct_headers(&without("content-length")));
        // rmcp refuses a request without a host.
        assert!(!direct_headers(&without("host")));
        let with = |name: &str, value: &str| {
            let mut pairs: Vec<_> = PLAIN.iter().copied().filter(|(n, _)| *n != name).collect();
            pairs.push((name, value));
            direct_headers(&headers(&pairs))
        };
        assert!(with("content-type", "Application/JSON; charset=utf-8"));
        assert!(!with("content-type", "text/plain"));
        assert!(!with("content-length", "70000"));
        assert!(!with("mcp-protocol-version", "2026-07-28"));
        assert!(!with("mcp-protocol-version", "1999-01-01"));
        assert!(!with("accept", "application/json"));
        assert!(!with("accept", "*/*"));
        assert!(!with("accept", "application/json, text/event-stream;q=0"));
        assert!(with("accept", "text/event-stream ,application/json"));
    }

    #[test]
    fn only_plain_calls_and_cancellations_are_read() {
        let call = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"a-b","arguments":{"x":1}}}"#;
        let Some(Message::Call(id, params)) = read_message(call) else {
            panic!("a plain call");
        };
        assert_eq!(id, RequestId::Number(7));
        assert_eq!(params.name, "a-b");
        assert_eq!(params.arguments.unwrap()["x"], 1);

        let with_progress = br#"{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"a","_meta":{"progressToken":"t"}}}"#;
        assert!(read_message(with_progress).is_none());
        let with_version = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
        assert!(read_message(with_version).is_none());
        let with_other_meta = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"trace":"x"}}}"#;
        assert!(matches!(
            read_message(with_other_meta),
            Some(Message::Call(..))
        ));

        let cancelled = br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1","reason":"x"}}"#;
        assert!(matches!(
            read_message(cancelled),
            Some(Message::Cancelled(RequestId::String(id))) if &*id == "r1"
        ));

        let list = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        assert!(read_message(list).is_none());
        let batch = br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}]"#;
        assert!(read_message(batch).is_none());
        assert!(read_message(b"{\"method\":\"tools/call\"").is_none());
    }

    /// The keep-alive must be a message rmcp accepts for the session, or the session would
    /// end after 5 minutes of direct calls only.
    #[tokio::test]
    async fn rmcp_accepts_the_keep_alive_of_a_session() {
        use crate::mcp_drain::McpDrain;
        use crate::mcp_server::CatalogServer;
        use crate::state::McpHttpService;
        use rmcp::transport::StreamableHttpServerConfig;

        let registry = junction_hub::Registry::start(&Default::default(), "-")
            .await
            .unwrap();
        let drain = Arc::new(McpDrain::default());
        let service = McpHttpService::new(
            move || Ok(CatalogServer::new(registry.clone(), drain.clone())),
            Arc::default(),
            StreamableHttpServerConfig::default().disable_allowed_hosts(),
        );
        let post = |body: &str, session: Option<&str>| {
            let mut request = Request::new(Body::from(body.to_owned()));
            *request.method_mut() = Method::POST;
            *request.uri_mut() = "/mcp".parse().unwrap();
            let headers = request.headers_mut();
            headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:4000"));
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_static("application/json, text/event-stream"),
            );
            if let Some(session) = session {
                headers.insert(SESSION_ID_HEADER, HeaderValue::from_str(session).unwrap());
                headers.insert(
                    PROTOCOL_VERSION_HEADER,
                    HeaderValue::from_static("2025-06-18"),
                );
            }
            request
        };
        let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        let answer = service.handle(post(initialize, None)).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let session = answer.headers()[SESSION_ID_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let answer = service.handle(post(initialized, Some(&session))).await;
        assert_eq!(answer.status(), StatusCode::ACCEPTED);

        // The head of a call the direct path answered, and the keep-alive made from it.
        let (head, ()) = post("", Some(&session)).map(|_| ()).into_parts();
        let answer = service
            .handle(keep_alive(&head, &RequestId::Number(7)))
            .await;
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
    }

    #[tokio::test]
    async fn a_session_id_has_one_entry_and_rmcp_is_shown_it_once_a_minute() {
        let registry = junction_hub::Registry::start(&Default::default(), "-")
            .await
            .unwrap();
        let sessions = DirectSessions::default();
        let downstream = Arc::new(DownstreamSession::new(Arc::clone(&registry)));
        let session = sessions
            .register("s1", Arc::clone(&downstream), None)
            .unwrap();
        // The session's handler registering again gets the same entry; another's gets none.
        let again = sessions.register("s1", downstream, None).unwrap();
        assert!(Arc::ptr_eq(&session, &again));
        let other = Arc::new(DownstreamSession::new(registry));
        assert!(sessions.register("s1", other, None).is_none());
        // rmcp has just seen it.
        assert!(!session.touch_due());

        // A session registered over a minute ago and not seen by rmcp since: one call claims
        // the keep-alive, the next has nothing to do; traffic through rmcp counts too.
        let old = DirectSession {
            born: Instant::now() - TOUCH_AFTER - Duration::from_secs(1),
            ..DirectSession::clone_fresh(&session)
        };
        assert!(old.touch_due());
        assert!(!old.touch_due());
        old.touched_ms.store(0, Ordering::Relaxed);
        old.touched();
        assert!(!old.touch_due());
    }

    impl DirectSession {
        /// A new entry for the same session (no calls, never touched).
        fn clone_fresh(&self) -> DirectSession {
            DirectSession {
                id: Arc::clone(&self.id),
                downstream: Arc::clone(&self.downstream),
                protocol: self.protocol.clone(),
                ended: CancellationToken::new(),
                calls: Mutex::default(),
                touched_ms: AtomicU64::new(0),
                born: self.born,
            }
        }
    }
}
