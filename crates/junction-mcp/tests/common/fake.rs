//! A scripted streamable HTTP MCP server (axum), for what real servers cannot be made to do
//! on demand: refuse a token, forget its sessions, hang, or drop a connection mid-call.
//!
//! It answers with JSON (no SSE), gives each `initialize` a new session id, and records every
//! request's headers and every message's method, so tests can check what reached it and how
//! many times a tool really ran.
//!
//! Tools: `count` (counts its runs), `slow` (never answers), `crash` (counts its run, then
//! drops the connection without answering), `idless` (an HTTP 400 whose JSON-RPC error has
//! no id), `streamed` (an event stream: a log notification, then the answer), `resumable` (an
//! event stream closed after its priming event, as 2025-11-25 allows; the answer, after a log
//! notification, comes on the `GET` that resumes it with `Last-Event-ID`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Default)]
pub struct Fake {
    /// The bearer token the MCP endpoint accepts (`None`: no check).
    pub accepted: Mutex<Option<String>>,
    /// The headers of every MCP request, in order.
    pub requests: Mutex<Vec<HeaderMap>>,
    /// Every JSON-RPC message received, in order.
    pub messages: Mutex<Vec<Value>>,
    pub tokens_issued: AtomicUsize,
    pub sessions: AtomicUsize,
    /// Sessions this server knows; [`Fake::forget_sessions`] empties it, as a restart does.
    known: Mutex<Vec<String>>,
    /// Answer the token endpoint with this status instead of a token.
    pub token_status: Mutex<Option<StatusCode>>,
    /// How many times each tool ran.
    runs: Mutex<HashMap<String, usize>>,
    /// `tools/list` drops the connection this many more times.
    pub list_crashes: AtomicUsize,
    /// When set, `tools/list` answers in pages of one tool.
    pub paged_tools: std::sync::atomic::AtomicBool,
    /// Answers of `resumable` calls, by the event id their stream was closed after.
    parked: Mutex<HashMap<String, Value>>,
    /// The `Last-Event-ID` of every `GET` that resumed a stream.
    pub resumed: Mutex<Vec<String>>,
}

impl Fake {
    pub fn accept(&self, token: &str) {
        *self.accepted.lock().unwrap() = Some(token.to_owned());
    }

    pub fn forget_sessions(&self) {
        self.known.lock().unwrap().clear();
    }

    pub fn runs(&self, tool: &str) -> usize {
        self.runs.lock().unwrap().get(tool).copied().unwrap_or(0)
    }

    /// The `params` of every `notifications/cancelled` received.
    pub fn cancellations(&self) -> Vec<Value> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m["method"] == "notifications/cancelled")
            .map(|m| m["params"].clone())
            .collect()
    }

    /// The ids of the `tools/call` requests received.
    pub fn call_ids(&self) -> Vec<Value> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m["method"] == "tools/call")
            .map(|m| m["id"].clone())
            .collect()
    }

    fn ran(&self, tool: &str) -> usize {
        let mut runs = self.runs.lock().unwrap();
        let n = runs.entry(tool.to_owned()).or_default();
        *n += 1;
        *n
    }
}

/// Starts the fake on a free port; returns its base URL (`http://127.0.0.1:port`).
pub async fn start() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    (serve(router(Arc::clone(&fake))).await, fake)
}

/// The fake's routes, for serving it some other way (over TLS, say).
pub fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route(
            "/mcp",
            post(mcp).get(resume).delete(|| async { StatusCode::OK }),
        )
        .route("/token", post(token))
        .with_state(fake)
}

/// Serves any router on a free port; returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

fn json_answer(session: Option<&str>, body: Value) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Some(session) = session {
        response
            .headers_mut()
            .insert("mcp-session-id", session.parse().unwrap());
    }
    response
}

fn idless_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}}).to_string(),
    )
        .into_response()
}

async fn mcp(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    fake.requests.lock().unwrap().push(headers.clone());
    let message: Value = serde_json::from_str(&body).unwrap();
    fake.messages.lock().unwrap().push(message.clone());

    if let Some(accepted) = fake.accepted.lock().unwrap().clone() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if given != format!("Bearer {accepted}") {
            return (StatusCode::UNAUTHORIZED, "invalid token").into_response();
        }
    }
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if method == "initialize" {
        let n = fake.sessions.fetch_add(1, Ordering::SeqCst) + 1;
        let session = format!("s{n}");
        fake.known.lock().unwrap().push(session.clone());
        return json_answer(
            Some(&session),
            json!({"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "fake", "version": "1"}
            }}),
        );
    }
    // What the TypeScript SDK's example servers answer for a session they do not know.
    let known = session
        .as_ref()
        .is_some_and(|s| fake.known.lock().unwrap().contains(s));
    if !known {
        return idless_error(
            StatusCode::BAD_REQUEST,
            -32000,
            "Bad Request: No valid session ID provided",
        );
    }
    let Some(id) = message.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match method.as_str() {
        "tools/list" => {
            if fake
                .list_crashes
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                panic!("fake MCP server: deliberately dropping the connection of tools/list");
            }
            let tools = vec![
                json!({"name": "count", "inputSchema": {"type": "object"}}),
                json!({"name": "slow", "inputSchema": {"type": "object"}}),
                json!({"name": "third", "inputSchema": {"type": "object"}}),
            ];
            if fake.paged_tools.load(Ordering::SeqCst) {
                page("tools", tools, &message, 1)
            } else {
                json!({"tools": tools[..2]})
            }
        }
        // Paginated listings (two items a page), to test that clients follow `nextCursor`.
        "prompts/list" => page(
            "prompts",
            (1..=5).map(|i| json!({"name": format!("prompt-{i}")})).collect(),
            &message,
            2,
        ),
        "resources/list" => page(
            "resources",
            (1..=3)
                .map(|i| json!({"uri": format!("fake://r/{i}"), "name": format!("r{i}")}))
                .collect(),
            &message,
            2,
        ),
        "resources/templates/list" => page(
            "resourceTemplates",
            (1..=3)
                .map(|i| json!({"uriTemplate": format!("fake://t{i}/{{id}}"), "name": format!("t{i}")}))
                .collect(),
            &message,
            2,
        ),
        "tools/call" => {
            let tool = message["params"]["name"].as_str().unwrap_or_default();
            match tool {
                "slow" => {
                    fake.ran(tool);
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                "crash" => {
                    fake.ran(tool);
                    panic!("fake MCP server: deliberately dropping the connection of a tool call");
                }
                "idless" => {
                    return idless_error(StatusCode::BAD_REQUEST, -32602, "unreadable params");
                }
                "streamed" => {
                    let n = fake.ran(tool);
                    let answer = json!({"jsonrpc": "2.0", "id": id, "result":
                        {"content": [{"type": "text", "text": n.to_string()}]}});
                    return event_stream(&[log("before the answer"), answer]);
                }
                "resumable" => {
                    let n = fake.ran(tool);
                    let event_id = format!("parked-{n}");
                    let answer = json!({"jsonrpc": "2.0", "id": id, "result":
                        {"content": [{"type": "text", "text": n.to_string()}]}});
                    fake.parked.lock().unwrap().insert(event_id.clone(), answer);
                    // The priming event: an id and no data, then the server closes the stream.
                    let body = format!("id: {event_id}\nretry: 10\ndata:\n\n");
                    return ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
                }
                _ => {
                    let n = fake.ran(tool);
                    json!({"content": [{"type": "text", "text": n.to_string()}]})
                }
            }
        }
        _ => json!({}),
    };
    json_answer(
        session.as_deref(),
        json!({"jsonrpc": "2.0", "id": id, "result": result}),
    )
}

/// A `notifications/message` at level info.
fn log(text: &str) -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/message",
           "params": {"level": "info", "data": text}})
}

/// An event stream of `messages`, one event each, ended after the last.
fn event_stream(messages: &[Value]) -> Response {
    let body: String = messages
        .iter()
        .map(|m| format!("event: message\ndata: {m}\n\n"))
        .collect();
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

/// `GET /mcp`: with `Last-Event-ID` naming a parked answer, resumes that stream; otherwise
/// there is no standalone stream here.
async fn resume(State(fake): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    let Some(last) = headers.get("last-event-id").and_then(|v| v.to_str().ok()) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    fake.resumed.lock().unwrap().push(last.to_owned());
    match fake.parked.lock().unwrap().remove(last) {
        Some(answer) => event_stream(&[log("resumed"), answer]),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// One page of `items` (`size` a page); the cursor is the index of the next item.
fn page(key: &str, items: Vec<Value>, message: &Value, size: usize) -> Value {
    let start: usize = message["params"]["cursor"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = (start + size).min(items.len());
    let mut result = json!({ key: items[start.min(end)..end] });
    if end < items.len() {
        result["nextCursor"] = json!(end.to_string());
    }
    result
}

async fn token(State(fake): State<Arc<Fake>>, body: String) -> Response {
    assert!(body.contains("grant_type=client_credentials"), "{body}");
    assert!(body.contains("client_id=junction"), "{body}");
    if let Some(status) = *fake.token_status.lock().unwrap() {
        return (status, "token endpoint down").into_response();
    }
    let n = fake.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(json!({
        "access_token": format!("tok-{n}"),
        "token_type": "Bearer",
        "expires_in": 3600
    }))
    .into_response()
}
