//! Tool loops in every wire format: several tool calls in one turn
//! (`MockOptions::parallel_tool_calls`) and the endless `always-tools` model.

use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
use serde_json::{Value, json};

use crate::common::{anthropic_events, openai_chunks, post, responses_events};

const VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

/// A mock calling every offered scripted tool: `time` and `echo` (in that
/// order) are scripted, `absent` is never offered, `other` has no script.
async fn parallel_mock() -> MockUpstream {
    MockUpstream::start_with(MockOptions {
        record: true,
        parallel_tool_calls: true,
        tool_calls: vec![
            ScriptedToolCall::new("time", json!({ "timezone": "UTC" })),
            ScriptedToolCall::new("absent", json!({})),
            ScriptedToolCall::new("echo", json!({ "text": "x" })),
        ],
        ..MockOptions::default()
    })
    .await
    .unwrap()
}

fn chat_tools(names: &[&str]) -> Value {
    names
        .iter()
        .map(|name| json!({ "type": "function", "function": { "name": name, "parameters": {} } }))
        .collect()
}

fn anthropic_tools(names: &[&str]) -> Value {
    names
        .iter()
        .map(|name| json!({ "name": name, "input_schema": { "type": "object" } }))
        .collect()
}

fn responses_tools(names: &[&str]) -> Value {
    names
        .iter()
        .map(|name| json!({ "type": "function", "name": name, "parameters": {} }))
        .collect()
}

/// `(id, name, arguments)` of each call, in order.
fn calls(list: &Value, id: &str, name: &str, arguments: &str) -> Vec<(String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|call| {
            let arguments = match call.pointer(arguments).unwrap() {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (
                call.pointer(id).unwrap().as_str().unwrap().to_owned(),
                call.pointer(name).unwrap().as_str().unwrap().to_owned(),
                arguments,
            )
        })
        .collect()
}

fn expected(prefix: &str, n: u64) -> Vec<(String, String, String)> {
    vec![
        (
            format!("{prefix}_{n}_1"),
            "time".into(),
            r#"{"timezone":"UTC"}"#.into(),
        ),
        (
            format!("{prefix}_{n}_2"),
            "echo".into(),
            r#"{"text":"x"}"#.into(),
        ),
    ]
}

#[tokio::test]
async fn chat_calls_every_scripted_tool_in_script_order() {
    let mock = parallel_mock().await;
    let url = format!("{}/chat/completions", mock.openai_base());
    let mut body = json!({
        "model": "mock-gpt",
        "tools": chat_tools(&["echo", "other", "time"]),
        "messages": [{ "role": "user", "content": "do both" }],
    });
    let json = post(&url, &body, &[]).await.json();
    let choice = &json["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(
        calls(
            &choice["message"]["tool_calls"],
            "/id",
            "/function/name",
            "/function/arguments"
        ),
        expected("call_mock", 1)
    );
    assert_eq!(json["usage"]["completion_tokens"], 2);

    // Streamed: each call opens under its own index, then its arguments.
    body["stream"] = json!(true);
    let chunks = openai_chunks(&post(&url, &body, &[]).await.text);
    let mut streamed: Vec<(String, String, String)> = Vec::new();
    let mut order = Vec::new();
    for chunk in &chunks[..chunks.len() - 1] {
        for fragment in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .unwrap()
        {
            let index = fragment["index"].as_u64().unwrap() as usize;
            order.push(index);
            if let Some(id) = fragment["id"].as_str() {
                assert_eq!(index, streamed.len());
                let name = fragment["function"]["name"].as_str().unwrap();
                streamed.push((id.into(), name.into(), String::new()));
            }
            streamed[index].2 += fragment["function"]["arguments"].as_str().unwrap();
        }
    }
    assert_eq!(streamed, expected("call_mock", 2));
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    // A forced choice makes one call, with the plain id.
    body["stream"] = json!(false);
    body["tool_choice"] = json!({ "type": "function", "function": { "name": "other" } });
    let json = post(&url, &body, &[]).await.json();
    assert_eq!(
        calls(
            &json["choices"][0]["message"]["tool_calls"],
            "/id",
            "/function/name",
            "/function/arguments"
        ),
        [(
            "call_mock_3".into(),
            "other".into(),
            r#"{"query":"do both"}"#.into()
        )]
    );

    // No offered tool is scripted: the single default call.
    let unscripted = json!({
        "model": "mock-gpt",
        "tools": chat_tools(&["other"]),
        "messages": [{ "role": "user", "content": "hi" }],
    });
    let json = post(&url, &unscripted, &[]).await.json();
    assert_eq!(
        calls(
            &json["choices"][0]["message"]["tool_calls"],
            "/id",
            "/function/name",
            "/function/arguments"
        ),
        [(
            "call_mock_4".into(),
            "other".into(),
            r#"{"query":"hi"}"#.into()
        )]
    );
}

#[tokio::test]
async fn anthropic_uses_every_scripted_tool_in_one_message() {
    let mock = parallel_mock().await;
    let url = format!("{}/v1/messages", mock.url());
    let mut body = json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "tools": anthropic_tools(&["echo", "time"]),
        "messages": [{ "role": "user", "content": "do both" }],
    });
    let json = post(&url, &body, &[VERSION]).await.json();
    assert_eq!(json["stop_reason"], "tool_use");
    assert_eq!(
        calls(&json["content"], "/id", "/name", "/input"),
        expected("toolu_mock", 1)
    );

    body["stream"] = json!(true);
    let events = anthropic_events(&post(&url, &body, &[VERSION]).await.text);
    let mut streamed: Vec<(String, String, String)> = Vec::new();
    let mut open = None;
    for (name, event) in &events {
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(open, None);
                assert_eq!(event["index"], streamed.len());
                let block = &event["content_block"];
                assert_eq!(block["type"], "tool_use");
                let (id, name) = (
                    block["id"].as_str().unwrap(),
                    block["name"].as_str().unwrap(),
                );
                streamed.push((id.into(), name.into(), String::new()));
                open = event["index"].as_u64();
            }
            "content_block_delta" => {
                assert_eq!(event["index"].as_u64(), open);
                let last = streamed.last_mut().unwrap();
                last.2 += event["delta"]["partial_json"].as_str().unwrap();
            }
            "content_block_stop" => {
                assert_eq!(event["index"].as_u64(), open.take());
            }
            _ => {}
        }
    }
    assert_eq!(streamed, expected("toolu_mock", 2));
    assert_eq!(
        events[events.len() - 2].1["delta"]["stop_reason"],
        "tool_use"
    );
}

#[tokio::test]
async fn responses_answers_several_function_call_items() {
    let mock = parallel_mock().await;
    let url = format!("{}/responses", mock.openai_base());
    let mut body = json!({
        "model": "gpt-mock",
        "tools": responses_tools(&["echo", "time"]),
        "input": "do both",
    });
    let json = post(&url, &body, &[]).await.json();
    let output = &json["output"];
    assert_eq!(
        calls(output, "/call_id", "/name", "/arguments"),
        expected("call_mock", 1)
    );
    assert_eq!(output[0]["id"], "fc_mock_1_1");
    assert_eq!(output[1]["id"], "fc_mock_1_2");
    assert!(
        output
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["type"] == "function_call" && item["status"] == "completed")
    );

    body["stream"] = json!(true);
    let events = responses_events(&post(&url, &body, &[]).await.text);
    let items: Vec<&Value> = events
        .iter()
        .filter(|(name, _)| name == "response.output_item.done")
        .map(|(_, event)| &event["item"])
        .collect();
    assert_eq!(items.len(), 2);
    for (k, (name, event)) in events.iter().enumerate() {
        if name.starts_with("response.function_call_arguments") {
            // Each argument event belongs to the item added last.
            let added = events[..k]
                .iter()
                .rev()
                .find(|(n, _)| n == "response.output_item.added")
                .unwrap();
            assert_eq!(event["output_index"], added.1["output_index"]);
            assert_eq!(event["item_id"], added.1["item"]["id"]);
        }
    }
    let completed = &events.last().unwrap().1["response"]["output"];
    assert_eq!(completed, &json!(items));
    assert_eq!(
        calls(completed, "/call_id", "/name", "/arguments"),
        expected("call_mock", 2)
    );
}

#[tokio::test]
async fn always_tools_keeps_calling_after_tool_results_in_every_format() {
    let mock = MockUpstream::start().await.unwrap();
    let chat = json!({
        "model": "always-tools",
        "tools": chat_tools(&["search"]),
        "messages": [
            { "role": "user", "content": "loop" },
            { "role": "assistant", "content": null, "tool_calls": [{
                "id": "call_0", "type": "function", "function": { "name": "search", "arguments": "{}" },
            }] },
            { "role": "tool", "tool_call_id": "call_0", "content": "again" },
        ],
    });
    let url = format!("{}/chat/completions", mock.openai_base());
    let json = post(&url, &chat, &[]).await.json();
    assert_eq!(json["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        calls(
            &json["choices"][0]["message"]["tool_calls"],
            "/id",
            "/function/name",
            "/function/arguments"
        ),
        [(
            "call_mock_1".into(),
            "search".into(),
            r#"{"query":"loop"}"#.into()
        )]
    );
    // Without tools there is nothing to call: the tool result is reported.
    let mut no_tools = chat.clone();
    no_tools.as_object_mut().unwrap().remove("tools");
    let json = post(&url, &no_tools, &[]).await.json();
    assert_eq!(
        json["choices"][0]["message"]["content"],
        "Tool result: again"
    );

    let anthropic = json!({
        "model": "anthropic/always-tools-b",
        "max_tokens": 64,
        "tools": anthropic_tools(&["search"]),
        "messages": [
            { "role": "user", "content": "loop" },
            { "role": "assistant", "content": [{ "type": "tool_use", "id": "t0", "name": "search", "input": {} }] },
            { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "t0", "content": "again" }] },
        ],
    });
    let json = post(
        &format!("{}/v1/messages", mock.url()),
        &anthropic,
        &[VERSION],
    )
    .await
    .json();
    assert_eq!(json["stop_reason"], "tool_use");
    assert_eq!(json["content"][0]["id"], "toolu_mock_3");

    let responses = json!({
        "model": "always-tools",
        "stream": true,
        "tools": responses_tools(&["search"]),
        "input": [
            { "role": "user", "content": "loop" },
            { "type": "function_call", "call_id": "c0", "name": "search", "arguments": "{}" },
            { "type": "function_call_output", "call_id": "c0", "output": "again" },
        ],
    });
    let url = format!("{}/responses", mock.openai_base());
    let events = responses_events(&post(&url, &responses, &[]).await.text);
    let output = &events.last().unwrap().1["response"]["output"];
    assert_eq!(
        calls(output, "/call_id", "/name", "/arguments"),
        [(
            "call_mock_4".into(),
            "search".into(),
            r#"{"query":"loop"}"#.into()
        )]
    );
}

#[tokio::test]
async fn always_tools_with_parallel_calls_repeats_every_scripted_call() {
    let mock = parallel_mock().await;
    let body = json!({
        "model": "always-tools",
        "tools": responses_tools(&["time", "echo"]),
        "input": [
            { "role": "user", "content": "loop" },
            { "type": "function_call", "call_id": "a", "name": "time", "arguments": "{}" },
            { "type": "function_call", "call_id": "b", "name": "echo", "arguments": "{}" },
            { "type": "function_call_output", "call_id": "a", "output": "noon" },
            { "type": "function_call_output", "call_id": "b", "output": "x" },
        ],
    });
    let json = post(&format!("{}/responses", mock.openai_base()), &body, &[])
        .await
        .json();
    assert_eq!(
        calls(&json["output"], "/call_id", "/name", "/arguments"),
        expected("call_mock", 1)
    );
}
