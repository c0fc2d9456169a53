//! Answers that come as event streams, on a streamable HTTP session, checked against the
//! scripted server of `common/fake.rs`:
//!
//! - messages the server sends on a request's stream before the answer (here a log line)
//!   reach the client's notification handler, and the answer its caller;
//! - a stream the server closes after its priming event (2025-11-25) is resumed with `GET`
//!   and `Last-Event-ID`, and the tool runs once;
//! - every request carries what the session needs (session id, protocol version, the
//!   configured headers).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{fake, first_text, init_logs, wait_until};
use junction_mcp::{ClientConfig, McpClient, Notification, TransportConfig};

fn config(base: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        "fake",
        TransportConfig::StreamableHttp {
            url: format!("{base}/mcp"),
        },
    );
    config
        .headers
        .insert("X-Configured".to_owned(), "yes".to_owned());
    config
}

/// A client whose notification handler keeps the data of every log line.
async fn client_with_logs(base: &str) -> (McpClient, Arc<Mutex<Vec<String>>>) {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&logs);
    let handler = move |_: &str, notification: Notification| {
        if let Notification::Log { data, .. } = notification {
            seen.lock()
                .unwrap()
                .push(data.as_str().unwrap_or_default().to_owned());
        }
    };
    let client = McpClient::connect_with_handler(config(base), Arc::new(handler))
        .await
        .unwrap();
    (client, logs)
}

#[tokio::test]
async fn messages_before_the_answer_reach_the_handler_and_the_answer_its_caller() {
    init_logs();
    let (base, fake) = fake::start().await;
    let (client, logs) = client_with_logs(&base).await;
    for expected in ["1", "2"] {
        let result = client.call_tool("streamed", None).await.unwrap();
        assert_eq!(first_text(&result), expected);
    }
    assert_eq!(fake.runs("streamed"), 2);
    wait_until("both log lines arrived", Duration::from_secs(5), || {
        logs.lock().unwrap().len() == 2
    })
    .await;
    assert!(
        logs.lock()
            .unwrap()
            .iter()
            .all(|line| line == "before the answer")
    );

    let requests = fake.requests.lock().unwrap().clone();
    let messages = fake.messages.lock().unwrap().clone();
    let calls: Vec<_> = requests
        .iter()
        .zip(&messages)
        .filter(|(_, message)| message["method"] == "tools/call")
        .map(|(headers, _)| headers)
        .collect();
    assert_eq!(calls.len(), 2);
    for headers in calls {
        assert_eq!(headers["mcp-session-id"], "s1");
        assert_eq!(headers["mcp-protocol-version"], "2025-06-18");
        assert_eq!(headers["x-configured"], "yes");
        let accept = headers["accept"].to_str().unwrap();
        assert!(accept.contains("application/json") && accept.contains("text/event-stream"));
    }
}

#[tokio::test]
async fn a_stream_closed_before_the_answer_is_resumed_with_last_event_id() {
    init_logs();
    let (base, fake) = fake::start().await;
    let (client, logs) = client_with_logs(&base).await;
    let result = client.call_tool("resumable", None).await.unwrap();
    assert_eq!(first_text(&result), "1");
    assert_eq!(fake.runs("resumable"), 1, "the tool ran once");
    assert_eq!(*fake.resumed.lock().unwrap(), vec!["parked-1".to_owned()]);
    wait_until(
        "the log line of the resumed stream arrived",
        Duration::from_secs(5),
        || logs.lock().unwrap().iter().any(|line| line == "resumed"),
    )
    .await;
    // The session is still good for the next call.
    let result = client.call_tool("count", None).await.unwrap();
    assert_eq!(first_text(&result), "1");
}
