//! What the client does when a request goes wrong, checked on the server side with the
//! scripted server of `common/fake.rs`, which counts how many times each tool really ran:
//!
//! - a call whose caller stops waiting, or that times out, is cancelled on the server
//!   (`notifications/cancelled` with its request id);
//! - a tool call the server refused because it forgot the session runs exactly once, on a new
//!   session;
//! - a tool call whose connection broke after the server got it is not run again
//!   (`McpError::Disconnected`), while a list is simply retried on a new session;
//! - a JSON-RPC error without an id still answers the request it was for, at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{fake, first_text, init_logs, wait_until};
use junction_mcp::{ClientConfig, McpClient, McpError, TransportConfig};
use tokio::time::Instant;

fn config(base: &str) -> ClientConfig {
    ClientConfig::new(
        "fake",
        TransportConfig::StreamableHttp {
            url: format!("{base}/mcp"),
        },
    )
}

#[tokio::test]
async fn a_call_whose_caller_stops_waiting_is_cancelled_on_the_server() {
    init_logs();
    let (base, fake) = fake::start().await;
    let client = McpClient::connect(config(&base)).await.unwrap();
    let abandoned =
        tokio::time::timeout(Duration::from_millis(300), client.call_tool("slow", None)).await;
    assert!(abandoned.is_err(), "the slow tool answered");
    wait_until(
        "the server gets notifications/cancelled",
        Duration::from_secs(5),
        || !fake.cancellations().is_empty(),
    )
    .await;
    let cancelled = fake.cancellations();
    assert_eq!(cancelled[0]["requestId"], fake.call_ids()[0]);
    // The session is still good for the next call.
    assert_eq!(
        first_text(&client.call_tool("count", None).await.unwrap()),
        "1"
    );
    assert_eq!(fake.sessions.load(Ordering::SeqCst), 1);
    client.close().await;
}

#[tokio::test]
async fn a_call_that_times_out_is_cancelled_on_the_server() {
    init_logs();
    let (base, fake) = fake::start().await;
    let client = McpClient::connect(config(&base).with_call_timeout(Duration::from_millis(400)))
        .await
        .unwrap();
    let started = Instant::now();
    match client.call_tool("slow", None).await {
        Err(McpError::Timeout {
            operation, timeout, ..
        }) => {
            assert_eq!(operation, "tools/call");
            assert_eq!(timeout, Duration::from_millis(400));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    wait_until(
        "the server gets notifications/cancelled",
        Duration::from_secs(5),
        || !fake.cancellations().is_empty(),
    )
    .await;
    assert_eq!(fake.cancellations()[0]["requestId"], fake.call_ids()[0]);
    assert_eq!(fake.runs("slow"), 1);
    client.close().await;
}

#[tokio::test]
async fn a_call_refused_for_a_forgotten_session_runs_once_on_a_new_session() {
    init_logs();
    let (base, fake) = fake::start().await;
    let client = McpClient::connect(config(&base)).await.unwrap();
    assert_eq!(
        first_text(&client.call_tool("count", None).await.unwrap()),
        "1"
    );
    fake.forget_sessions();
    let started = Instant::now();
    assert_eq!(
        first_text(&client.call_tool("count", None).await.unwrap()),
        "2"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.runs("count"), 2);
    assert_eq!(fake.sessions.load(Ordering::SeqCst), 2);
    client.close().await;
}

#[tokio::test]
async fn concurrent_calls_refused_for_a_forgotten_session_each_run_once() {
    init_logs();
    let (base, fake) = fake::start().await;
    let client = McpClient::connect(config(&base)).await.unwrap();
    fake.forget_sessions();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call_tool("count", None).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(fake.runs("count"), 8);
    // One reconnection for all of them.
    assert_eq!(fake.sessions.load(Ordering::SeqCst), 2);
    client.close().await;
}

#[tokio::test]
async fn a_tool_call_whose_connection_broke_is_not_run_again() {
    init_logs();
    let (base, fake) = fake::start().await;
    let client = McpClient::connect(config(&base)).await.unwrap();
    match client.call_tool("crash", None).await {
        Err(McpError::Disconnected {
            operation, message, ..
        }) => {
            assert_eq!(operation, "tools/call");
            assert!(message.contains("not retried"), "{message}");
        }
        other => panic!("expected a disconnection, got {other:?}"),
    }
    assert_eq!(fake.runs("crash"), 1);
    // The next call gets a new session.
    assert_eq!(
        first_text(&client.call_tool("count", None).await.unwrap()),
        "1"
    );
    assert_eq!(fake.sessions.load(Ordering::SeqCst), 2);
    client.close().await;
}

#[tokio::test]
async fn a_list_whose_connection_broke_is_retried_on_a_new_session() {
    init_logs();
    let (base, fake) = fake::start().await;
    let client = McpClient::connect(config(&base)).await.unwrap();
    fake.list_crashes.store(1, Ordering::SeqCst);
    assert_eq!(client.list_tools().await.unwrap().len(), 2);
    assert_eq!(fake.sessions.load(Ordering::SeqCst), 2);
    client.close().await;
}

#[tokio::test]
async fn an_error_without_an_id_answers_the_request_it_was_for() {
    init_logs();
    let (base, _fake) = fake::start().await;
    let client = McpClient::connect(config(&base)).await.unwrap();
    let started = Instant::now();
    match client.call_tool("idless", None).await {
        Err(McpError::Rejected { code, message, .. }) => {
            assert_eq!(code, -32602);
            assert_eq!(message, "unreadable params");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    client.close().await;
}
