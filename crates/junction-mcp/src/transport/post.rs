//! Requests the client POSTs itself on a streamable HTTP session that `rmcp` opened.
//!
//! Through `rmcp`, one request crosses the peer's channel, the service loop, the transport
//! worker and the task reading the answer before it reaches the HTTP client, and the answer
//! comes back the same way: hand-offs that cost a gateway more than the HTTP exchange itself
//! (`bench/README.md`, "Where the gateway's time goes"). So the client sends its requests
//! itself, on the same session: the caller's task POSTs and reads the answer, with the
//! calling thread's HTTP client, so a gateway's request stays on its thread.
//!
//! The session stays `rmcp`'s: it initializes it, keeps its standalone GET stream, answers
//! the server's requests and ends it with `DELETE`. [`RecordingClient`], the HTTP client
//! given to `rmcp`, notes what `rmcp` sends with every POST (URL, session id, bearer token,
//! the configured headers and `MCP-Protocol-Version`), and [`Poster`] sends the same. That is
//! only right for the revisions before 2026-07-28, whose POSTs carry no per-request headers;
//! the client uses a poster only on such sessions.
//!
//! The answer is a JSON body or an event stream. Anything else on the stream (notifications,
//! the server's own requests such as sampling or elicitation) goes to the session's `rmcp`
//! loop through the transport's inbox ([`super::Watched`]), as if it had come over the
//! transport, so it is handled exactly as before. A stream that ends before the answer is
//! resumed with `GET` and `Last-Event-ID`, as servers of 2025-11-25 may close it on purpose.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::stream::BoxStream;
use http::{HeaderName, HeaderValue, StatusCode, header};
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, ErrorData, JsonRpcMessage, JsonRpcRequest, RequestId,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use tokio::sync::mpsc;

use super::TransportFailure;
use super::event_stream::EventSource;
use super::http::classify_reqwest;
use super::sse::body_excerpt;

/// Largest JSON answer read (the event decoder has the same bound per event).
const MAX_BODY_BYTES: usize = super::event_stream::MAX_EVENT_BYTES;

/// How much of an error answer is read for its JSON-RPC error or the message.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How long the rest of an answer's stream is awaited for its connection to be reused.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a stream that ended before the answer is resumed.
const MAX_RESUMPTIONS: usize = 4;

/// Waits before resuming: the server's `retry` when it gave one, within these bounds.
const RESUME_DELAY_DEFAULT: Duration = Duration::from_millis(100);
const RESUME_DELAY_MAX: Duration = Duration::from_secs(5);

/// Messages that arrived with an answer but are not it, for the session's `rmcp` loop.
pub(crate) type Inbox = mpsc::UnboundedReceiver<ServerJsonRpcMessage>;

/// What `rmcp` sent with its last POST: what our own POSTs must carry.
struct Wire {
    /// `rmcp`'s URL, parsed once rather than by every request.
    url: reqwest::Url,
    uri: Arc<str>,
    session_id: Option<Arc<str>>,
    bearer: Option<String>,
    headers: HashMap<HeaderName, HeaderValue>,
}

#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Option<Arc<Wire>>>>);

impl Recorded {
    fn set(&self, wire: Wire) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(wire));
    }

    fn url_of(&self, uri: &Arc<str>) -> Option<reqwest::Url> {
        let recorded = self.get()?;
        (recorded.uri == *uri).then(|| recorded.url.clone())
    }

    fn get(&self) -> Option<Arc<Wire>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The HTTP client `rmcp`'s streamable HTTP transport uses: `reqwest`, noting what each POST
/// carries for the [`Poster`] of the same session.
#[derive(Clone)]
pub(crate) struct RecordingClient {
    http: reqwest::Client,
    recorded: Recorded,
}

impl RecordingClient {
    /// Notes what a POST of `message` carries, unless it is a handshake request: those go
    /// out before the session exists, without its id or protocol version.
    fn record(
        &self,
        message: &ClientJsonRpcMessage,
        uri: &Arc<str>,
        session_id: &Option<Arc<str>>,
        bearer: &Option<String>,
        headers: &HashMap<HeaderName, HeaderValue>,
    ) {
        if let JsonRpcMessage::Request(request) = message
            && matches!(
                request.request,
                ClientRequest::InitializeRequest(_) | ClientRequest::DiscoverRequest(_)
            )
        {
            return;
        }
        let url = match self.recorded.url_of(uri) {
            Some(url) => url,
            None => match reqwest::Url::parse(uri) {
                Ok(url) => url,
                // rmcp's own POST fails the same way; nothing to record.
                Err(_) => return,
            },
        };
        self.recorded.set(Wire {
            url,
            uri: Arc::clone(uri),
            session_id: session_id.clone(),
            bearer: bearer.clone(),
            headers: headers.clone(),
        });
    }
}

impl StreamableHttpClient for RecordingClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        bearer: Option<String>,
        headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        // rmcp calls the bounded variant; this one gets the same bound as our own reads.
        self.post_message_with_max_sse_event_size(
            uri,
            message,
            session_id,
            bearer,
            headers,
            super::event_stream::MAX_EVENT_BYTES,
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        bearer: Option<String>,
        headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        self.record(&message, &uri, &session_id, &bearer, &headers);
        self.http
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                bearer,
                headers,
                max_sse_event_size,
            )
            .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        bearer: Option<String>,
        headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<reqwest::Error>> {
        self.http
            .delete_session(uri, session_id, bearer, headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        bearer: Option<String>,
        headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<
        BoxStream<'static, Result<sse_stream::Sse, SseError>>,
        StreamableHttpError<reqwest::Error>,
    > {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            bearer,
            headers,
            super::event_stream::MAX_EVENT_BYTES,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        bearer: Option<String>,
        headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<
        BoxStream<'static, Result<sse_stream::Sse, SseError>>,
        StreamableHttpError<reqwest::Error>,
    > {
        self.http
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                bearer,
                headers,
                max_sse_event_size,
            )
            .await
    }
}

/// How a request the poster sent was answered.
#[allow(
    clippy::large_enum_variant,
    reason = "made once per request and taken apart at once: a move is cheaper than a box"
)]
pub(crate) enum Answer {
    Result(ServerResult),
    /// A JSON-RPC error for this request, or one without an id (from a server that could not
    /// read it, such as one that does not know the session).
    Error(ErrorData),
}

/// Sends requests on one session, the way `rmcp` would, and reads their answers.
pub(crate) struct Poster {
    server: Arc<str>,
    /// The session's own client, or `None` to use the calling thread's (see [`thread_client`]).
    http: Option<reqwest::Client>,
    recorded: Recorded,
    inbox: mpsc::UnboundedSender<ServerJsonRpcMessage>,
    next_id: AtomicU64,
}

/// A poster, the client `rmcp` must use for it to work, and the inbox for the transport.
pub(crate) struct Parts {
    pub(crate) poster: Poster,
    pub(crate) client: RecordingClient,
    pub(crate) inbox: Inbox,
}

/// Makes the parts for one session over `http`. `per_thread`: the session's HTTP client has
/// the default settings, so the calling thread's client (same settings) may be used instead.
pub(crate) fn parts(server: Arc<str>, http: reqwest::Client, per_thread: bool) -> Parts {
    let recorded = Recorded::default();
    let (sender, inbox) = mpsc::unbounded_channel();
    Parts {
        poster: Poster {
            server,
            http: (!per_thread).then(|| http.clone()),
            recorded: recorded.clone(),
            inbox: sender,
            next_id: AtomicU64::new(1),
        },
        client: RecordingClient { http, recorded },
        inbox,
    }
}

impl Poster {
    /// A new request id. Strings, so they never meet `rmcp`'s numbers on the same session.
    pub(crate) fn next_id(&self) -> RequestId {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        RequestId::String(Arc::from(format!("junction-{n}")))
    }

    fn client(&self) -> Result<reqwest::Client, TransportFailure> {
        match &self.http {
            Some(http) => Ok(http.clone()),
            None => thread_client(),
        }
    }

    /// Whether `rmcp` has sent something after the handshake (`notifications/initialized`
    /// at least), so the session's id and protocol version are known.
    pub(crate) fn ready(&self) -> bool {
        self.recorded.get().is_some()
    }

    /// POSTs `request` with `id` and reads its answer. The caller bounds the time.
    pub(crate) async fn send(
        &self,
        id: RequestId,
        request: ClientRequest,
    ) -> Result<Answer, TransportFailure> {
        let Some(wire) = self.recorded.get() else {
            return Err(TransportFailure::NotDelivered(
                "the session has sent nothing yet".to_owned(),
            ));
        };
        let decode = decoder_for(&request);
        let message: ClientJsonRpcMessage =
            JsonRpcMessage::Request(JsonRpcRequest::new(id.clone(), request));
        let body = serde_json::to_vec(&message).map_err(|e| {
            TransportFailure::NotDelivered(format!("cannot serialize the request: {e}"))
        })?;
        let http = self.client()?;
        let mut post = http
            .post(wire.url.clone())
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json");
        post = with_wire(post, &wire);
        let response = post
            .body(body)
            .send()
            .await
            .map_err(|e| classify_reqwest(&e))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(TransportFailure::Unauthorized(format!("HTTP {status}")));
        }
        if status == StatusCode::NOT_FOUND && wire.session_id.is_some() {
            return Err(TransportFailure::NotDelivered(
                "the server no longer knows this session (HTTP 404)".to_owned(),
            ));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim_start()
            .to_ascii_lowercase();
        if !status.is_success() {
            let body = read_bounded(response, MAX_ERROR_BODY_BYTES).await?;
            if let Ok(JsonRpcMessage::Error(error)) =
                serde_json::from_slice::<ServerJsonRpcMessage>(&body)
            {
                return Ok(Answer::Error(error.error));
            }
            return Err(TransportFailure::Lost(format!(
                "HTTP {status}{}",
                body_excerpt(&body)
            )));
        }
        if content_type.starts_with("text/event-stream") {
            return self.read_stream(&wire, &id, decode, response).await;
        }
        if content_type.starts_with("application/json") {
            let body = read_bounded(response, MAX_BODY_BYTES).await?;
            let body = String::from_utf8(body)
                .map_err(|_| TransportFailure::Lost("the answer is not UTF-8".to_owned()))?;
            return match self.take(&body, &id, decode) {
                Ok(Some(answer)) => Ok(answer),
                Ok(None) => Err(TransportFailure::Lost(
                    "the JSON answer is not the answer to the request".to_owned(),
                )),
                Err(e) => Err(TransportFailure::Lost(format!(
                    "the answer is not a JSON-RPC message: {e}"
                ))),
            };
        }
        Err(TransportFailure::Lost(format!(
            "HTTP {status} with content type {content_type:?}, not JSON or an event stream"
        )))
    }

    /// Reads events up to the answer to `id`, resuming the stream when it ends early.
    async fn read_stream(
        &self,
        wire: &Wire,
        id: &RequestId,
        decode: Decode,
        response: reqwest::Response,
    ) -> Result<Answer, TransportFailure> {
        let mut events = EventSource::answer(&self.server, response.bytes_stream());
        let mut last_event_id: Option<String> = None;
        let mut resumptions = 0;
        loop {
            while let Some(event) = events.next().await {
                if event.name != "message" || event.data.is_empty() {
                    continue; // a priming event, or one that is not a message
                }
                match self.take(&event.data, id, decode) {
                    Ok(Some(answer)) => {
                        release(events);
                        return Ok(answer);
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(
                        server = %self.server,
                        %error,
                        "ignoring an event that is not a JSON-RPC message"
                    ),
                }
            }
            if let Some(seen) = events.last_event_id().filter(|id| !id.is_empty()) {
                last_event_id = Some(seen.to_owned());
            }
            let Some(resume_from) = last_event_id.clone() else {
                return Err(TransportFailure::Lost(
                    "the event stream ended before the answer".to_owned(),
                ));
            };
            if resumptions == MAX_RESUMPTIONS {
                return Err(TransportFailure::Lost(format!(
                    "the event stream ended before the answer, {MAX_RESUMPTIONS} times"
                )));
            }
            resumptions += 1;
            let delay = events
                .retry()
                .unwrap_or(RESUME_DELAY_DEFAULT)
                .min(RESUME_DELAY_MAX);
            tokio::time::sleep(delay).await;
            events = self.resume(wire, &resume_from).await?;
        }
    }

    /// Reopens the stream after `last_event_id` (`GET` with `Last-Event-ID`).
    async fn resume(
        &self,
        wire: &Wire,
        last_event_id: &str,
    ) -> Result<EventSource, TransportFailure> {
        let http = self.client()?;
        let mut get = http
            .get(wire.url.clone())
            .header(header::ACCEPT, "text/event-stream");
        get = with_wire(get, wire);
        let response = get
            .header("last-event-id", last_event_id)
            .send()
            .await
            .map_err(|e| classify_reqwest(&e))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(TransportFailure::Unauthorized(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(TransportFailure::Lost(format!(
                "resuming the event stream answered HTTP {status}"
            )));
        }
        Ok(EventSource::answer(&self.server, response.bytes_stream()))
    }

    /// The answer to `id` if the JSON-RPC message `text` is it; requests and notifications
    /// go to the session's loop. Only the envelope is read first: the result is decoded once
    /// it is known to be the answer, as what it answers (see [`decoder_for`]).
    fn take(
        &self,
        text: &str,
        id: &RequestId,
        decode: Decode,
    ) -> serde_json::Result<Option<Answer>> {
        let envelope: Envelope<'_> = serde_json::from_str(text)?;
        if envelope.method.is_some() {
            let message: ServerJsonRpcMessage = serde_json::from_str(text)?;
            if self.inbox.send(message).is_err() {
                tracing::debug!(server = %self.server, "the session ended; message dropped");
            }
            return Ok(None);
        }
        if let Some(error) = envelope.error {
            // An error without an id comes from a server that could not read it: ours.
            return Ok(envelope
                .id
                .is_none_or(|e| e == *id)
                .then_some(Answer::Error(error)));
        }
        match (envelope.id, envelope.result) {
            (Some(answered), Some(result)) if answered == *id => {
                decode(result.get()).map(|result| Some(Answer::Result(result)))
            }
            _ => {
                tracing::debug!(
                    server = %self.server,
                    "ignoring an answer to another request on a request's stream"
                );
                Ok(None)
            }
        }
    }
}

/// The fields of a JSON-RPC message that say what it is; `result` is kept as text.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    id: Option<RequestId>,
    #[serde(default)]
    method: Option<serde::de::IgnoredAny>,
    #[serde(borrow, default)]
    result: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    error: Option<ErrorData>,
}

/// Turns a `result` into what the request expects.
type Decode = fn(&str) -> serde_json::Result<ServerResult>;

/// How to decode the result of `request`: a `tools/call` result straight as one, sparing the
/// trial of every kind of result that decoding an untagged [`ServerResult`] makes (the
/// 2026-07-28 `InputRequiredResult` is not a concern: posters serve earlier revisions).
fn decoder_for(request: &ClientRequest) -> Decode {
    match request {
        ClientRequest::CallToolRequest(_) => |text| {
            serde_json::from_str::<rmcp::model::CallToolResult>(text)
                .map(ServerResult::CallToolResult)
        },
        _ => |text| serde_json::from_str::<ServerResult>(text),
    }
}

/// Reads the rest of an answer's stream, so that its connection goes back to the pool: a
/// body dropped before its end takes the connection with it, and the next request pays for
/// a new one (the server too). Servers end the stream right after the answer, so the end has
/// usually arrived with it; otherwise it is awaited in the background, for a bounded time.
fn release(mut events: EventSource) {
    if let Some(None) = events.next().now_or_never() {
        return;
    }
    tokio::spawn(async move {
        let drained = async { while events.next().await.is_some() {} };
        let _ = tokio::time::timeout(RELEASE_TIMEOUT, drained).await;
    });
}

/// Adds what `rmcp` sends with every request of the session.
fn with_wire(mut request: reqwest::RequestBuilder, wire: &Wire) -> reqwest::RequestBuilder {
    if let Some(token) = &wire.bearer {
        request = request.bearer_auth(token);
    }
    for (name, value) in &wire.headers {
        request = request.header(name, value);
    }
    if let Some(session_id) = &wire.session_id {
        request = request.header("mcp-session-id", session_id.as_ref());
    }
    request
}

thread_local! {
    /// One default client per thread: a connection is then driven by the thread that uses
    /// it, which matters under the gateway's thread-per-core serving.
    static THREAD_CLIENT: RefCell<Option<reqwest::Client>> = const { RefCell::new(None) };
}

/// This thread's client with the library's default settings (no CA bundle, verification on);
/// the session's own settings are the same, or this is not used.
fn thread_client() -> Result<reqwest::Client, TransportFailure> {
    THREAD_CLIENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let client = crate::tls::http_client("MCP", &crate::TlsConfig::default())
            .map_err(|e| TransportFailure::NotDelivered(e.to_string()))?;
        *slot = Some(client.clone());
        Ok(client)
    })
}

async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, TransportFailure> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify_reqwest(&e))? {
        if body.len() + chunk.len() > limit {
            return Err(TransportFailure::Lost(format!(
                "the answer is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
