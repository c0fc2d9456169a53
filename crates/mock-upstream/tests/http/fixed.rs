//! The fixed fast path: constant replies, no recording, key still checked.

use junction_mock_upstream::{MockOptions, MockUpstream};
use serde_json::json;

use crate::common::{openai_chunks, post};

async fn fixed_mock(key: Option<&str>) -> MockUpstream {
    MockUpstream::start_with(MockOptions {
        fixed: true,
        record: true,
        require_api_key: key.map(str::to_owned),
        ..MockOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn answers_constant_bytes_without_recording() {
    let mock = fixed_mock(None).await;
    let url = format!("{}/chat/completions", mock.openai_base());
    let first = post(
        &url,
        &json!({ "model": "anything", "messages": [{ "role": "user", "content": "a" }] }),
        &[],
    )
    .await;
    let second = post(&url, &json!({ "model": "error-500", "stream": false }), &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.content_type(), "application/json");
    assert_eq!(first.text, second.text);
    assert!(
        (1_000..=1_200).contains(&first.text.len()),
        "{}",
        first.text.len()
    );
    let json = first.json();
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["model"], "mock");
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert!(json["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // The unversioned path is fixed too; nothing is counted or recorded.
    let alias = post(&format!("{}/chat/completions", mock.url()), &json!({}), &[]).await;
    assert_eq!(alias.text, first.text);
    assert_eq!(mock.request_count(), 0);
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn streams_twenty_chunks() {
    let mock = fixed_mock(None).await;
    let url = format!("{}/chat/completions", mock.openai_base());
    let body = json!({ "model": "m", "stream": true, "messages": [] });
    let answer = post(&url, &body, &[]).await;
    assert_eq!(answer.content_type(), "text/event-stream");
    let chunks = openai_chunks(&answer.text);
    assert_eq!(chunks.len(), 20);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[19]["choices"][0]["finish_reason"], "stop");
    assert!(chunks.iter().all(|c| c["model"] == "mock"));
    let text: String = chunks[1..19]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text.split(' ').count(), 18);

    let with_usage = json!({
        "model": "m",
        "stream": true,
        "stream_options": { "include_usage": true },
        "messages": [],
    });
    let chunks = openai_chunks(&post(&url, &with_usage, &[]).await.text);
    assert_eq!(chunks.len(), 21);
    assert_eq!(chunks[20]["choices"], json!([]));
    assert!(chunks[20]["usage"]["completion_tokens"].as_u64().is_some());
    assert!(chunks[..20].iter().all(|c| c["usage"].is_null()));
}

#[tokio::test]
async fn checks_the_key_and_keeps_other_routes_scripted() {
    let mock = fixed_mock(Some("sk-bench")).await;
    let url = format!("{}/chat/completions", mock.openai_base());
    let denied = post(&url, &json!({}), &[]).await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json()["error"]["code"], "invalid_api_key");
    let ok = post(&url, &json!({}), &[("authorization", "Bearer sk-bench")]).await;
    assert_eq!(ok.status, 200);

    let anthropic = post(
        &format!("{}/v1/messages", mock.url()),
        &json!({
            "model": "claude-mock",
            "max_tokens": 8,
            "messages": [{ "role": "user", "content": "hi" }],
        }),
        &[
            ("x-api-key", "sk-bench"),
            ("anthropic-version", "2023-06-01"),
        ],
    )
    .await;
    assert_eq!(
        anthropic.json()["content"][0]["text"],
        "Hello from claude-mock! You said: hi"
    );
    assert_eq!(mock.request_count(), 1);
}
