//! What `/mcp` relays between a client and the upstream serving its tool call, although one
//! upstream session serves every client: progress (under the client's own progress token, on
//! the call's SSE stream, before the result) and cancellation (the client's
//! `notifications/cancelled` ends the call here and reaches the upstream as its own
//! `notifications/cancelled`).
//!
//! Upstreams: server-everything over stdio, and a small scripted stdio server (Python, below)
//! that reports progress once and then never answers, and tells which requests it saw
//! cancelled, which no real server shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::mcp::{self, node_bin};
use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A stdio MCP server with two tools: `hang` sends one progress report (when asked for
/// progress) and never answers; `log` answers with the ids of the `hang` calls it got and of
/// the requests it got `notifications/cancelled` for, as JSON text.
const FAKE_SERVER: &str = r#"
import json, sys

hung, cancelled = [], []

def send(message):
    message["jsonrpc"] = "2.0"
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

def text(id, value):
    send({"id": id, "result": {"content": [{"type": "text", "text": value}]}})

tools = [
    {"name": "hang", "inputSchema": {"type": "object"}},
    {"name": "log", "inputSchema": {"type": "object"}},
]

for line in sys.stdin:
    message = json.loads(line)
    method, id = message.get("method"), message.get("id")
    params = message.get("params") or {}
    if method == "initialize":
        send({"id": id, "result": {
            "protocolVersion": params["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "1"},
        }})
    elif method == "tools/list":
        send({"id": id, "result": {"tools": tools}})
    elif method == "ping":
        send({"id": id, "result": {}})
    elif method == "tools/call" and params["name"] == "hang":
        hung.append(id)
        token = (params.get("_meta") or {}).get("progressToken")
        if token is not None:
            send({"method": "notifications/progress", "params": {
                "progressToken": token, "progress": 1, "total": 2, "message": "started",
            }})
    elif method == "tools/call" and params["name"] == "log":
        text(id, json.dumps({"hung": hung, "cancelled": cancelled}))
    elif method == "notifications/cancelled":
        cancelled.append(params.get("requestId"))
    elif id is not None:
        send({"id": id, "error": {"code": -32601, "message": "method not found"}})
"#;

/// The fake server's script in a file of its own (tests run in parallel).
fn fake_server_script() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "junction-fake-mcp-{}-{}.py",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, FAKE_SERVER).unwrap();
    path
}

/// A gateway in front of server-everything and the fake server; returns once both are healthy.
async fn gateway() -> TestGateway {
    let script = fake_server_script();
    let fake_args = serde_json::to_string(&["-u", script.to_str().unwrap()]).unwrap();
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
  fake:
    command: python3
    args: {fake_args}
"#,
        everything = node_bin("mcp-server-everything").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| {
        mcp::healthy(h, "everything") && mcp::healthy(h, "fake")
    })
    .await;
    // Python has read it.
    let _ = std::fs::remove_file(&script);
    gw
}

/// One POST to `/mcp`: its status, and the JSON-RPC messages of its body as they arrive (the
/// SSE events of a stream, or the one JSON body); the channel closes when the body ends.
struct Posted {
    status: u16,
    headers: reqwest::header::HeaderMap,
    messages: mpsc::UnboundedReceiver<Value>,
}

impl Posted {
    /// The next message, or `None` when the body ended.
    async fn next(&mut self) -> Option<Value> {
        tokio::time::timeout(Duration::from_secs(30), self.messages.recv())
            .await
            .expect("no message and no end of the body within 30 s")
    }

    /// Every message up to and including the answer (the first with an `id`).
    async fn until_answer(&mut self) -> Vec<Value> {
        let mut seen = Vec::new();
        while let Some(message) = self.next().await {
            let answered = message.get("id").is_some();
            seen.push(message);
            if answered {
                return seen;
            }
        }
        panic!("the body ended without an answer: {seen:?}");
    }
}

async fn post(gw: &TestGateway, session: Option<&str>, body: &Value) -> Posted {
    let mut request = client()
        .post(format!("{}/mcp", gw.url))
        .header("accept", "application/json, text/event-stream")
        .header("x-litellm-api-key", format!("Bearer {MASTER_KEY}"))
        .json(body);
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-06-18");
    }
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let is_sse = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    let (tx, messages) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            if !is_sse {
                continue;
            }
            // Whole events only; a partial one waits for the next chunk.
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                for data in common::sse_data(&event) {
                    if let Ok(message) = serde_json::from_str::<Value>(&data) {
                        let _ = tx.send(message);
                    }
                }
            }
        }
        if !is_sse && let Ok(message) = serde_json::from_str::<Value>(&buffer) {
            let _ = tx.send(message);
        }
    });
    Posted {
        status,
        headers,
        messages,
    }
}

/// An initialized session on `/mcp`.
struct Session<'a> {
    gw: &'a TestGateway,
    id: String,
}

impl<'a> Session<'a> {
    async fn open(gw: &'a TestGateway) -> Session<'a> {
        let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "junction-test", "version": "1"},
        }});
        let mut answer = post(gw, None, &initialize).await;
        assert_eq!(answer.status, 200);
        let id = answer.headers["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let initialized = answer.until_answer().await;
        assert_eq!(
            initialized.last().unwrap()["result"]["serverInfo"]["name"],
            "junction"
        );
        let session = Session { gw, id };
        let notified = session
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(notified.status, 202);
        session
    }

    async fn send(&self, body: &Value) -> Posted {
        post(self.gw, Some(&self.id), body).await
    }

    /// Starts `tools/call` with request id `id`, and a progress token when given.
    async fn start_call(
        &self,
        id: u64,
        name: &str,
        arguments: Value,
        progress_token: Option<&str>,
    ) -> Posted {
        let mut params = json!({"name": name, "arguments": arguments});
        if let Some(token) = progress_token {
            params["_meta"] = json!({"progressToken": token});
        }
        let posted = self
            .send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}))
            .await;
        assert_eq!(posted.status, 200);
        posted
    }

    /// A call's answer (`result` or `error`).
    async fn call(&self, name: &str, arguments: Value) -> Value {
        let mut posted = self.start_call(90, name, arguments, None).await;
        posted.until_answer().await.pop().unwrap()
    }

    async fn cancel(&self, request_id: u64) {
        let notified = self
            .send(
                &json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {
                    "requestId": request_id,
                    "reason": "the user stopped it",
                }}),
            )
            .await;
        assert_eq!(notified.status, 202);
    }
}

fn progress_of<'m>(messages: &'m [Value], token: &str) -> Vec<&'m Value> {
    messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .inspect(|m| assert_eq!(m["params"]["progressToken"], token, "{m}"))
        .collect()
}

/// Waits up to 5 s for the body of a cancelled call to end, and checks it brought no answer.
async fn assert_ends_without_answer(posted: &mut Posted) {
    let started = Instant::now();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), posted.messages.recv())
            .await
            .expect("the cancelled call's stream did not end within 5 s");
        let Some(message) = message else {
            break;
        };
        assert!(
            message.get("id").is_none(),
            "a cancelled call was answered: {message}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn progress_reaches_the_caller_under_its_own_token_before_the_result() {
    let gw = gateway().await;
    let session = Session::open(&gw).await;
    let mut posted = session
        .start_call(
            7,
            "everything-trigger-long-running-operation",
            json!({"duration": 2, "steps": 4}),
            Some("tok-1"),
        )
        .await;
    let messages = posted.until_answer().await;
    let answer = messages.last().unwrap();
    assert_eq!(answer["id"], 7);
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Long running operation completed"),
        "{answer}"
    );

    let progress = progress_of(&messages, "tok-1");
    assert!(progress.len() >= 2, "{messages:?}");
    let values: Vec<f64> = progress
        .iter()
        .map(|m| m["params"]["progress"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    assert!(
        progress
            .iter()
            .all(|m| m["params"]["total"].as_f64() == Some(4.0)),
        "{progress:?}"
    );

    // Without a token the call asks for no progress and gets none.
    let mut posted = session
        .start_call(
            8,
            "everything-trigger-long-running-operation",
            json!({"duration": 0.2, "steps": 2}),
            None,
        )
        .await;
    let messages = posted.until_answer().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["id"], 8);
}

#[tokio::test]
async fn a_cancelled_call_ends_at_once_and_the_session_goes_on() {
    let gw = gateway().await;
    let session = Session::open(&gw).await;
    let mut posted = session
        .start_call(
            11,
            "everything-trigger-long-running-operation",
            json!({"duration": 10, "steps": 10}),
            Some("tok-long"),
        )
        .await;
    // The first report shows the call is running upstream.
    let first = posted.next().await.unwrap();
    assert_eq!(first["method"], "notifications/progress", "{first}");
    assert_eq!(first["params"]["progressToken"], "tok-long");

    session.cancel(11).await;
    assert_ends_without_answer(&mut posted).await;

    let echoed = session
        .call("everything-echo", json!({"message": "still here"}))
        .await;
    assert_eq!(
        echoed["result"]["content"][0]["text"], "Echo: still here",
        "{echoed}"
    );
}

#[tokio::test]
async fn the_upstream_is_told_when_a_call_is_cancelled() {
    let gw = gateway().await;
    let session = Session::open(&gw).await;

    // With a progress token: the upstream's report arrives whole, under the client's token.
    let mut posted = session
        .start_call(21, "fake-hang", json!({}), Some("tok-hang"))
        .await;
    let first = posted.next().await.unwrap();
    assert_eq!(
        first,
        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {
            "progressToken": "tok-hang", "progress": 1.0, "total": 2.0, "message": "started",
        }})
    );
    session.cancel(21).await;
    assert_ends_without_answer(&mut posted).await;

    // Without one. Such a call is answered with JSON, in one piece, so the POST's response
    // starts only when the call ends: cancel it while that POST is still waiting.
    let started = session.start_call(22, "fake-hang", json!({}), None);
    let cancel = async {
        fake_log_until(&session, |log| log["hung"].as_array().unwrap().len() == 2).await;
        session.cancel(22).await;
    };
    let (mut posted, ()) = tokio::join!(started, cancel);
    assert_ends_without_answer(&mut posted).await;

    // Both upstream requests were cancelled, by the gateway's own request ids.
    let log = fake_log_until(&session, |log| {
        log["cancelled"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(log["cancelled"], log["hung"], "{log}");
}

/// The fake server's log (see [`FAKE_SERVER`]), once `done` holds (within 5 s).
async fn fake_log_until(session: &Session<'_>, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = session.call("fake-log", json!({})).await;
        let text = answer["result"]["content"][0]["text"].as_str().unwrap();
        let log: Value = serde_json::from_str(text).unwrap();
        if done(&log) {
            return log;
        }
        assert!(Instant::now() < deadline, "the fake server's log: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
