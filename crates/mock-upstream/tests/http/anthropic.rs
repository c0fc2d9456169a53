//! Anthropic Messages routes: answers, streaming events, tools, errors,
//! validation and authentication.

use std::time::{Duration, Instant};

use junction_mock_upstream::{MockOptions, MockUpstream};
use serde_json::{Value, json};

use crate::common::{anthropic_events, client, post, post_raw};

const VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

fn messages(mock: &MockUpstream) -> String {
    format!("{}/v1/messages", mock.url())
}

fn tools() -> Value {
    json!([
        { "name": "lookup", "description": "d", "input_schema": { "type": "object" } },
        { "name": "other", "input_schema": { "type": "object" } },
    ])
}

#[tokio::test]
async fn answers_a_message_with_the_system_prompt() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "system": [{ "type": "text", "text": "Be kind." }],
        "messages": [
            { "role": "user", "content": "first" },
            { "role": "assistant", "content": "ok" },
            { "role": "user", "content": [{ "type": "text", "text": "second question" }] },
        ],
    });
    let answer = post(&messages(&mock), &body, &[VERSION, ("x-api-key", "k")]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["request-id"], "req_mock_1");
    assert_eq!(
        answer.json(),
        json!({
            "id": "msg_mock_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-mock",
            "content": [{
                "type": "text",
                "text": "Hello from claude-mock! You said: second question [system: Be kind.]",
            }],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": { "input_tokens": 6, "output_tokens": 10 },
        })
    );
    let recorded = &mock.requests()[0];
    assert_eq!(recorded.path, "/v1/messages");
    assert_eq!(recorded.header("x-api-key"), Some("k"));
    assert_eq!(recorded.header("Anthropic-Version"), Some("2023-06-01"));
    assert_eq!(recorded.body, body);
}

#[tokio::test]
async fn uses_a_tool_then_reports_the_tool_result() {
    let mock = MockUpstream::start().await.unwrap();
    let mut body = json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "tools": tools(),
        "messages": [{ "role": "user", "content": "capital of France" }],
    });
    let json = post(&messages(&mock), &body, &[VERSION]).await.json();
    assert_eq!(json["stop_reason"], "tool_use");
    assert_eq!(
        json["content"],
        json!([{
            "type": "tool_use",
            "id": "toolu_mock_1",
            "name": "lookup",
            "input": { "query": "capital of France" },
        }])
    );

    body["tool_choice"] = json!({ "type": "tool", "name": "other" });
    let json = post(&messages(&mock), &body, &[VERSION]).await.json();
    assert_eq!(json["content"][0]["name"], "other");
    body["tool_choice"] = json!({ "type": "none" });
    let json = post(&messages(&mock), &body, &[VERSION]).await.json();
    assert_eq!(json["stop_reason"], "end_turn");

    let followup = json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "tools": tools(),
        "messages": [
            { "role": "user", "content": "capital of France" },
            { "role": "assistant", "content": [{
                "type": "tool_use", "id": "toolu_mock_1", "name": "lookup",
                "input": { "query": "capital of France" },
            }] },
            { "role": "user", "content": [{
                "type": "tool_result", "tool_use_id": "toolu_mock_1",
                "content": [{ "type": "text", "text": "Paris" }],
            }] },
        ],
    });
    let json = post(&messages(&mock), &followup, &[VERSION]).await.json();
    assert_eq!(json["stop_reason"], "end_turn");
    assert_eq!(json["content"][0]["text"], "Tool result: Paris");
    assert_eq!(json["usage"]["input_tokens"], 4);
}

#[tokio::test]
async fn streams_text_events_in_order() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "stream": true,
        "messages": [{ "role": "user", "content": "hi there" }],
    });
    let answer = post(&messages(&mock), &body, &[VERSION]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "text/event-stream");
    let events = anthropic_events(&answer.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["message_start", "ping", "content_block_start"];
    expected.extend(["content_block_delta"; 7]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let start = &events[0].1["message"];
    assert_eq!(start["id"], "msg_mock_1");
    assert_eq!(start["model"], "claude-mock");
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["usage"]["input_tokens"], 2);
    assert_eq!(
        events[2].1["content_block"],
        json!({ "type": "text", "text": "" })
    );
    let text: String = events[3..10]
        .iter()
        .map(|(_, e)| {
            assert_eq!(e["index"], 0);
            assert_eq!(e["delta"]["type"], "text_delta");
            e["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, "Hello from claude-mock! You said: hi there");
    assert_eq!(events[10].1["index"], 0);
    let delta = &events[11].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 7);
}

#[tokio::test]
async fn streams_tool_input_in_pieces() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "stream": true,
        "tools": tools(),
        "messages": [{ "role": "user", "content": "look this up" }],
    });
    let events = anthropic_events(&post(&messages(&mock), &body, &[VERSION]).await.text);
    assert_eq!(events[1].0, "ping");
    assert_eq!(
        events[2].1["content_block"],
        json!({ "type": "tool_use", "id": "toolu_mock_1", "name": "lookup", "input": {} })
    );
    let pieces: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, e)| {
            assert_eq!(e["delta"]["type"], "input_json_delta");
            e["delta"]["partial_json"].as_str().unwrap()
        })
        .collect();
    assert!(pieces.len() >= 2);
    let input: Value = serde_json::from_str(&pieces.concat()).unwrap();
    assert_eq!(input, json!({ "query": "look this up" }));
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(events.last().unwrap().0, "message_stop");
}

#[tokio::test]
async fn drip_and_slow_apply_to_messages() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "drip-60",
        "max_tokens": 8,
        "stream": true,
        "messages": [{ "role": "user", "content": "a" }],
    });
    let started = Instant::now();
    let mut response = client()
        .post(messages(&mock))
        .header(VERSION.0, VERSION.1)
        .json(&body)
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(String::from_utf8_lossy(&first).starts_with("event: message_start"));
    while response.chunk().await.unwrap().is_some() {}
    // 12 events (6 words), 11 gaps of 60 ms.
    let total = started.elapsed();
    assert!(total >= Duration::from_millis(660), "{total:?}");
    assert!(first_at + Duration::from_millis(400) < total);

    let body = json!({
        "model": "slow-250",
        "max_tokens": 8,
        "messages": [{ "role": "user", "content": "a" }],
    });
    let started = Instant::now();
    let answer = post(&messages(&mock), &body, &[VERSION]).await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn error_models_answer_the_status_in_anthropic_shape() {
    let mock = MockUpstream::start().await.unwrap();
    for (model, status, kind) in [
        ("error-400", 400, "invalid_request_error"),
        ("error-429", 429, "rate_limit_error"),
        ("error-500", 500, "api_error"),
        ("error-503", 503, "api_error"),
        ("error-529", 529, "overloaded_error"),
    ] {
        let body = json!({
            "model": model,
            "max_tokens": 8,
            "stream": true,
            "messages": [{ "role": "user", "content": "hi" }],
        });
        let answer = post(&messages(&mock), &body, &[VERSION]).await;
        assert_eq!(answer.status, status);
        let json = answer.json();
        assert_eq!(json["type"], "error");
        assert_eq!(json["error"]["type"], kind);
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains(&status.to_string()), "{message}");
    }
}

#[tokio::test]
async fn rejects_requests_a_wrong_translation_would_send() {
    let mock = MockUpstream::start().await.unwrap();
    let cases = [
        "{not json".to_owned(),
        json!({ "model": "m", "messages": [{ "role": "user", "content": "hi" }] }).to_string(),
        json!({
            "model": "m", "max_tokens": 8,
            "messages": [
                { "role": "system", "content": "be nice" },
                { "role": "user", "content": "hi" },
            ],
        })
        .to_string(),
        json!({
            "model": "m", "max_tokens": 8,
            "messages": [{ "role": "tool", "content": "42" }],
        })
        .to_string(),
        json!({
            "model": "m", "max_tokens": 8,
            "messages": [{ "role": "user", "content": "hi", "tool_call_id": "x" }],
        })
        .to_string(),
        json!({ "model": "m", "max_tokens": 8, "messages": [] }).to_string(),
        json!({ "max_tokens": 8, "messages": [{ "role": "user", "content": "hi" }] }).to_string(),
    ];
    for body in &cases {
        let answer = post_raw(&messages(&mock), body, &[VERSION]).await;
        assert_eq!(answer.status, 400, "{body}");
        let json = answer.json();
        assert_eq!(json["type"], "error");
        assert_eq!(json["error"]["type"], "invalid_request_error", "{body}");
        assert!(json["error"]["message"].is_string());
    }
    let missing_max_tokens = post_raw(&messages(&mock), &cases[1], &[VERSION]).await;
    assert!(missing_max_tokens.text.contains("max_tokens"));
    let system_role = post_raw(&messages(&mock), &cases[2], &[VERSION]).await;
    assert!(system_role.text.contains("system"));
}

#[tokio::test]
async fn requires_the_key_and_version_when_configured() {
    let mock = MockUpstream::start_with(MockOptions {
        require_api_key: Some("sk-ant".into()),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let body = json!({
        "model": "claude-mock",
        "max_tokens": 8,
        "messages": [{ "role": "user", "content": "hi" }],
    });
    for headers in [
        vec![VERSION],
        vec![VERSION, ("x-api-key", "wrong")],
        vec![("x-api-key", "sk-ant")],
        vec![VERSION, ("authorization", "Bearer sk-ant")],
    ] {
        let answer = post(&messages(&mock), &body, &headers).await;
        assert_eq!(answer.status, 401, "{headers:?}");
        let json = answer.json();
        assert_eq!(json["type"], "error");
        assert_eq!(json["error"]["type"], "authentication_error");
    }
    let ok = post(&messages(&mock), &body, &[VERSION, ("x-api-key", "sk-ant")]).await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn counts_tokens() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "claude-mock",
        "system": "two words",
        "messages": [{ "role": "user", "content": "three more words" }],
    });
    let answer = post(
        &format!("{}/v1/messages/count_tokens", mock.url()),
        &body,
        &[VERSION],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({ "input_tokens": 5 }));
}
