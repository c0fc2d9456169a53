//! `McpClient` over streamable HTTP against the real `@modelcontextprotocol/server-everything`
//! (`streamableHttp` mode, a stateful server of the 2025-era protocol), started on a free
//! port per test.
//!
//! The server logs each session it creates and each DELETE it receives; the tests count those
//! lines to check that concurrent calls share one session, that a restarted server gets a new
//! session from the next call, and that `close()` ends the session on the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use junction_mcp::{ClientConfig, McpClient, McpError, Notification, TransportConfig};
use serde_json::json;
use tokio::time::Instant;

#[tokio::test]
async fn everything_over_http_lists_calls_prompts_and_resources() {
    init_logs();
    let server = EverythingHttp::start().await;
    let seen = Arc::new(Mutex::new(Vec::<Notification>::new()));
    let sink = Arc::clone(&seen);
    let client = McpClient::connect_with_handler(
        server.config("everything"),
        Arc::new(move |_: &str, n: Notification| sink.lock().unwrap().push(n)),
    )
    .await
    .unwrap();
    let info = client.server_info().unwrap();
    assert_eq!(info.server_info.name, "mcp-servers/everything");
    // A server of the initialize era: the session runs on the version it chose.
    assert!(
        info.protocol_version.as_str() <= "2025-11-25",
        "{}",
        info.protocol_version
    );

    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    assert!(tools.iter().any(|t| t.name == "get-structured-content"));
    let prompts = client.list_prompts().await.unwrap();
    assert!(prompts.iter().any(|p| p.name == "args-prompt"));
    let resources = client.list_resources().await.unwrap();
    assert!(resources.len() >= 2, "{resources:?}");
    let templates = client.list_resource_templates().await.unwrap();
    assert!(templates.len() >= 2, "{templates:?}");

    let echo = client
        .call_tool("echo", args(json!({"message": "over http"})))
        .await
        .unwrap();
    assert_eq!(first_text(&echo), "Echo: over http");
    let sum = client
        .call_tool("get-sum", args(json!({"a": 1.5, "b": 2})))
        .await
        .unwrap();
    assert!(first_text(&sum).contains("3.5"), "{}", first_text(&sum));
    let structured = client
        .call_tool(
            "get-structured-content",
            args(json!({"location": "New York"})),
        )
        .await
        .unwrap();
    assert!(structured.structured_content.is_some(), "{structured:?}");

    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    client
        .call_tool_with_progress(
            "trigger-long-running-operation",
            args(json!({"duration": 0.5, "steps": 2})),
            move |p| sink.lock().unwrap().push(p),
        )
        .await
        .unwrap();
    assert!(!reports.lock().unwrap().is_empty(), "no progress over HTTP");

    let prompt = client
        .get_prompt("args-prompt", args(json!({"city": "Porto"})))
        .await
        .unwrap();
    assert!(serde_json::to_string(&prompt).unwrap().contains("Porto"));
    let simple = client.get_prompt("simple-prompt", None).await.unwrap();
    assert!(!simple.messages.is_empty());
    let read = client.read_resource(&resources[0].uri).await.unwrap();
    assert!(!read.contents.is_empty());
    client.ping().await.unwrap();

    // Logging arrives on the session's standalone SSE stream.
    client
        .call_tool("toggle-simulated-logging", None)
        .await
        .unwrap();
    wait_until(
        "a log notification arrives",
        Duration::from_secs(10),
        || {
            seen.lock()
                .unwrap()
                .iter()
                .any(|n| matches!(n, Notification::Log { .. }))
        },
    )
    .await;

    assert_eq!(server.sessions.load(Ordering::SeqCst), 1);
    client.close().await;
    wait_until("the server sees the DELETE", Duration::from_secs(5), || {
        server.terminations.load(Ordering::SeqCst) == 1
    })
    .await;
}

#[tokio::test]
async fn concurrent_calls_share_one_http_session() {
    init_logs();
    let server = EverythingHttp::start().await;
    let client = McpClient::connect(server.config("everything"))
        .await
        .unwrap();
    let mut calls = Vec::new();
    for i in 0..20 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            let result = client
                .call_tool("get-sum", args(json!({"a": i, "b": 1})))
                .await
                .unwrap();
            assert!(first_text(&result).contains(&format!("is {}", i + 1)));
        }));
    }
    for call in calls {
        call.await.unwrap();
    }
    assert_eq!(server.sessions.load(Ordering::SeqCst), 1, "one initialize");
    client.close().await;
}

#[tokio::test]
async fn a_restarted_server_gets_a_new_session_from_the_next_call() {
    init_logs();
    let server = EverythingHttp::start().await;
    let port = server.port;
    let client = McpClient::connect(server.config("everything"))
        .await
        .unwrap();
    client
        .call_tool("echo", args(json!({"message": "one"})))
        .await
        .unwrap();
    server.kill().await;

    // Same port, new process: it knows nothing of our session.
    let server = EverythingHttp::start_on(port).await;
    let result = client
        .call_tool("echo", args(json!({"message": "two"})))
        .await
        .unwrap();
    assert_eq!(first_text(&result), "Echo: two");
    assert_eq!(server.sessions.load(Ordering::SeqCst), 1);
    assert!(!client.list_tools().await.unwrap().is_empty());
    assert_eq!(server.sessions.load(Ordering::SeqCst), 1);
    client.close().await;
}

#[tokio::test]
async fn calls_while_the_server_is_down_fail_clearly_and_recover_when_it_is_back() {
    init_logs();
    let server = EverythingHttp::start().await;
    let port = server.port;
    let config = server
        .config("everything")
        .with_call_timeout(Duration::from_secs(3));
    let client = McpClient::connect(config).await.unwrap();
    server.kill().await;

    for _ in 0..2 {
        let started = Instant::now();
        let error = client
            .call_tool("echo", args(json!({"message": "x"})))
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "took {took:?}");
        match &error {
            McpError::Connect { message, .. } => {
                assert!(message.contains("cannot connect"), "{message}")
            }
            other => panic!("expected a connect error, got {other}"),
        }
    }

    let _server = EverythingHttp::start_on(port).await;
    let result = client
        .call_tool("echo", args(json!({"message": "back"})))
        .await
        .unwrap();
    assert_eq!(first_text(&result), "Echo: back");
    client.close().await;
}

#[tokio::test]
async fn a_call_longer_than_the_timeout_is_a_timeout_over_http() {
    init_logs();
    let server = EverythingHttp::start().await;
    let config = server
        .config("everything")
        .with_call_timeout(Duration::from_secs(1));
    let client = McpClient::connect(config).await.unwrap();
    let started = Instant::now();
    let error = client
        .call_tool(
            "trigger-long-running-operation",
            args(json!({"duration": 6, "steps": 3})),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&error, McpError::Timeout { operation, .. } if operation == "tools/call"),
        "{error}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let echo = client
        .call_tool("echo", args(json!({"message": "alive"})))
        .await
        .unwrap();
    assert_eq!(first_text(&echo), "Echo: alive");
    assert_eq!(server.sessions.load(Ordering::SeqCst), 1);
    client.close().await;
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    init_logs();
    let config = ClientConfig::new(
        "nowhere",
        TransportConfig::StreamableHttp {
            url: format!("http://127.0.0.1:{}/mcp", free_port()),
        },
    );
    let started = Instant::now();
    match McpClient::connect(config).await {
        Err(McpError::Connect { server, message }) => {
            assert_eq!(server, "nowhere");
            assert!(message.contains("cannot connect"), "{message}");
        }
        Err(other) => panic!("expected a connect error, got {other}"),
        Ok(_) => panic!("connected to nothing"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}
