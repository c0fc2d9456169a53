//! The `mockllm` binary: readiness line, fixed and scripted modes, signals.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{openai_chunks, post};

/// Starts `mockllm` on a free port; returns the child and its base URL.
async fn spawn(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockllm"))
        .args(["--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .unwrap()
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("mockllm listening on ")
        .unwrap_or_else(|| panic!("unexpected readiness line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// Sends SIGTERM and expects a clean exit.
async fn terminate(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn serves_fixed_replies_by_default_and_exits_on_sigterm() {
    let (child, url) = spawn(&["--api-key", "sk-b"]).await;
    let chat = format!("{url}/v1/chat/completions");
    let auth = [("authorization", "Bearer sk-b")];
    let answer = post(&chat, &json!({ "model": "x", "messages": [] }), &auth).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["model"], "mock");
    let stream = post(&chat, &json!({ "stream": true }), &auth).await;
    assert_eq!(openai_chunks(&stream.text).len(), 20);
    assert_eq!(post(&chat, &json!({}), &[]).await.status, 401);
    terminate(child).await;
}

#[tokio::test]
async fn scripted_flag_enables_the_grammar() {
    let (child, url) = spawn(&["--scripted", "--latency-ms", "1"]).await;
    let chat = format!("{url}/v1/chat/completions");
    let body = json!({ "model": "mock-gpt", "messages": [{ "role": "user", "content": "hey" }] });
    let answer = post(&chat, &body, &[]).await;
    assert_eq!(
        answer.json()["choices"][0]["message"]["content"],
        "Hello from mock-gpt! You said: hey"
    );
    let error = post(
        &chat,
        &json!({ "model": "error-503", "messages": [{ "role": "user", "content": "x" }] }),
        &[],
    )
    .await;
    assert_eq!(error.status, 503);
    terminate(child).await;
}
