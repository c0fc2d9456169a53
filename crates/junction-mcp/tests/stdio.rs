//! `McpClient` over stdio against real servers: `@modelcontextprotocol/server-everything`
//! (the MCP reference server, in TypeScript) and the Python `mcp-server-time`.
//!
//! Covers the whole surface on one session (lists to the last page, tools, progress,
//! prompts, resources, notifications), sharing one session between concurrent calls, a
//! server process that dies (the next call starts a new one), a server that cannot be
//! restarted (a clear error within the call timeout), timeouts, and that the child process
//! goes away with the client.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use junction_mcp::{ClientConfig, McpClient, McpError, Notification, TransportConfig};
use serde_json::json;
use tokio::time::Instant;

#[tokio::test]
async fn everything_over_stdio_lists_calls_prompts_and_resources() {
    init_logs();
    let client = McpClient::connect(everything_stdio("everything"))
        .await
        .unwrap();
    assert_eq!(client.name(), "everything");
    let info = client.server_info().expect("server info after initialize");
    assert_eq!(info.server_info.name, "mcp-servers/everything");
    assert!(info.capabilities.tools.is_some());

    let tools = client.list_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "echo",
        "get-sum",
        "trigger-long-running-operation",
        "get-tiny-image",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    let prompts = client.list_prompts().await.unwrap();
    let prompt_names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert!(prompt_names.contains(&"simple-prompt"), "{prompt_names:?}");
    assert!(prompt_names.contains(&"args-prompt"), "{prompt_names:?}");

    let resources = client.list_resources().await.unwrap();
    let documents: Vec<&str> = resources
        .iter()
        .map(|r| r.uri.as_str())
        .filter(|uri| uri.starts_with("demo://resource/static/document/"))
        .collect();
    assert!(documents.len() >= 2, "static documents: {documents:?}");
    let templates = client.list_resource_templates().await.unwrap();
    let patterns: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert!(
        patterns
            .iter()
            .any(|p| p.starts_with("demo://resource/dynamic/text/")),
        "{patterns:?}"
    );

    let echo = client
        .call_tool("echo", args(json!({"message": "hello"})))
        .await
        .unwrap();
    assert_eq!(first_text(&echo), "Echo: hello");
    assert_ne!(echo.is_error, Some(true));
    let sum = client
        .call_tool("get-sum", args(json!({"a": 2, "b": 40})))
        .await
        .unwrap();
    assert!(first_text(&sum).contains("42"), "{}", first_text(&sum));

    let prompt = client
        .get_prompt(
            "args-prompt",
            args(json!({"city": "Lyon", "state": "Rhône"})),
        )
        .await
        .unwrap();
    let prompt_json = serde_json::to_string(&prompt).unwrap();
    assert!(prompt_json.contains("Lyon"), "{prompt_json}");

    let document = client.read_resource(documents[0]).await.unwrap();
    let document_json = serde_json::to_value(&document).unwrap();
    let contents = document_json["contents"].as_array().unwrap();
    assert_eq!(contents[0]["uri"], documents[0]);
    assert!(!contents[0]["text"].as_str().unwrap_or_default().is_empty());
    let dynamic = client
        .read_resource("demo://resource/dynamic/text/1")
        .await
        .unwrap();
    assert!(!dynamic.contents.is_empty());

    client.ping().await.unwrap();

    // A tool the server does not have is a JSON-RPC error or a tool error, never a hang.
    match client.call_tool("no-such-tool", None).await {
        Err(McpError::Rejected {
            operation, server, ..
        }) => {
            assert_eq!(operation, "tools/call");
            assert_eq!(server, "everything");
        }
        Ok(result) => assert_eq!(result.is_error, Some(true)),
        Err(other) => panic!("unexpected error {other}"),
    }
    client.close().await;
}

#[tokio::test]
async fn progress_goes_to_the_callback_and_the_notification_handler() {
    init_logs();
    let seen = Arc::new(Mutex::new(Vec::<Notification>::new()));
    let sink = Arc::clone(&seen);
    let handler = Arc::new(move |server: &str, notification: Notification| {
        assert_eq!(server, "everything");
        sink.lock().unwrap().push(notification);
    });
    let client = McpClient::connect_with_handler(everything_stdio("everything"), handler)
        .await
        .unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let callback_reports = Arc::clone(&reports);
    let result = client
        .call_tool_with_progress(
            "trigger-long-running-operation",
            args(json!({"duration": 0.6, "steps": 3})),
            move |progress| callback_reports.lock().unwrap().push(progress),
        )
        .await
        .unwrap();
    assert!(first_text(&result).contains("completed"), "{result:?}");
    let reports = reports.lock().unwrap().clone();
    assert!(!reports.is_empty(), "no progress callback");
    assert_eq!(reports.last().unwrap().total, Some(3.0));
    assert!(reports.iter().any(|p| p.progress >= 1.0));
    let progress_notifications = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|n| matches!(n, Notification::Progress { .. }))
        .count();
    assert!(progress_notifications >= 1);

    // Server logging reaches the handler as Log notifications.
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
                .any(|n| matches!(n, Notification::Log { level, .. } if !level.is_empty()))
        },
    )
    .await;
    client.close().await;
}

#[tokio::test]
async fn mcp_server_time_answers_over_stdio() {
    init_logs();
    let config = ClientConfig::new(
        "time",
        TransportConfig::Stdio {
            command: venv_bin("mcp-server-time").display().to_string(),
            args: vec![],
            env: BTreeMap::new(),
            cwd: None,
        },
    );
    let client = McpClient::connect(config).await.unwrap();
    let tools = client.list_tools().await.unwrap();
    assert!(
        tools.iter().any(|t| t.name == "get_current_time"),
        "{:?}",
        tools.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    let result = client
        .call_tool("get_current_time", args(json!({"timezone": "UTC"})))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let text = first_text(&result);
    assert!(text.contains("UTC"), "{text}");
    client.close().await;
}

#[tokio::test]
async fn concurrent_calls_share_one_session() {
    init_logs();
    let scratch = Scratch::new("concurrent");
    let (pid_file, gate) = (scratch.file("pids"), scratch.file("gate"));
    std::fs::write(&gate, "").unwrap();
    let client = McpClient::connect(everything_stdio_tracked("everything", &pid_file, &gate))
        .await
        .unwrap();
    let info = client.server_info();
    let calls = (0..20).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let result = client
                .call_tool("echo", args(json!({"message": format!("m{i}")})))
                .await
                .unwrap();
            assert_eq!(first_text(&result), format!("Echo: m{i}"));
        })
    });
    for call in calls {
        call.await.unwrap();
    }
    assert_eq!(pids(&pid_file).len(), 1, "one server process for all calls");
    assert_eq!(client.server_info(), info);
    client.close().await;
}

#[tokio::test]
async fn a_killed_server_process_is_restarted_by_the_next_call() {
    init_logs();
    let scratch = Scratch::new("killed");
    let (pid_file, gate) = (scratch.file("pids"), scratch.file("gate"));
    std::fs::write(&gate, "").unwrap();
    let client = McpClient::connect(everything_stdio_tracked("everything", &pid_file, &gate))
        .await
        .unwrap();
    client
        .call_tool("echo", args(json!({"message": "before"})))
        .await
        .unwrap();
    let first = pids(&pid_file)[0];
    kill_9(first);
    // Reaped means the client's transport saw the end of the child's output.
    wait_until(
        "the killed server is reaped",
        Duration::from_secs(10),
        || !process_exists(first),
    )
    .await;

    let result = client
        .call_tool("echo", args(json!({"message": "after"})))
        .await
        .unwrap();
    assert_eq!(first_text(&result), "Echo: after");
    let started = pids(&pid_file);
    assert_eq!(started.len(), 2, "{started:?}");
    assert_ne!(started[1], first);
    // Lists are idempotent and work on the new session too.
    assert!(!client.list_tools().await.unwrap().is_empty());
    client.close().await;
}

#[tokio::test]
async fn a_server_that_cannot_restart_fails_clearly_within_the_timeout() {
    init_logs();
    let scratch = Scratch::new("gone");
    let (pid_file, gate) = (scratch.file("pids"), scratch.file("gate"));
    std::fs::write(&gate, "").unwrap();
    let config = everything_stdio_tracked("everything", &pid_file, &gate)
        .with_call_timeout(Duration::from_secs(4));
    let client = McpClient::connect(config).await.unwrap();
    std::fs::remove_file(&gate).unwrap();
    let pid = pids(&pid_file)[0];
    kill_9(pid);
    wait_until(
        "the killed server is reaped",
        Duration::from_secs(10),
        || !process_exists(pid),
    )
    .await;

    let started = Instant::now();
    let error = client
        .call_tool("echo", args(json!({"message": "x"})))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    match &error {
        McpError::Connect { server, message } => {
            assert_eq!(server, "everything");
            assert!(message.contains("exited"), "{message}");
        }
        other => panic!("expected a connect error, got {other}"),
    }
    // Reading operations fail the same way, and so does everything after close.
    assert!(client.list_tools().await.is_err());
    client.close().await;
    assert!(matches!(
        client.ping().await,
        Err(McpError::Disconnected { .. })
    ));
}

#[tokio::test]
async fn a_call_longer_than_the_timeout_is_a_timeout_and_the_session_survives() {
    init_logs();
    let config = everything_stdio("everything").with_call_timeout(Duration::from_millis(800));
    let client = McpClient::connect(config).await.unwrap();
    let started = Instant::now();
    let error = client
        .call_tool(
            "trigger-long-running-operation",
            args(json!({"duration": 5, "steps": 5})),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    match &error {
        McpError::Timeout {
            operation, timeout, ..
        } => {
            assert_eq!(operation, "tools/call");
            assert_eq!(*timeout, Duration::from_millis(800));
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(2),
        "took {took:?}"
    );
    // The request was cancelled; the session itself is fine.
    let echo = client
        .call_tool("echo", args(json!({"message": "still here"})))
        .await
        .unwrap();
    assert_eq!(first_text(&echo), "Echo: still here");
    client.close().await;
}

#[tokio::test]
async fn the_server_process_ends_with_close_and_with_drop() {
    init_logs();
    let scratch = Scratch::new("lifetime");
    let (pid_file, gate) = (scratch.file("pids"), scratch.file("gate"));
    std::fs::write(&gate, "").unwrap();

    let client = McpClient::connect(everything_stdio_tracked("a", &pid_file, &gate))
        .await
        .unwrap();
    let pid = pids(&pid_file)[0];
    assert!(process_exists(pid));
    client.close().await;
    assert!(
        !process_exists(pid),
        "close() returns once the child is reaped"
    );

    let client = McpClient::connect(everything_stdio_tracked("b", &pid_file, &gate))
        .await
        .unwrap();
    let pid = pids(&pid_file)[1];
    let clone = client.clone();
    drop(client);
    assert!(process_exists(pid), "a clone keeps the session");
    drop(clone);
    wait_until(
        "the dropped client's server is reaped",
        Duration::from_secs(15),
        || !process_exists(pid),
    )
    .await;
}

#[tokio::test]
async fn a_missing_command_is_a_connect_error() {
    init_logs();
    let config = ClientConfig::new(
        "missing",
        TransportConfig::Stdio {
            command: "junction-test-no-such-mcp-server".into(),
            args: vec![],
            env: BTreeMap::new(),
            cwd: None,
        },
    );
    match McpClient::connect(config).await {
        Err(McpError::Connect { server, message }) => {
            assert_eq!(server, "missing");
            assert!(message.contains("not found"), "{message}");
        }
        Err(other) => panic!("expected a connect error, got {other}"),
        Ok(_) => panic!("connected to a missing command"),
    }
}
