//! OpenAI Responses API routes: answers, input items, function calls,
//! streaming events, errors, the behaviour grammar, authentication and
//! recording.

use std::time::{Duration, Instant};

use junction_mock_upstream::{MockOptions, MockUpstream};
use serde_json::{Value, json};

use crate::common::{client, post, post_raw, responses_events};

fn responses(mock: &MockUpstream) -> String {
    format!("{}/responses", mock.openai_base())
}

fn tools() -> Value {
    json!([
        { "type": "mcp", "server_label": "ignored", "server_url": "http://x" },
        { "type": "function", "name": "search", "description": "d", "parameters": { "type": "object" } },
        { "type": "function", "name": "other", "parameters": { "type": "object" } },
    ])
}

#[tokio::test]
async fn answers_a_string_input_and_records_it() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "gpt-mock",
        "instructions": "Be brief.",
        "input": "hi there",
        "temperature": 0.5,
        "vendor_x": 1,
    });
    let answer = post(
        &responses(&mock),
        &body,
        &[("authorization", "Bearer sk-x")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "application/json");
    assert_eq!(answer.headers["x-request-id"], "req_mock_1");
    let json = answer.json();
    assert_eq!(json["id"], "resp_mock_1");
    assert_eq!(json["object"], "response");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["model"], "gpt-mock");
    assert_eq!(json["error"], Value::Null);
    assert!(json["created_at"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(json["instructions"], "Be brief.");
    assert_eq!(json["temperature"], 0.5);
    assert_eq!(json["tools"], json!([]));
    assert_eq!(
        json["output"],
        json!([{
            "type": "message",
            "id": "msg_mock_1",
            "role": "assistant",
            "status": "completed",
            "content": [{
                "type": "output_text",
                "text": "Hello from gpt-mock! You said: hi there [system: Be brief.]",
                "annotations": [],
            }],
        }])
    );
    assert_eq!(json["usage"]["input_tokens"], 4);
    assert_eq!(json["usage"]["output_tokens"], 10);
    assert_eq!(json["usage"]["total_tokens"], 14);

    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, "/v1/responses");
    assert_eq!(recorded[0].header("authorization"), Some("Bearer sk-x"));
    assert_eq!(recorded[0].body, body);

    let unversioned = post(&format!("{}/responses", mock.url()), &body, &[]).await;
    assert_eq!(unversioned.json()["id"], "resp_mock_2");
    assert_eq!(mock.requests()[1].path, "/responses");
}

#[tokio::test]
async fn reads_message_items_and_their_parts() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({
        "model": "gpt-mock",
        "input": [
            { "role": "developer", "content": "Use French." },
            { "type": "message", "role": "user", "content": "first" },
            { "type": "message", "role": "assistant", "content": [
                { "type": "output_text", "text": "ok then" },
            ] },
            { "type": "reasoning", "id": "rs_1", "summary": [] },
            { "role": "user", "content": [
                { "type": "input_text", "text": "second" },
                { "type": "input_image", "image_url": "data:," },
                { "type": "input_text", "text": "question" },
            ] },
        ],
    });
    let json = post(&responses(&mock), &body, &[]).await.json();
    assert_eq!(
        json["output"][0]["content"][0]["text"],
        "Hello from gpt-mock! You said: second question [system: Use French.]"
    );
    // 2 (system) + 1 + 2 + 2 words.
    assert_eq!(json["usage"]["input_tokens"], 7);
    assert_eq!(json["instructions"], Value::Null);
}

#[tokio::test]
async fn calls_the_first_function_then_reports_the_outputs() {
    let mock = MockUpstream::start().await.unwrap();
    let mut body = json!({
        "model": "gpt-mock",
        "tools": tools(),
        "input": "weather in Paris",
    });
    let json = post(&responses(&mock), &body, &[]).await.json();
    assert_eq!(json["status"], "completed");
    assert_eq!(
        json["output"],
        json!([{
            "type": "function_call",
            "id": "fc_mock_1",
            "call_id": "call_mock_1",
            "name": "search",
            "arguments": "{\"query\":\"weather in Paris\"}",
            "status": "completed",
        }])
    );
    assert_eq!(json["tools"], tools());
    assert_eq!(json["usage"]["output_tokens"], 3);

    body["tool_choice"] = json!({ "type": "function", "name": "other" });
    let json = post(&responses(&mock), &body, &[]).await.json();
    assert_eq!(json["output"][0]["name"], "other");
    assert_eq!(json["tool_choice"], body["tool_choice"]);

    body["tool_choice"] = json!("none");
    let json = post(&responses(&mock), &body, &[]).await.json();
    assert_eq!(json["output"][0]["type"], "message");

    // Only MCP tools: nothing to call.
    let mcp_only = json!({ "model": "gpt-mock", "tools": [tools()[0]], "input": "x" });
    let json = post(&responses(&mock), &mcp_only, &[]).await.json();
    assert_eq!(json["output"][0]["type"], "message");

    let followup = json!({
        "model": "gpt-mock",
        "tools": tools(),
        "input": [
            { "role": "user", "content": "weather in Paris and Rome" },
            { "type": "function_call", "call_id": "call_a", "name": "search", "arguments": "{}" },
            { "type": "function_call_output", "call_id": "call_a", "output": "sunny" },
            { "type": "function_call", "call_id": "call_b", "name": "search", "arguments": "{}" },
            { "type": "function_call_output", "call_id": "call_b", "output": [
                { "type": "input_text", "text": "rainy, 12C" },
            ] },
        ],
    });
    let json = post(&responses(&mock), &followup, &[]).await.json();
    assert_eq!(
        json["output"][0]["content"][0]["text"],
        "Tool result: sunny rainy, 12C"
    );
    assert_eq!(json["usage"]["input_tokens"], 8);
}

#[tokio::test]
async fn streams_text_events_in_order() {
    let mock = MockUpstream::start().await.unwrap();
    let body = json!({ "model": "gpt-mock", "stream": true, "input": "stream me" });
    let answer = post(&responses(&mock), &body, &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "text/event-stream");
    assert!(!answer.text.contains("[DONE]"));
    let events = responses_events(&answer.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(["response.output_text.delta"; 7]);
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(names, expected);

    let created = &events[0].1["response"];
    assert_eq!(created["id"], "resp_mock_1");
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["output"], json!([]));
    assert_eq!(created["usage"], Value::Null);
    let added = &events[2].1;
    assert_eq!(added["output_index"], 0);
    assert_eq!(
        added["item"],
        json!({ "type": "message", "id": "msg_mock_1", "role": "assistant", "status": "in_progress", "content": [] })
    );
    assert_eq!(
        events[3].1["part"],
        json!({ "type": "output_text", "text": "", "annotations": [] })
    );
    let text: String = events[4..11]
        .iter()
        .map(|(_, e)| {
            assert_eq!(e["item_id"], "msg_mock_1");
            assert_eq!(
                (e["output_index"].as_u64(), e["content_index"].as_u64()),
                (Some(0), Some(0))
            );
            e["delta"].as_str().unwrap().to_owned()
        })
        .collect();
    let full = "Hello from gpt-mock! You said: stream me";
    assert_eq!(text, full);
    assert_eq!(events[11].1["text"], full);
    assert_eq!(events[12].1["part"]["text"], full);
    assert_eq!(events[13].1["item"]["status"], "completed");
    assert_eq!(events[13].1["item"]["content"][0]["text"], full);
    let completed = &events[14].1["response"];
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["output"], json!([events[13].1["item"]]));
    assert_eq!(completed["usage"]["input_tokens"], 2);
    assert_eq!(completed["usage"]["output_tokens"], 7);
    assert_eq!(completed["created_at"], created["created_at"]);
}

#[tokio::test]
async fn streams_a_function_call_in_pieces() {
    let mock = MockUpstream::start().await.unwrap();
    let body =
        json!({ "model": "gpt-mock", "stream": true, "tools": tools(), "input": "find cats" });
    let events = responses_events(&post(&responses(&mock), &body, &[]).await.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..3],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added"
        ]
    );
    assert_eq!(
        &names[names.len() - 3..],
        [
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(
        events[2].1["item"],
        json!({
            "type": "function_call", "id": "fc_mock_1", "call_id": "call_mock_1",
            "name": "search", "arguments": "", "status": "in_progress",
        })
    );
    let pieces: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "response.function_call_arguments.delta")
        .map(|(_, e)| {
            assert_eq!(e["item_id"], "fc_mock_1");
            assert_eq!(e["output_index"], 0);
            e["delta"].as_str().unwrap()
        })
        .collect();
    assert_eq!(pieces.len(), 3);
    let arguments = pieces.concat();
    assert_eq!(arguments, r#"{"query":"find cats"}"#);
    let done = &events[events.len() - 3].1;
    assert_eq!(
        (done["name"].as_str(), done["arguments"].as_str()),
        (Some("search"), Some(arguments.as_str()))
    );
    let item = &events[events.len() - 2].1["item"];
    assert_eq!(item["status"], "completed");
    assert_eq!(item["arguments"], arguments.as_str());
    assert_eq!(
        events.last().unwrap().1["response"]["output"],
        json!([item])
    );
}

#[tokio::test]
async fn error_slow_and_drip_models_behave_as_in_chat() {
    let mock = MockUpstream::start().await.unwrap();
    for (model, status, kind) in [
        ("error-400", 400, "invalid_request_error"),
        ("error-429", 429, "requests"),
        ("openai/error-503-backup", 503, "server_error"),
    ] {
        for stream in [false, true] {
            let body = json!({ "model": model, "stream": stream, "input": "hi" });
            let answer = post(&responses(&mock), &body, &[]).await;
            assert_eq!(answer.status, status, "{model}");
            assert_eq!(answer.content_type(), "application/json");
            assert_eq!(answer.json()["error"]["type"], kind);
        }
    }

    let body = json!({ "model": "slow-250", "input": "hi" });
    let started = Instant::now();
    assert_eq!(post(&responses(&mock), &body, &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));

    let body = json!({ "model": "drip-60", "stream": true, "input": "a b" });
    let started = Instant::now();
    let mut response = client()
        .post(responses(&mock))
        .json(&body)
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(String::from_utf8_lossy(&first).starts_with("event: response.created\n"));
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let total = started.elapsed();
    // created, in_progress, item added, part added, 7 deltas, text done,
    // part done, item done, completed: 15 events, 14 gaps of 60 ms.
    assert_eq!(responses_events(&text).len(), 15);
    assert!(total >= Duration::from_millis(840), "{total:?}");
    assert!(first_at + Duration::from_millis(500) < total);
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
    let body = json!({ "model": "gpt-mock", "input": "hi" });
    for headers in [vec![], vec![("authorization", "Bearer sk-wrong")]] {
        let answer = post(&responses(&mock), &body, &headers).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.json()["error"]["code"], "invalid_api_key");
    }
    let ok = post(
        &responses(&mock),
        &body,
        &[("authorization", "Bearer sk-mock")],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn rejects_requests_a_wrong_translation_would_send() {
    let mock = MockUpstream::start().await.unwrap();
    let cases = [
        ("{not json".to_owned(), "body"),
        ("[1]".to_owned(), "body"),
        (json!({ "input": "hi" }).to_string(), "model"),
        (json!({ "model": "m" }).to_string(), "input"),
        (json!({ "model": "m", "input": 3 }).to_string(), "input"),
        (json!({ "model": "m", "input": "x", "instructions": ["a"] }).to_string(), "instructions"),
        (json!({ "model": "m", "input": ["hi"] }).to_string(), "input[0]"),
        (json!({ "model": "m", "input": [{ "content": "hi" }] }).to_string(), "input[0].type"),
        (json!({ "model": "m", "input": [{ "type": "banana" }] }).to_string(), "input[0].type"),
        (json!({ "model": "m", "input": [{ "role": "tool", "content": "42" }] }).to_string(), "input[0].role"),
        (
            json!({ "model": "m", "input": [{ "role": "user", "content": [{ "type": "text", "text": "hi" }] }] }).to_string(),
            "input[0].content[0].type",
        ),
        (json!({ "model": "m", "input": [{ "role": "user" }] }).to_string(), "input[0].content"),
        (
            json!({ "model": "m", "input": [{ "type": "function_call", "name": "f", "arguments": "{}" }] }).to_string(),
            "input[0].call_id",
        ),
        (
            json!({ "model": "m", "input": [{ "type": "function_call_output", "output": "x" }] }).to_string(),
            "input[0].call_id",
        ),
        (
            json!({ "model": "m", "input": [{ "type": "function_call_output", "call_id": "c" }] }).to_string(),
            "input[0].output",
        ),
    ];
    for (body, param) in &cases {
        let answer = post_raw(&responses(&mock), body, &[]).await;
        assert_eq!(answer.status, 400, "{body}");
        let error = &answer.json()["error"];
        assert_eq!(error["type"], "invalid_request_error", "{body}");
        if *param != "body" || error["param"] != Value::Null {
            assert_eq!(error["param"], *param, "{body}");
        }
        assert!(error["message"].is_string());
    }
    assert_eq!(mock.requests().len(), cases.len());
}
