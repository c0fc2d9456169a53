//! What a client asks of a server for the rest of the session: the logging level
//! (`logging/setLevel`) and resource subscriptions (`resources/subscribe`, `unsubscribe`),
//! against server-everything, and that a new session is told both again before any call uses
//! it (checked with the scripted server of `common/fake.rs`, which records every message, and
//! with a restarted server-everything process).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(
    deprecated,
    reason = "logging is deprecated by SEP-2577, but servers still implement it"
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use junction_mcp::model::LoggingLevel;
use junction_mcp::{ClientConfig, McpClient, Notification, TransportConfig};
use serde_json::Value;

/// A client whose notifications are collected in the returned list.
async fn collecting(config: ClientConfig) -> (McpClient, Arc<Mutex<Vec<Notification>>>) {
    let seen = Arc::new(Mutex::new(Vec::<Notification>::new()));
    let sink = Arc::clone(&seen);
    let handler = Arc::new(move |_server: &str, notification: Notification| {
        sink.lock().unwrap().push(notification);
    });
    let client = McpClient::connect_with_handler(config, handler)
        .await
        .unwrap();
    (client, seen)
}

/// The log messages received whose data mentions `needle`, as (level, data).
fn logs_mentioning(seen: &Mutex<Vec<Notification>>, needle: &str) -> Vec<(String, String)> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|n| match n {
            Notification::Log { level, data, .. } => {
                let text = data.as_str().map(str::to_owned).unwrap_or(data.to_string());
                text.contains(needle).then(|| (level.clone(), text))
            }
            _ => None,
        })
        .collect()
}

fn updates_of(seen: &Mutex<Vec<Notification>>, uri: &str) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|n| matches!(n, Notification::ResourceUpdated { uri: u } if u == uri))
        .count()
}

#[tokio::test]
async fn the_logging_level_decides_which_server_logs_arrive() {
    init_logs();
    let (client, seen) = collecting(everything_stdio("everything")).await;
    // server-everything logs every subscribe request at level info (before answering it).
    client
        .set_logging_level(LoggingLevel::Warning)
        .await
        .unwrap();
    client.subscribe("demo://quiet").await.unwrap();
    client.set_logging_level(LoggingLevel::Info).await.unwrap();
    client.subscribe("demo://loud").await.unwrap();
    wait_until(
        "the info log of the second subscription arrives",
        Duration::from_secs(10),
        || !logs_mentioning(&seen, "demo://loud").is_empty(),
    )
    .await;
    let loud = logs_mentioning(&seen, "demo://loud");
    assert_eq!(loud[0].0, "info", "{loud:?}");
    // The server wrote the first log line (had it sent it) before the second one.
    let quiet = logs_mentioning(&seen, "demo://quiet");
    assert!(
        quiet.is_empty(),
        "an info log arrived at level warning: {quiet:?}"
    );
    client.close().await;
}

#[tokio::test]
async fn a_subscribed_resource_reports_its_updates() {
    init_logs();
    let (client, seen) = collecting(everything_stdio("everything")).await;
    let uri = "demo://resource/static/document/architecture.md";
    client.subscribe(uri).await.unwrap();
    // The tool makes server-everything send an update for every subscribed resource at once,
    // then every 5 s.
    client
        .call_tool("toggle-subscriber-updates", None)
        .await
        .unwrap();
    wait_until(
        "notifications/resources/updated arrives",
        Duration::from_secs(10),
        || updates_of(&seen, uri) > 0,
    )
    .await;
    client.unsubscribe(uri).await.unwrap();
    client.close().await;
}

#[tokio::test]
async fn a_restarted_server_is_subscribed_again() {
    init_logs();
    let scratch = Scratch::new("resubscribe");
    let (pid_file, gate) = (scratch.file("pids"), scratch.file("gate"));
    std::fs::write(&gate, "").unwrap();
    let (client, seen) = collecting(everything_stdio_tracked("everything", &pid_file, &gate)).await;
    let (kept, dropped) = (
        "demo://resource/static/document/kept.md",
        "demo://resource/static/document/dropped.md",
    );
    client.subscribe(kept).await.unwrap();
    client.subscribe(dropped).await.unwrap();
    client.unsubscribe(dropped).await.unwrap();
    let first = pids(&pid_file)[0];
    kill_9(first);
    wait_until(
        "the killed server is reaped",
        Duration::from_secs(10),
        || !process_exists(first),
    )
    .await;

    // This call starts a new server process; only what it was told again can be updated.
    client
        .call_tool("toggle-subscriber-updates", None)
        .await
        .unwrap();
    assert_eq!(pids(&pid_file).len(), 2);
    wait_until(
        "the new server reports the kept subscription",
        Duration::from_secs(10),
        || updates_of(&seen, kept) > 0,
    )
    .await;
    assert_eq!(updates_of(&seen, dropped), 0);
    client.close().await;
}

#[tokio::test]
async fn a_new_session_is_told_the_level_and_subscriptions_before_any_call() {
    init_logs();
    let (base, fake) = fake::start().await;
    let config = ClientConfig::new(
        "fake",
        TransportConfig::StreamableHttp {
            url: format!("{base}/mcp"),
        },
    );
    let client = McpClient::connect(config).await.unwrap();
    client.set_logging_level(LoggingLevel::Error).await.unwrap();
    client.subscribe("fake://r/1").await.unwrap();
    client.subscribe("fake://r/2").await.unwrap();
    client.unsubscribe("fake://r/2").await.unwrap();
    // The server forgets the session, as a restart does; the next call needs a new one.
    fake.forget_sessions();
    let before = fake.messages.lock().unwrap().len();
    assert_eq!(client.list_tools().await.unwrap().len(), 2);

    let after: Vec<Value> = fake.messages.lock().unwrap()[before..].to_vec();
    let methods: Vec<&str> = after
        .iter()
        .map(|m| m["method"].as_str().unwrap_or("(answer)"))
        .collect();
    let position = |method: &str| methods.iter().position(|m| *m == method);
    let initialized = position("notifications/initialized").expect("a new session");
    let level = position("logging/setLevel").expect("the level is set again");
    let subscribed = position("resources/subscribe").expect("the subscription is made again");
    let listed = methods
        .iter()
        .rposition(|m| *m == "tools/list")
        .expect("the call");
    assert!(
        initialized < level && level < subscribed && subscribed < listed,
        "{methods:?}"
    );
    assert_eq!(after[level]["params"]["level"], "error");
    let subscriptions: Vec<&Value> = after
        .iter()
        .filter(|m| m["method"] == "resources/subscribe")
        .map(|m| &m["params"]["uri"])
        .collect();
    assert_eq!(subscriptions, vec!["fake://r/1"], "{methods:?}");
    client.close().await;
}
