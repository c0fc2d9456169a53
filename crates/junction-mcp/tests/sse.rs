//! The legacy HTTP+SSE transport (`src/transport/sse.rs`, MCP 2024-11-05) against the real
//! `@modelcontextprotocol/server-everything` in `sse` mode, and against a small scripted
//! server for what the real one cannot be made to do (refuse credentials, name a foreign
//! endpoint, send broken events, forget the session).
//!
//! The transport's `connect` and the `Credentials` it takes are crate-private (the public
//! surface is the client built on top of them), so this test crate compiles their source
//! files as its own modules and drives the transport directly: through `rmcp`'s client
//! service for real sessions, and through the `Transport` trait for the wire details.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// What the included source files reach as `crate::…`.
use junction_mcp::{McpError, TlsConfig};

#[allow(dead_code)]
#[path = "../src/auth.rs"]
mod auth;
#[allow(dead_code)]
#[path = "../src/transport/event_stream.rs"]
mod event_stream;
#[allow(dead_code)]
#[path = "../src/transport/sse.rs"]
mod sse;
#[path = "../src/tls.rs"]
mod tls;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, GetPromptRequestParams, ReadResourceRequestParams,
    RequestId, ServerJsonRpcMessage,
};
use rmcp::service::QuitReason;
use rmcp::transport::Transport;
use serde_json::json;
use tokio::sync::mpsc;

/// Upper bound for anything that should happen "promptly" (a stream noticing its end, …).
const PROMPT: Duration = Duration::from_secs(10);

fn http() -> reqwest::Client {
    tls::http_client("test", &TlsConfig::default()).unwrap()
}

fn credentials(auth: auth::Auth) -> auth::Credentials {
    auth::Credentials::new("test", &auth, &BTreeMap::new(), http()).unwrap()
}

async fn connect(
    url: &str,
    auth: auth::Auth,
) -> Result<impl Transport<rmcp::RoleClient, Error = McpError> + 'static, McpError> {
    sse::connect("test", url, http(), credentials(auth)).await
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// The real server

/// `mcp-server-everything sse` on a free port, killed when dropped.
struct Everything {
    child: tokio::process::Child,
    port: u16,
}

impl Everything {
    async fn start() -> Everything {
        let bin = std::env::var_os("JUNCTION_TEST_NODE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../tests/node/node_modules/.bin"
                ))
            })
            .join("mcp-server-everything");
        assert!(
            bin.exists(),
            "{} is missing: run `npm ci --prefix tests/node` (scripts/test does)",
            bin.display()
        );
        let port = free_port();
        let mut child = tokio::process::Command::new(&bin)
            .arg("sse")
            .env("PORT", port.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("mcp-server-everything exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "mcp-server-everything did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Everything { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn text_of(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("")
}

#[tokio::test]
async fn a_real_session_lists_and_calls_tools_prompts_and_resources() {
    let server = Everything::start().await;
    let transport = connect(&server.url("/sse"), auth::Auth::None)
        .await
        .unwrap();
    let client = ().serve(transport).await.unwrap();
    let info = client.peer_info().unwrap();
    assert!(info.server_info.is_some());

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"echo") && names.contains(&"get-sum"),
        "{names:?}"
    );

    let echo = client
        .call_tool(
            CallToolRequestParams::new("echo").with_arguments(
                json!({"message": "hello over sse"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert!(text_of(&echo).contains("hello over sse"), "{echo:?}");

    // Many calls in flight at once: each answer must come back to its own caller.
    let calls = (0..20).map(|i| {
        let peer = client.peer().clone();
        async move {
            let args = json!({"a": i, "b": 1000});
            let result = peer
                .call_tool(
                    CallToolRequestParams::new("get-sum")
                        .with_arguments(args.as_object().unwrap().clone()),
                )
                .await
                .unwrap();
            (i, text_of(&result))
        }
    });
    for (i, text) in futures_util::future::join_all(calls).await {
        assert!(text.contains(&(i + 1000).to_string()), "call {i}: {text}");
    }

    let prompts = client.list_all_prompts().await.unwrap();
    assert!(
        prompts.iter().any(|p| p.name == "simple-prompt"),
        "{prompts:?}"
    );
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("simple-prompt"))
        .await
        .unwrap();
    assert!(!prompt.messages.is_empty());

    let resources = client.list_all_resources().await.unwrap();
    let first = resources
        .first()
        .expect("server-everything lists resources");
    let read = client
        .read_resource(ReadResourceRequestParams::new(first.uri.clone()))
        .await
        .unwrap();
    assert!(!read.contents.is_empty());

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn killing_the_server_closes_the_transport_promptly() {
    let mut server = Everything::start().await;
    let transport = connect(&server.url("/sse"), auth::Auth::None)
        .await
        .unwrap();
    let client = ().serve(transport).await.unwrap();
    client.list_all_tools().await.unwrap();
    let peer = client.peer().clone();

    server.child.kill().await.unwrap();
    let quit = tokio::time::timeout(PROMPT, client.waiting())
        .await
        .expect("the service did not notice the stream ending")
        .unwrap();
    assert!(matches!(quit, QuitReason::Closed), "{quit:?}");
    assert!(peer.is_transport_closed());
    assert!(peer.list_all_tools().await.is_err());
}

#[tokio::test]
async fn a_wrong_path_is_a_connect_error_naming_the_status() {
    let server = Everything::start().await;
    let error = connect(&server.url("/nope"), auth::Auth::None)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("404"), "{error}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error() {
    let url = format!("http://127.0.0.1:{}/sse", free_port());
    let error = connect(&url, auth::Auth::None).await.err().unwrap();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(
        error.to_string().to_lowercase().contains("connect"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unusable_url_is_a_config_error() {
    for url in ["not a url", "ftp://127.0.0.1/sse"] {
        let error = connect(url, auth::Auth::None).await.err().unwrap();
        assert!(matches!(error, McpError::Config { .. }), "{url}: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// A scripted server: `GET /sse` streams whatever the test pushes, `POST /message` records the
// request and answers the status the test chose.

struct Fake {
    addr: SocketAddr,
    /// What the event stream sends next; dropping it ends the stream.
    events: Option<mpsc::UnboundedSender<String>>,
    posts: mpsc::UnboundedReceiver<Post>,
    post_status: Arc<AtomicU16>,
    /// The accept loop; aborting it closes the listener but not the open connections.
    listener: tokio::task::JoinHandle<std::io::Result<()>>,
}

#[derive(Debug)]
struct Post {
    uri: Uri,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone)]
struct FakeState {
    stream: Arc<Mutex<Option<mpsc::UnboundedReceiver<String>>>>,
    posts: mpsc::UnboundedSender<Post>,
    post_status: Arc<AtomicU16>,
}

impl Fake {
    async fn start() -> Fake {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (posts_tx, posts_rx) = mpsc::unbounded_channel();
        let post_status = Arc::new(AtomicU16::new(202));
        let state = FakeState {
            stream: Arc::new(Mutex::new(Some(events_rx))),
            posts: posts_tx,
            post_status: post_status.clone(),
        };
        let app = Router::new()
            .route("/sse", get(fake_stream))
            .route("/message", axum::routing::post(fake_post))
            .route(
                "/forbidden",
                get(|| async { (StatusCode::FORBIDDEN, "not for you") }),
            )
            .route(
                "/json",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        "{\"hello\":1}",
                    )
                }),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = tokio::spawn(async move { axum::serve(listener, app).await });
        Fake {
            addr,
            listener,
            events: Some(events_tx),
            posts: posts_rx,
            post_status,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn push(&self, raw: &str) {
        self.events.as_ref().unwrap().send(raw.to_owned()).unwrap();
    }

    async fn next_post(&mut self) -> Post {
        tokio::time::timeout(PROMPT, self.posts.recv())
            .await
            .unwrap()
            .unwrap()
    }
}

const GOOD: &str = "good-token";

async fn fake_stream(State(state): State<FakeState>, headers: HeaderMap) -> Response {
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {GOOD}"))
    {
        return (StatusCode::UNAUTHORIZED, "bad token").into_response();
    }
    if headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) != Some("text/event-stream") {
        return (StatusCode::NOT_ACCEPTABLE, "wants text/event-stream").into_response();
    }
    let Some(events) = state.stream.lock().unwrap().take() else {
        return (StatusCode::CONFLICT, "one stream per test").into_response();
    };
    let body = futures_util::stream::unfold(events, |mut events| async move {
        let chunk = events.recv().await?;
        Some((Ok::<_, Infallible>(Bytes::from(chunk)), events))
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(body),
    )
        .into_response()
}

async fn fake_post(
    State(state): State<FakeState>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let _ = state.posts.send(Post { uri, headers, body });
    StatusCode::from_u16(state.post_status.load(Ordering::SeqCst)).unwrap()
}

fn good() -> auth::Auth {
    auth::Auth::BearerToken(GOOD.into())
}

fn ping(id: i64) -> ClientJsonRpcMessage {
    serde_json::from_value(json!({"jsonrpc": "2.0", "id": id, "method": "ping"})).unwrap()
}

fn response_id(message: &ServerJsonRpcMessage) -> Option<RequestId> {
    match message {
        ServerJsonRpcMessage::Response(response) => Some(response.id.clone()),
        _ => None,
    }
}

async fn receive<T: Transport<rmcp::RoleClient>>(
    transport: &mut T,
) -> Option<ServerJsonRpcMessage> {
    tokio::time::timeout(PROMPT, transport.receive())
        .await
        .expect("receive did not return in time")
}

#[tokio::test]
async fn credentials_go_with_the_stream_and_every_post_and_answers_come_back() {
    let mut fake = Fake::start().await;
    fake.push(": keep-alive comment first\n\n");
    fake.push("event: endpoint\r\ndata: /message?sessionId=s1\r\n\r\n");
    let mut transport = connect(&fake.url("/sse"), good()).await.unwrap();

    for id in [1, 2] {
        transport.send(ping(id)).await.unwrap();
        let post = fake.next_post().await;
        assert_eq!(post.uri.path(), "/message");
        assert_eq!(post.uri.query(), Some("sessionId=s1"));
        assert_eq!(
            post.headers[header::AUTHORIZATION],
            format!("Bearer {GOOD}")
        );
        assert_eq!(post.headers[header::CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
        assert_eq!(body, json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
    }

    // Junk is skipped, unknown event types are ignored, the default event name is `message`,
    // and a message may be split across chunks anywhere.
    fake.push("data: this is not json\n\n");
    fake.push("event: message\ndata: {\"jsonrpc\": \"2.0\", \"no\": \"method\"}\n\n");
    fake.push("event: heartbeat\ndata: {}\n\n");
    fake.push("data: {\"jsonrpc\":\"2.0\",");
    fake.push("\"id\":1,\"result\":{}}\n");
    fake.push("\n");
    assert_eq!(
        response_id(&receive(&mut transport).await.unwrap()),
        Some(RequestId::Number(1))
    );

    // A batch (allowed in 2024-11-05) arrives as its messages, in order.
    fake.push(
        "event: message\ndata: [{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"},\
         {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}]\n\n",
    );
    let notification = receive(&mut transport).await.unwrap();
    assert!(
        matches!(notification, ServerJsonRpcMessage::Notification(_)),
        "{notification:?}"
    );
    assert_eq!(
        response_id(&receive(&mut transport).await.unwrap()),
        Some(RequestId::Number(2))
    );

    // The server ending the stream ends the transport.
    fake.events = None;
    assert!(receive(&mut transport).await.is_none());
    assert!(receive(&mut transport).await.is_none());
}

#[tokio::test]
async fn refused_credentials_are_unauthorized_naming_the_status() {
    let fake = Fake::start().await;
    let error = connect(&fake.url("/sse"), auth::Auth::BearerToken("wrong".into()))
        .await
        .err()
        .unwrap();
    assert!(matches!(error, McpError::Unauthorized { .. }), "{error}");
    assert!(error.to_string().contains("401"), "{error}");
    assert!(
        !error.to_string().contains("wrong"),
        "the token leaked into {error}"
    );

    let error = connect(&fake.url("/forbidden"), good())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, McpError::Unauthorized { .. }), "{error}");
    assert!(error.to_string().contains("403"), "{error}");
}

#[tokio::test]
async fn a_server_that_is_not_sse_fails_at_connect() {
    let fake = Fake::start().await;
    let error = connect(&fake.url("/json"), good()).await.err().unwrap();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("text/event-stream"), "{error}");
}

#[tokio::test]
async fn no_endpoint_event_in_time_is_a_connect_error() {
    let fake = Fake::start().await;
    fake.push(": a comment, and an early message that is no endpoint\n\n");
    fake.push("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
    let started = Instant::now();
    let error = sse::connect_within(
        "test",
        &fake.url("/sse"),
        http(),
        credentials(good()),
        Duration::from_millis(300),
    )
    .await
    .err()
    .unwrap();
    assert!(started.elapsed() < PROMPT);
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("endpoint"), "{error}");
}

#[tokio::test]
async fn a_stream_that_ends_before_the_endpoint_is_a_connect_error() {
    let mut fake = Fake::start().await;
    fake.push("event: message\ndata: {}\n\n");
    fake.events = None;
    let error = connect(&fake.url("/sse"), good()).await.err().unwrap();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("ended before"), "{error}");
}

#[tokio::test]
async fn an_endpoint_on_another_origin_is_refused() {
    for endpoint in [
        "http://127.0.0.1:1/message?sessionId=x",
        "//evil.example/message",
        "https://evil.example/message",
    ] {
        let fake = Fake::start().await;
        fake.push(&format!("event: endpoint\ndata: {endpoint}\n\n"));
        let error = connect(&fake.url("/sse"), good()).await.err().unwrap();
        assert!(
            matches!(error, McpError::Connect { .. }),
            "{endpoint}: {error}"
        );
        assert!(error.to_string().contains("another origin"), "{error}");
    }
}

#[tokio::test]
async fn an_absolute_endpoint_on_the_same_origin_is_used() {
    let mut fake = Fake::start().await;
    fake.push(&format!(
        "event: endpoint\ndata: {}\n\n",
        fake.url("/message?sessionId=abs")
    ));
    let mut transport = connect(&fake.url("/sse"), good()).await.unwrap();
    transport.send(ping(1)).await.unwrap();
    assert_eq!(fake.next_post().await.uri.query(), Some("sessionId=abs"));
}

#[tokio::test]
async fn a_forgotten_session_fails_the_send_and_ends_the_stream() {
    let fake = Fake::start().await;
    fake.push("event: endpoint\ndata: /message?sessionId=gone\n\n");
    let mut transport = connect(&fake.url("/sse"), good()).await.unwrap();

    fake.post_status.store(500, Ordering::SeqCst);
    let error = transport.send(ping(1)).await.err().unwrap();
    assert!(matches!(error, McpError::Disconnected { .. }), "{error}");
    assert!(
        error.to_string().contains("500") && error.to_string().contains("ping"),
        "{error}"
    );

    fake.post_status.store(401, Ordering::SeqCst);
    let error = transport.send(ping(2)).await.err().unwrap();
    assert!(matches!(error, McpError::Unauthorized { .. }), "{error}");

    fake.post_status.store(404, Ordering::SeqCst);
    // 404: the server did not process the message (`Connect`: safe to resend elsewhere).
    let error = transport.send(ping(3)).await.err().unwrap();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("404"), "{error}");
    // The stream is still open on the server side, yet the transport is over.
    assert!(receive(&mut transport).await.is_none());
}

#[tokio::test]
async fn a_refused_post_is_a_not_delivered_send_error() {
    let fake = Fake::start().await;
    fake.push("event: endpoint\ndata: /message?sessionId=r\n\n");
    let mut transport = connect(&fake.url("/sse"), good()).await.unwrap();
    // The stream's connection stays up, but no new connection is accepted.
    fake.listener.abort();
    let _ = fake.listener.await;
    let error = transport.send(ping(1)).await.err().unwrap();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("refused"), "{error}");
}

#[tokio::test]
async fn a_post_to_a_dead_server_is_a_send_error() {
    let server = Everything::start().await;
    let mut transport = connect(&server.url("/sse"), auth::Auth::None)
        .await
        .unwrap();
    drop(server);
    // kill_on_drop only starts the kill; the send must fail either way (refused, or reset).
    let error = tokio::time::timeout(PROMPT, async {
        loop {
            match transport.send(ping(1)).await {
                Err(error) => break error,
                Ok(()) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .unwrap();
    // Refused (`Connect`) or reset mid-request (`Disconnected`), depending on the timing.
    assert!(
        matches!(
            error,
            McpError::Connect { .. } | McpError::Disconnected { .. }
        ),
        "{error}"
    );
    assert!(receive(&mut transport).await.is_none());
}

#[tokio::test]
async fn close_drops_the_stream() {
    let fake = Fake::start().await;
    fake.push("event: endpoint\ndata: /message?sessionId=c\n\n");
    let mut transport = connect(&fake.url("/sse"), good()).await.unwrap();
    transport.close().await.unwrap();
    fake.push("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
    assert!(receive(&mut transport).await.is_none());
}
