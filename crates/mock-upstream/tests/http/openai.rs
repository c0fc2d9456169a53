//! OpenAI Chat Completions routes: answers, streaming, tools, errors, the
//! behaviour grammar, authentication and recording.

use std::time::{Duration, Instant};

use junction_mock_upstream::{MockOptions, MockUpstream};
use serde_json::{Value, json};

use crate::common::{client, openai_chunks, post, post_raw};

fn chat(mock: &MockUpstream) -> String {
    format!("{}/chat/completions", mock.openai_base())
}

fn tools() -> Value {
    json!([
        { "type": "function", "function": { "name": "search", "parameters": { "type": "object" } } },
        { "type": "function", "function": { "name": "other", "parameters": { "type": "object" } } },
    ])
}

#[tokio::test]
async fn answers_a_chat_completion_and_records_it() {
    let mock = MockUpstream::start().await.unwrap();
    assert_eq!(mock.openai_base(), format!("{}/v1", mock.url()));
    assert!(mock.url().starts_with("http://127.0.0.1:"));
    let body = json!({
        "model": "mock-gpt",
        "messages": [
            { "role": "system", "content": "Be brief." },
            { "role": "user", "content": [
                { "type": "text", "text": "hi" },
                { "type": "text", "text": "there" },
            ] },
        ],
    });
    let answer = post(&chat(&mock), &body, &[("authorization", "Bearer sk-x")]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "application/json");
    assert_eq!(answer.headers["x-request-id"], "req_mock_1");
    let json = answer.json();
    assert_eq!(json["id"], "chatcmpl-mock-1");
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["model"], "mock-gpt");
    assert!(json["created"].as_u64().unwrap() > 1_600_000_000);
    assert!(json["system_fingerprint"].is_string());
    assert_eq!(
        json["choices"],
        json!([{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello from mock-gpt! You said: hi there [system: Be brief.]",
                "refusal": null,
            },
            "logprobs": null,
            "finish_reason": "stop",
        }])
    );
    assert_eq!(
        json["usage"],
        json!({ "prompt_tokens": 4, "completion_tokens": 10, "total_tokens": 14 })
    );

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(mock.request_count(), 1);
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].header("Authorization"), Some("Bearer sk-x"));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert!(
        requests[0]
            .headers
            .iter()
            .all(|(n, _)| *n == n.to_lowercase())
    );
    assert_eq!(requests[0].body, body);
}

#[tokio::test]
async fn serves_the_unversioned_path_and_the_model_list() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({ "model": "gpt-4o", "messages": [{ "role": "user", "content": "yo" }] });
    let answer = post(&format!("{}/chat/completions", mock.url()), &body, &[]).await;
    assert_eq!(
        answer.json()["choices"][0]["message"]["content"],
        "Hello from gpt-4o! You said: yo"
    );
    let models = client()
        .get(format!("{}/models", mock.openai_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 200);
    let models: Value = models.json().await.unwrap();
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "mock-gpt");
    assert_eq!(models["data"][0]["object"], "model");
    assert_eq!(models["data"].as_array().unwrap().len(), 1);

    let missing = post(&format!("{}/v1/nope", mock.url()), &json!({}), &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "unknown_url");
    let paths: Vec<String> = mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/chat/completions", "/v1/models", "/v1/nope"]);
}

#[tokio::test]
async fn calls_the_first_tool_then_reports_the_tool_result() {
    let mock = MockUpstream::start().await.unwrap();
    let mut body = json!({
        "model": "mock-gpt",
        "tools": tools(),
        "messages": [{ "role": "user", "content": "weather in Paris" }],
    });
    let json = post(&chat(&mock), &body, &[]).await.json();
    let choice = &json["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "call_mock_1");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "search");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({ "query": "weather in Paris" }));
    assert_eq!(json["usage"]["completion_tokens"], 3);

    body["tool_choice"] = json!({ "type": "function", "function": { "name": "other" } });
    let json = post(&chat(&mock), &body, &[]).await.json();
    assert_eq!(
        json["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "other"
    );

    body["tool_choice"] = json!("none");
    let json = post(&chat(&mock), &body, &[]).await.json();
    assert_eq!(json["choices"][0]["finish_reason"], "stop");

    let followup = json!({
        "model": "mock-gpt",
        "tools": tools(),
        "messages": [
            { "role": "user", "content": "weather in Paris" },
            { "role": "assistant", "content": null, "tool_calls": [{
                "id": "call_mock_1", "type": "function",
                "function": { "name": "search", "arguments": "{\"query\":\"weather in Paris\"}" },
            }] },
            { "role": "tool", "tool_call_id": "call_mock_1", "content": "sunny, 21C" },
        ],
    });
    let json = post(&chat(&mock), &followup, &[]).await.json();
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        json["choices"][0]["message"]["content"],
        "Tool result: sunny, 21C"
    );
    assert_eq!(json["usage"]["prompt_tokens"], 5);
}

#[tokio::test]
async fn streams_text_word_by_word_with_usage() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "mock-gpt",
        "stream": true,
        "stream_options": { "include_usage": true },
        "messages": [{ "role": "user", "content": "stream me" }],
    });
    let answer = post(&chat(&mock), &body, &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "text/event-stream");
    let chunks = openai_chunks(&answer.text);
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], "chatcmpl-mock-1");
        assert_eq!(chunk["model"], "mock-gpt");
        assert!(chunk.get("usage").is_some(), "usage key on every chunk");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({ "role": "assistant", "content": "" })
    );
    let words: Vec<&str> = chunks[1..chunks.len() - 2]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        words,
        [
            "Hello ",
            "from ",
            "mock-gpt! ",
            "You ",
            "said: ",
            "stream ",
            "me"
        ]
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["usage"], Value::Null);
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"],
        json!({ "prompt_tokens": 2, "completion_tokens": 7, "total_tokens": 9 })
    );

    let plain = json!({
        "model": "mock-gpt",
        "stream": true,
        "messages": [{ "role": "user", "content": "stream me" }],
    });
    let chunks = openai_chunks(&post(&chat(&mock), &plain, &[]).await.text);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}

#[tokio::test]
async fn streams_a_tool_call_in_fragments() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "mock-gpt",
        "stream": true,
        "tools": tools(),
        "messages": [{ "role": "user", "content": "find cats" }],
    });
    let chunks = openai_chunks(&post(&chat(&mock), &body, &[]).await.text);
    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    let head = &first["tool_calls"][0];
    assert_eq!(head["index"], 0);
    assert_eq!(head["id"], "call_mock_1");
    assert_eq!(head["type"], "function");
    assert_eq!(head["function"]["name"], "search");
    assert_eq!(head["function"]["arguments"], "");
    let pieces: Vec<&str> = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| {
            let call = &c["choices"][0]["delta"]["tool_calls"][0];
            assert_eq!(call["index"], 0);
            call["function"]["arguments"].as_str().unwrap()
        })
        .collect();
    assert!(pieces.len() >= 2, "{pieces:?}");
    let args: Value = serde_json::from_str(&pieces.concat()).unwrap();
    assert_eq!(args, json!({ "query": "find cats" }));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn error_models_answer_the_status_in_openai_shape() {
    let mock = MockUpstream::start().await.unwrap();
    for (model, status, kind) in [
        ("error-400", 400, "invalid_request_error"),
        ("error-429", 429, "requests"),
        ("error-500", 500, "server_error"),
        ("openai/error-503-backup", 503, "server_error"),
    ] {
        for stream in [false, true] {
            let body = json!({
                "model": model,
                "stream": stream,
                "messages": [{ "role": "user", "content": "hi" }],
            });
            let answer = post(&chat(&mock), &body, &[]).await;
            assert_eq!(answer.status, status, "{model}");
            assert_eq!(answer.content_type(), "application/json");
            let error = &answer.json()["error"];
            assert_eq!(error["type"], kind);
            assert!(error.get("param").is_some() && error.get("code").is_some());
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(&status.to_string()), "{message}");
        }
    }
}

#[tokio::test]
async fn slow_models_delay_the_answer() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({ "model": "slow-300", "messages": [{ "role": "user", "content": "hi" }] });
    let started = Instant::now();
    let answer = post(&chat(&mock), &body, &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        answer.json()["choices"][0]["message"]["content"],
        "Hello from slow-300! You said: hi"
    );
    let timed_out = client()
        .post(chat(&mock))
        .json(&body)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(timed_out.unwrap_err().is_timeout());
}

#[tokio::test]
async fn drip_models_send_the_first_event_before_the_stream_ends() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "drip-80",
        "stream": true,
        "messages": [{ "role": "user", "content": "one two three" }],
    });
    let started = Instant::now();
    let mut response = client().post(chat(&mock)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let first = response.chunk().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(String::from_utf8_lossy(&first).starts_with("data: "));
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let total = started.elapsed();
    // 1 role + 8 words + finish + [DONE] = 11 events, 10 gaps of 80 ms.
    let chunks = openai_chunks(&text);
    assert_eq!(chunks.len(), 10);
    assert!(total >= Duration::from_millis(800), "{total:?}");
    assert!(
        first_at + Duration::from_millis(500) < total,
        "{first_at:?} vs {total:?}"
    );

    // Not streaming: one wait, then the whole answer.
    let started = Instant::now();
    let body = json!({ "model": "drip-150", "messages": [{ "role": "user", "content": "x" }] });
    let answer = post(&chat(&mock), &body, &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(answer.json()["object"], "chat.completion");
}

#[tokio::test]
async fn requires_the_bearer_key_when_configured() {
    let mock = MockUpstream::start_with(MockOptions {
        require_api_key: Some("sk-mock".into()),
        record: true,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let body = json!({ "model": "mock-gpt", "messages": [{ "role": "user", "content": "hi" }] });
    for headers in [vec![], vec![("authorization", "Bearer sk-wrong")]] {
        let answer = post(&chat(&mock), &body, &headers).await;
        assert_eq!(answer.status, 401);
        let json = answer.json();
        assert_eq!(json["error"]["type"], "invalid_request_error");
        assert_eq!(json["error"]["code"], "invalid_api_key");
        assert_eq!(json["error"]["param"], Value::Null);
        assert!(json["error"]["message"].is_string());
    }
    let ok = post(&chat(&mock), &body, &[("authorization", "Bearer sk-mock")]).await;
    assert_eq!(ok.status, 200);
    let models = client()
        .get(format!("{}/models", mock.openai_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
    // Rejected requests are recorded too.
    assert_eq!(mock.request_count(), 4);
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test]
async fn rejects_malformed_requests_in_openai_shape() {
    let mock = MockUpstream::start().await.unwrap();
    let url = chat(&mock);
    let cases = [
        r#"{"model": "mock-gpt", "messages": ["#.to_owned(),
        "[1, 2]".to_owned(),
        json!({ "messages": [{ "role": "user", "content": "hi" }] }).to_string(),
        json!({ "model": "m" }).to_string(),
        json!({ "model": "m", "messages": [] }).to_string(),
        json!({ "model": "m", "messages": [{ "role": "human", "content": "hi" }] }).to_string(),
        json!({ "model": "m", "messages": [{ "role": "tool", "content": "42" }] }).to_string(),
    ];
    for body in &cases {
        let answer = post_raw(&url, body, &[]).await;
        assert_eq!(answer.status, 400, "{body}");
        let error = &answer.json()["error"];
        assert_eq!(error["type"], "invalid_request_error", "{body}");
        assert!(error["message"].is_string());
    }
    let recorded = mock.requests();
    assert_eq!(recorded.len(), cases.len());
    assert_eq!(recorded[0].body, Value::String(cases[0].clone()));
}

#[tokio::test]
async fn latency_option_delays_every_answer() {
    let mock = MockUpstream::start_with(MockOptions {
        latency: Duration::from_millis(200),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let body = json!({ "model": "mock-gpt", "messages": [{ "role": "user", "content": "hi" }] });
    let started = Instant::now();
    assert_eq!(post(&chat(&mock), &body, &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Not recording: counted, but nothing kept.
    assert_eq!(mock.request_count(), 1);
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn stops_serving_when_dropped() {
    let mock = MockUpstream::start().await.unwrap();
    let url = chat(&mock);
    drop(mock);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let body = json!({ "model": "mock-gpt", "messages": [{ "role": "user", "content": "hi" }] });
    assert!(client().post(url).json(&body).send().await.is_err());
}
