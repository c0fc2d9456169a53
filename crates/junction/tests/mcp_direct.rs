//! `/mcp`'s direct path (`junction-server/src/mcp_server/direct.rs`): a plain `tools/call` on a
//! session that needs no relay is answered with one `application/json` body, the same answer
//! (and the same errors) as through rmcp's event stream; calls that may relay something
//! (progress, a client that declared sampling or asked for log messages) still get an event
//! stream; a direct call can be cancelled, and a closed session is closed for it too.
//!
//! Upstream: server-everything over stdio. HTTP in, HTTP out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::mcp::{self, node_bin};
use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};

async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
"#,
        everything = node_bin("mcp-server-everything").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "everything")).await;
    gw
}

/// One answer of `/mcp`, read to its end.
struct Reply {
    status: u16,
    content_type: String,
    content_length: Option<String>,
    session: Option<String>,
    body: String,
}

impl Reply {
    /// The JSON-RPC messages of the body (one JSON body, or every SSE event's data).
    fn messages(&self) -> Vec<Value> {
        if self.content_type.starts_with("text/event-stream") {
            common::sse_data(&self.body)
                .iter()
                .filter_map(|data| serde_json::from_str(data).ok())
                .collect()
        } else {
            vec![serde_json::from_str(&self.body).unwrap()]
        }
    }

    /// The answer (the message with an `id`).
    fn answer(&self) -> Value {
        self.messages()
            .into_iter()
            .find(|m| m.get("id").is_some())
            .unwrap_or_else(|| panic!("no answer in {}", self.body))
    }
}

async fn post(gw: &TestGateway, session: Option<&str>, body: &Value) -> Reply {
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
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (status, content_type, content_length, session) = (
        response.status().as_u16(),
        header("content-type").unwrap_or_default(),
        header("content-length"),
        header("mcp-session-id"),
    );
    Reply {
        status,
        content_type,
        content_length,
        session,
        body: response.text().await.unwrap(),
    }
}

/// Opens a session whose client declares `capabilities`; returns its id.
async fn open(gw: &TestGateway, capabilities: Value) -> String {
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": capabilities,
        "clientInfo": {"name": "junction-test", "version": "1"},
    }});
    let reply = post(gw, None, &initialize).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let session = reply.session.expect("a session id");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(gw, Some(&session), &initialized).await.status, 202);
    // The handler offers the direct path once it has seen the session (on
    // `notifications/initialized`, or at the latest on the first call): one call makes sure.
    let first = call(
        gw,
        &session,
        1,
        json!({"name": "everything-echo", "arguments": {"message": "first"}}),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    session
}

async fn call(gw: &TestGateway, session: &str, id: u64, params: Value) -> Reply {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
    post(gw, Some(session), &body).await
}

fn is_json(reply: &Reply) -> bool {
    reply.content_type == "application/json"
}

fn is_sse(reply: &Reply) -> bool {
    reply.content_type.starts_with("text/event-stream")
}

#[tokio::test]
async fn a_plain_call_gets_one_json_body_with_the_same_answer_as_the_event_stream() {
    let gw = gateway().await;
    let session = open(&gw, json!({})).await;

    let echo = json!({"name": "everything-echo", "arguments": {"message": "hi"}});
    let direct = call(&gw, &session, 2, echo.clone()).await;
    assert_eq!(direct.status, 200);
    assert!(is_json(&direct), "{}: {}", direct.content_type, direct.body);
    // Complete, with its length: nothing follows the answer.
    assert_eq!(
        direct.content_length.as_deref(),
        Some(direct.body.len().to_string().as_str())
    );
    // No `resultType` for a 2025-06-18 client, as rmcp answers.
    assert_eq!(
        direct.answer(),
        json!({"jsonrpc": "2.0", "id": 2, "result": {
            "content": [{"type": "text", "text": "Echo: hi"}],
        }})
    );

    // A progress token makes it an rmcp call, on an event stream: the same answer.
    let mut with_token = echo.clone();
    with_token["_meta"] = json!({"progressToken": "p"});
    let streamed = call(&gw, &session, 2, with_token).await;
    assert!(is_sse(&streamed), "{}", streamed.content_type);
    assert_eq!(streamed.answer(), direct.answer());

    // Errors too: an unknown tool is the same JSON-RPC error either way, a string id is kept.
    let unknown = json!({"name": "everything-nope", "arguments": {}});
    let direct = call(&gw, &session, 3, unknown.clone()).await;
    assert!(is_json(&direct), "{}", direct.content_type);
    let error = direct.answer();
    assert_eq!(error["error"]["code"], -32602, "{error}");
    let mut with_token = unknown;
    with_token["_meta"] = json!({"progressToken": "p"});
    let streamed = call(&gw, &session, 3, with_token).await;
    assert_eq!(streamed.answer(), error);

    let body = json!({"jsonrpc": "2.0", "id": "call-7", "method": "tools/call", "params": echo});
    let direct = post(&gw, Some(&session), &body).await;
    assert!(is_json(&direct), "{}", direct.content_type);
    assert_eq!(direct.answer()["id"], "call-7");

    // Other requests are rmcp's, as before.
    let listed = post(
        &gw,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
    )
    .await;
    assert!(is_sse(&listed), "{}", listed.content_type);
}

#[tokio::test]
async fn sessions_that_need_the_relay_keep_their_event_streams() {
    let gw = gateway().await;
    let echo = json!({"name": "everything-echo", "arguments": {"message": "hi"}});

    // A client that can be asked for sampling: an upstream may ask during any call.
    let sampling = open(&gw, json!({"sampling": {}})).await;
    let reply = call(&gw, &sampling, 2, echo.clone()).await;
    assert!(is_sse(&reply), "{}", reply.content_type);
    assert_eq!(
        reply.answer()["result"]["content"][0]["text"],
        "Echo: hi",
        "{}",
        reply.body
    );

    // A plain session goes direct until it asks for log messages.
    let plain = open(&gw, json!({})).await;
    assert!(is_json(&call(&gw, &plain, 2, echo.clone()).await));
    let set_level = json!({"jsonrpc": "2.0", "id": 3, "method": "logging/setLevel", "params": {"level": "info"}});
    assert_eq!(post(&gw, Some(&plain), &set_level).await.status, 200);
    let reply = call(&gw, &plain, 4, echo).await;
    assert!(is_sse(&reply), "{}", reply.content_type);
}

#[tokio::test]
async fn a_direct_call_is_cancelled_by_the_client_and_by_the_end_of_its_session() {
    let gw = gateway().await;
    let session = open(&gw, json!({})).await;
    let long = json!({"name": "everything-trigger-long-running-operation",
        "arguments": {"duration": 20, "steps": 4}});

    // The client cancels: the POST ends at once, with no answer (an event stream without
    // events, as rmcp ends a cancelled request's stream), and the session goes on.
    let started = Instant::now();
    let running = call(&gw, &session, 5, long.clone());
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cancelled = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 5, "reason": "the user stopped it"}});
        assert_eq!(post(&gw, Some(&session), &cancelled).await.status, 202);
    };
    let (reply, ()) = tokio::join!(running, cancel);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(reply.status, 200);
    assert!(is_sse(&reply), "{}", reply.content_type);
    // Not even rmcp's priming event: this call never reached rmcp's session.
    assert_eq!(reply.body, "");
    let echo = json!({"name": "everything-echo", "arguments": {"message": "still here"}});
    let reply = call(&gw, &session, 6, echo.clone()).await;
    assert_eq!(
        reply.answer()["result"]["content"][0]["text"],
        "Echo: still here"
    );

    // The session is closed under a running call: the call ends too, and the session is gone.
    let started = Instant::now();
    let running = call(&gw, &session, 7, long);
    let close = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let deleted = client()
            .delete(format!("{}/mcp", gw.url))
            .header("x-litellm-api-key", format!("Bearer {MASTER_KEY}"))
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-06-18")
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
    };
    let (reply, ()) = tokio::join!(running, close);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "");
    assert_eq!(call(&gw, &session, 8, echo).await.status, 404);
}
