//! The HTTP+SSE client transport of MCP revision 2024-11-05 ("legacy SSE").
//!
//! The MCP spec deprecated this transport in 2025-03-26, and `rmcp` no longer ships a client
//! for it, but many deployed servers (and LiteLLM configs with `transport: sse`) still speak
//! only this. The wire protocol has two halves:
//!
//! - `GET <url>` with `Accept: text/event-stream` opens a long-lived event stream. The first
//!   event is `event: endpoint` whose data is a URI (usually relative, such as
//!   `/message?sessionId=…`) resolved against the stream's URL. Every server→client message
//!   (responses, server requests, notifications) then arrives as an `event: message` (the
//!   default event name) whose data is one JSON-RPC message.
//! - The client POSTs each of its JSON-RPC messages to that endpoint and gets 202 (or 200)
//!   with a body that means nothing: the answer comes back on the stream.
//!
//! [`connect`] opens the stream and waits, bounded, for the `endpoint` event, so a wrong URL
//! or a server that does not speak this transport fails at connect time with a clear error
//! rather than at the first call. The transport it returns implements `rmcp`'s [`Transport`]:
//! `send` POSTs, `receive` yields the next message from the stream, and the stream ending (or
//! the server answering a POST with 404, which means it forgot the session) makes `receive`
//! return `None`, which `rmcp` reports as a closed transport and the client answers by
//! reconnecting.
//!
//! Errors are [`McpError`]s, also from `send` (the transport's error type), where the variant
//! says what the client may do: `Unauthorized` for 401/403; `Connect` when the message
//! certainly did not reach the server (connection refused, or 404 because the server forgot
//! the session), so it may be sent again on a new session; `Disconnected` when it may have
//! (timeout, connection reset, any other status).
//!
//! Security: the credentials go with the GET and with every POST, so an endpoint on another
//! origin than the configured URL is refused: a server (or anything that can inject an event)
//! must not be able to make the gateway post its credentials elsewhere.
//!
//! The stream is parsed by [`super::event_stream`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, StatusCode, header};
use reqwest::Url;
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::Notify;

use super::event_stream::EventSource;
use crate::McpError;
use crate::auth::Credentials;

/// How long [`connect`] waits for the response headers and the `endpoint` event together.
pub(crate) const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(30);

/// Bound on one POST. Servers answer 202 at once (the result comes on the stream), so a POST
/// that hangs this long means the server is stuck, and the caller deserves an error rather
/// than waiting for its own, longer, call timeout.
const POST_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of an error response body is read into an error message.
const ERROR_BODY_CHARS: usize = 300;

/// How much of a POST response body is read (and discarded) so the connection can be reused;
/// a longer body is not worth reading and the connection is simply dropped.
const DRAIN_BYTES: usize = 64 * 1024;

/// Opens the event stream at `url` and waits for the server to name its message endpoint.
///
/// Errors: an unusable URL is [`McpError::Config`]; HTTP 401/403 is
/// [`McpError::Unauthorized`]; anything else that prevents a session (connection refused, any
/// other status, not an event stream, no `endpoint` event within [`ENDPOINT_TIMEOUT`], an
/// endpoint on another origin) is [`McpError::Connect`].
pub(crate) async fn connect(
    server: &str,
    url: &str,
    http: reqwest::Client,
    credentials: Credentials,
) -> Result<impl Transport<RoleClient, Error = McpError> + 'static, McpError> {
    connect_within(server, url, http, credentials, ENDPOINT_TIMEOUT).await
}

/// [`connect`] with the wait for the `endpoint` event bounded by `timeout` (tests use a short
/// one).
pub(crate) async fn connect_within(
    server: &str,
    url: &str,
    http: reqwest::Client,
    credentials: Credentials,
    timeout: Duration,
) -> Result<impl Transport<RoleClient, Error = McpError> + 'static, McpError> {
    let sse_url = Url::parse(url).map_err(|e| McpError::Config {
        server: server.to_owned(),
        message: format!("SSE URL {:?} is not a valid URL: {e}", redact(url)),
    })?;
    if !matches!(sse_url.scheme(), "http" | "https") {
        return Err(McpError::Config {
            server: server.to_owned(),
            message: format!("SSE URL {} must be http or https", without_query(&sse_url)),
        });
    }
    // Outside the timeout: an OAuth2 token request has its own bound and clearer errors.
    let headers = credentials.request_headers().await?;
    let opened = tokio::time::timeout(
        timeout,
        open_stream(server, &sse_url, &http, headers, &credentials),
    )
    .await
    .map_err(|_| McpError::Connect {
        server: server.to_owned(),
        message: format!(
            "no `endpoint` event from {} within {timeout:?}; is this an MCP HTTP+SSE endpoint?",
            without_query(&sse_url)
        ),
    })??;
    let (events, endpoint) = opened;
    tracing::debug!(
        server,
        endpoint = %without_query(&endpoint),
        "MCP SSE session opened"
    );
    Ok(SseTransport {
        shared: Arc::new(Shared {
            server: server.to_owned(),
            endpoint,
            http,
            credentials,
            session_lost: Notify::new(),
        }),
        events,
        queued: VecDeque::new(),
    })
}

/// The GET, its status checks, and reading up to the `endpoint` event.
async fn open_stream(
    server: &str,
    sse_url: &Url,
    http: &reqwest::Client,
    headers: http::HeaderMap,
    credentials: &Credentials,
) -> Result<(EventSource, Url), McpError> {
    let connect_error = |message: String| McpError::Connect {
        server: server.to_owned(),
        message,
    };
    let target = without_query(sse_url);
    let response = http
        .get(sse_url.clone())
        .headers(headers)
        .header(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        )
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .send()
        .await
        .map_err(|e| connect_error(format!("GET {target} failed: {}", describe(&e))))?;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        // A cached OAuth token may have been revoked: the next attempt should fetch a new one.
        credentials.invalidate_token().await;
        let body = error_body(response).await;
        return Err(McpError::Unauthorized {
            server: server.to_owned(),
            message: format!("GET {target} answered HTTP {status}{body}"),
        });
    }
    if !status.is_success() {
        let body = error_body(response).await;
        return Err(connect_error(format!(
            "GET {target} answered HTTP {status}{body}; is this an MCP HTTP+SSE endpoint?"
        )));
    }
    // A server that answers the GET with JSON or HTML is not an SSE server; saying so beats
    // waiting for an `endpoint` event that will never come. A missing Content-Type is given
    // the benefit of the doubt (the wait for `endpoint` is bounded anyway).
    if let Some(content_type) = response.headers().get(header::CONTENT_TYPE) {
        let is_sse = content_type
            .to_str()
            .map(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            })
            .unwrap_or(false);
        if !is_sse {
            return Err(connect_error(format!(
                "GET {target} answered {content_type:?}, not text/event-stream; \
                 is this an MCP HTTP+SSE endpoint?"
            )));
        }
    }
    // Relative endpoints resolve against where the stream actually came from (after
    // redirects), but the origin that may receive credentials is the configured one.
    let base = response.url().clone();
    let mut events = EventSource::new(server, response.bytes_stream());
    loop {
        let Some(event) = events.next().await else {
            return Err(connect_error(format!(
                "the event stream from {target} ended before the `endpoint` event"
            )));
        };
        if event.name != "endpoint" {
            // The spec makes `endpoint` the first event; nothing was sent yet, so nothing that
            // comes before it can be an answer to us.
            tracing::warn!(
                server,
                event = %event.name,
                "ignoring an SSE event received before the `endpoint` event"
            );
            continue;
        }
        let endpoint =
            resolve_endpoint(sse_url, &base, event.data.trim()).map_err(connect_error)?;
        return Ok((events, endpoint));
    }
}

/// Resolves the `endpoint` event's data against `base` and checks it stays on the origin of
/// the configured `sse_url`.
fn resolve_endpoint(sse_url: &Url, base: &Url, data: &str) -> Result<Url, String> {
    let endpoint = base.join(data).map_err(|e| {
        format!(
            "the `endpoint` event {:?} is not a valid URI reference: {e}",
            redact(data)
        )
    })?;
    if endpoint.origin() != sse_url.origin() {
        return Err(format!(
            "refusing the message endpoint {} on another origin than {} \
             (the credentials would be sent there)",
            without_query(&endpoint),
            without_query(sse_url)
        ));
    }
    Ok(endpoint)
}

/// What `send` futures (which must be `'static`) share with the transport.
struct Shared {
    server: String,
    endpoint: Url,
    http: reqwest::Client,
    credentials: Credentials,
    /// Signalled when a POST gets 404: the server forgot the session, so the stream is of no
    /// use either and `receive` ends, which makes the client reconnect.
    session_lost: Notify,
}

/// A connected HTTP+SSE session: the event stream plus the endpoint to POST to.
struct SseTransport {
    shared: Arc<Shared>,
    events: EventSource,
    /// The rest of a JSON-RPC batch (2024-11-05 allows them) received in one event.
    queued: VecDeque<ServerJsonRpcMessage>,
}

impl Transport<RoleClient> for SseTransport {
    type Error = McpError;

    fn name() -> std::borrow::Cow<'static, str> {
        "junction-mcp SSE (2024-11-05)".into()
    }

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), McpError>> + Send + 'static {
        let shared = Arc::clone(&self.shared);
        async move { shared.post(item).await }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        // Cancel safety (rmcp polls this inside `select!`): the only awaits are the
        // notification and `EventSource::next`, which keeps all its state in `self`.
        loop {
            if let Some(message) = self.queued.pop_front() {
                return Some(message);
            }
            let event = tokio::select! {
                biased;
                () = self.shared.session_lost.notified() => {
                    self.events.stop();
                    return None;
                }
                event = self.events.next() => event?,
            };
            match event.name.as_str() {
                "message" => self.queue_messages(&event.data),
                "endpoint" => tracing::debug!(
                    server = %self.shared.server,
                    "ignoring a repeated `endpoint` event"
                ),
                other => tracing::debug!(
                    server = %self.shared.server,
                    event = other,
                    "ignoring an SSE event of unknown type"
                ),
            }
        }
    }

    async fn close(&mut self) -> Result<(), McpError> {
        // Dropping the response body closes the GET, which is how the server learns the
        // session is over (this transport has no DELETE).
        self.events.stop();
        self.queued.clear();
        Ok(())
    }
}

impl SseTransport {
    /// Parses one `message` event into the queue; malformed data is logged and skipped, as
    /// one bad event should not end a session whose other messages are fine.
    fn queue_messages(&mut self, data: &str) {
        let parsed = if data.trim_start().starts_with('[') {
            serde_json::from_str::<Vec<ServerJsonRpcMessage>>(data)
        } else {
            serde_json::from_str::<ServerJsonRpcMessage>(data).map(|m| vec![m])
        };
        match parsed {
            Ok(messages) => self.queued.extend(messages),
            Err(error) => tracing::warn!(
                server = %self.shared.server,
                %error,
                data = %truncate(data, ERROR_BODY_CHARS),
                "skipping an SSE message that is not a JSON-RPC message"
            ),
        }
    }
}

impl Shared {
    /// POSTs one message to the endpoint; the answer, if any, arrives on the stream.
    async fn post(&self, message: ClientJsonRpcMessage) -> Result<(), McpError> {
        let operation = match &message {
            ClientJsonRpcMessage::Request(request) => request.request.method().to_owned(),
            ClientJsonRpcMessage::Notification(_) => "sending a notification".to_owned(),
            ClientJsonRpcMessage::Response(_) | ClientJsonRpcMessage::Error(_) => {
                "sending a response".to_owned()
            }
        };
        // The variant tells the client whether it may resend: `Connect` means the server
        // certainly did not process the message (no connection, or a session it does not
        // know), `Disconnected` that it may have.
        let lost = |message: String| McpError::Disconnected {
            server: self.server.clone(),
            operation: operation.clone(),
            message,
        };
        let not_delivered = |message: String| McpError::Connect {
            server: self.server.clone(),
            message,
        };
        let target = without_query(&self.endpoint);
        let body = serde_json::to_vec(&message)
            .map_err(|e| lost(format!("cannot serialise the message: {e}")))?;
        let headers = self.credentials.request_headers().await?;
        let response = self
            .http
            .post(self.endpoint.clone())
            .headers(headers)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .timeout(POST_TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let message = format!("POST {target} failed: {}", describe(&e));
                if e.is_connect() {
                    not_delivered(message)
                } else {
                    lost(message)
                }
            })?;
        let status = response.status();
        if status.is_success() {
            drain(response).await;
            return Ok(());
        }
        let body = error_body(response).await;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            self.credentials.invalidate_token().await;
            return Err(McpError::Unauthorized {
                server: self.server.clone(),
                message: format!("POST {target} answered HTTP {status}{body}"),
            });
        }
        if status == StatusCode::NOT_FOUND {
            // `notify_one` keeps a permit when `receive` is not waiting right now, so the next
            // `receive` still ends.
            self.session_lost.notify_one();
            return Err(not_delivered(format!(
                "POST {target} answered HTTP {status}{body}: the server no longer knows \
                 this session"
            )));
        }
        Err(lost(format!("POST {target} answered HTTP {status}{body}")))
    }
}

/// Reads and discards a short success body so the connection goes back to the pool.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0usize;
    while read < DRAIN_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => return,
        }
    }
}

/// `": <first characters of the body>"` for error messages, or nothing for an empty body.
async fn error_body(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body_excerpt(&bytes)
}

/// `": <first characters of the body>"` on one line for error messages (bodies are often
/// HTML pages or pretty-printed JSON), or nothing for an empty body.
pub(crate) fn body_excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        String::new()
    } else {
        format!(": {}", truncate(&text, ERROR_BODY_CHARS))
    }
}

fn truncate(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// A URL for messages: query strings can carry secrets (and session ids), so they are left
/// out.
fn without_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    shown.to_string()
}

/// [`without_query`] for a string that may not even parse.
fn redact(text: &str) -> &str {
    text.split('?').next().unwrap_or(text)
}

/// A reqwest error with its causes ("error sending request" alone hides "connection
/// refused"), without the URL, which may hold a query string.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "error reading the body"
    } else {
        "error sending the request"
    }
    .to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_resolution_and_origin_check() {
        let sse = Url::parse("http://127.0.0.1:3001/sse?token=s").unwrap_or_else(|e| panic!("{e}"));
        let resolved = resolve_endpoint(&sse, &sse, "/message?sessionId=abc");
        assert_eq!(
            resolved.map(String::from),
            Ok("http://127.0.0.1:3001/message?sessionId=abc".to_owned())
        );
        let relative = resolve_endpoint(&sse, &sse, "messages/?session_id=1");
        assert_eq!(
            relative.map(String::from),
            Ok("http://127.0.0.1:3001/messages/?session_id=1".to_owned())
        );
        let same = resolve_endpoint(&sse, &sse, "http://127.0.0.1:3001/m");
        assert!(same.is_ok());
        for other in [
            "http://evil.example/m",
            "https://127.0.0.1:3001/m",
            "http://127.0.0.1:3002/m",
            "//evil.example/m",
            "data:text/plain,x",
        ] {
            let refused = resolve_endpoint(&sse, &sse, other);
            assert!(refused.is_err(), "{other} was accepted");
            assert!(!format!("{refused:?}").contains("token=s"));
        }
    }

    #[test]
    fn messages_for_logs_hide_query_strings() {
        let url =
            Url::parse("https://user:pw@h/sse?key=secret#f").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(without_query(&url), "https://user@h/sse");
        assert_eq!(redact("not a url?key=secret"), "not a url");
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
