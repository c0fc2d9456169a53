//! Chat completions through both provider adapters, against mock upstreams that speak the real
//! wire formats: plain answers, streams, tool calls, usage, and what reaches the upstream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestGateway, client, deployment, sse_data, streamed_text};
use futures_util::StreamExt;
use junction_mock_upstream::{MockOptions, MockUpstream};
use serde_json::{Value, json};

async fn openai_and_anthropic() -> (MockUpstream, TestGateway) {
    let mock = MockUpstream::start().await.unwrap();
    let claude = format!(
        "  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-upstream\n      api_base: {}\n      api_key: sk-ant-secret\n",
        mock.url()
    );
    let yaml = format!(
        "model_list:\n{}{claude}",
        deployment("gpt", "openai/gpt-4o-upstream", &mock.openai_base()),
    );
    (mock, TestGateway::start(&yaml).await)
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    }}])
}

#[tokio::test]
async fn openai_passthrough_rewrites_the_model_keeps_unknown_fields_and_hides_the_client_key() {
    let (mock, gw) = openai_and_anthropic().await;
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "gpt", "messages": [{"role": "user", "content": "hi there"}],
                    "vendor_extension": {"a": 1}, "temperature": 0.5}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from gpt-4o-upstream! You said: hi there"
    );
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["model"], "gpt-4o-upstream");
    assert_eq!(sent.body["vendor_extension"], json!({"a": 1}));
    assert_eq!(sent.body["temperature"], json!(0.5));
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-upstream-secret")
    );
    let all_headers = format!("{:?}", sent.headers);
    assert!(
        !all_headers.contains(MASTER_KEY),
        "client key leaked upstream: {all_headers}"
    );
}

#[tokio::test]
async fn openai_stream_is_relayed_with_usage_when_asked() {
    let (_mock, gw) = openai_and_anthropic().await;
    let resp = client()
        .post(gw.chat_url())
        .bearer_auth(MASTER_KEY)
        .json(
            &json!({"model": "gpt", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "stream me"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let events = sse_data(&resp.text().await.unwrap());
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(
        streamed_text(&events),
        "Hello from gpt-4o-upstream! You said: stream me"
    );
    let usage_chunk: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(usage_chunk["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn openai_tool_calls_round_trip() {
    let (mock, gw) = openai_and_anthropic().await;
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "gpt", "tools": weather_tool(),
                    "messages": [{"role": "user", "content": "Paris"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"query": "Paris"}));
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "gpt", "tools": weather_tool(), "messages": [
                {"role": "user", "content": "Paris"},
                {"role": "assistant", "content": null, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21C"}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Tool result: sunny, 21C"
    );
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn anthropic_is_translated_both_ways_with_system_prompt_and_usage() {
    let (mock, gw) = openai_and_anthropic().await;
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "claude", "max_tokens": 100, "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hello"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from claude-upstream! You said: hello [system: be brief]"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.body["model"], "claude-upstream");
    assert_eq!(sent.body["system"], "be brief");
    assert_eq!(sent.body["max_tokens"], 100);
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-secret"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
}

#[tokio::test]
async fn anthropic_tool_calls_and_results_are_translated() {
    let (mock, gw) = openai_and_anthropic().await;
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "claude", "tools": weather_tool(),
                    "messages": [{"role": "user", "content": "Oslo"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    let call = body["choices"][0]["message"]["tool_calls"][0].clone();
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        call["function"]["arguments"]
            .as_str()
            .map(|a| serde_json::from_str::<Value>(a).unwrap()),
        Some(json!({"query": "Oslo"}))
    );
    let sent_tools = &mock.requests()[0].body["tools"];
    assert_eq!(sent_tools[0]["name"], "get_weather");
    assert_eq!(sent_tools[0]["input_schema"]["required"], json!(["query"]));

    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "claude", "tools": weather_tool(), "messages": [
                {"role": "user", "content": "Oslo"},
                {"role": "assistant", "content": null, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": "snow"}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Tool result: snow"
    );
    let sent = &mock.requests()[1].body;
    assert_eq!(sent["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(sent["messages"][2]["content"][0]["type"], "tool_result");
}

#[tokio::test]
async fn anthropic_stream_becomes_chat_chunks_with_tool_call_fragments() {
    let (_mock, gw) = openai_and_anthropic().await;
    let text = gw
        .chat_text(
            MASTER_KEY,
            &json!({"model": "claude", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let events = sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(
        streamed_text(&events),
        "Hello from claude-upstream! You said: hi"
    );
    let ids: std::collections::HashSet<String> = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one id for every chunk: {ids:?}");
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);

    let text = gw
        .chat_text(
            MASTER_KEY,
            &json!({"model": "claude", "stream": true, "tools": weather_tool(),
                      "messages": [{"role": "user", "content": "Rome"}]}),
        )
        .await;
    let chunks: Vec<Value> = sse_data(&text)
        .iter()
        .filter_map(|e| serde_json::from_str(e).ok())
        .collect();
    let mut arguments = String::new();
    let mut name = None;
    for c in &chunks {
        if let Some(calls) = c["choices"][0]["delta"]["tool_calls"].as_array() {
            assert_eq!(calls[0]["index"], 0);
            if let Some(n) = calls[0]["function"]["name"].as_str() {
                name = Some(n.to_owned());
            }
            arguments.push_str(calls[0]["function"]["arguments"].as_str().unwrap_or(""));
        }
    }
    assert_eq!(name.as_deref(), Some("get_weather"));
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"query": "Rome"})
    );
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("tool_calls"));
}

/// The first chunk must reach the client while the upstream is still streaming.
#[tokio::test]
async fn streams_are_not_buffered() {
    for (provider, base) in [("openai", "openai_base"), ("anthropic", "url")] {
        let mock = MockUpstream::start().await.unwrap();
        let api_base = if base == "url" {
            mock.url()
        } else {
            mock.openai_base()
        };
        let yaml = format!(
            "model_list:\n{}",
            deployment("slowpoke", &format!("{provider}/drip-400"), &api_base)
        );
        let gw = TestGateway::start(&yaml).await;
        let started = std::time::Instant::now();
        let resp = client()
            .post(gw.chat_url())
            .bearer_auth(MASTER_KEY)
            .json(&json!({"model": "slowpoke", "stream": true,
                          "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        let mut body = resp.bytes_stream();
        let first = body.next().await.unwrap().unwrap();
        let first_at = started.elapsed();
        assert!(String::from_utf8_lossy(&first).contains("data:"));
        let mut rest = Vec::new();
        while let Some(chunk) = body.next().await {
            rest.extend_from_slice(&chunk.unwrap());
        }
        let total = started.elapsed();
        // The mock waits 400 ms between events and sends several: the whole stream takes
        // seconds, while the first event comes before the first pause is over.
        assert!(
            total.as_millis() >= 1200,
            "{provider}: stream took {total:?}"
        );
        assert!(
            first_at.as_millis() < 400,
            "{provider}: first chunk after {first_at:?} of {total:?}"
        );
        assert!(String::from_utf8_lossy(&rest).contains("[DONE]"));
    }
}

#[tokio::test]
async fn mock_response_answers_without_calling_the_upstream() {
    let (mock, gw) = openai_and_anthropic().await;
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "gpt", "mock_response": "canned!", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["choices"][0]["message"]["content"], "canned!");
    // LiteLLM's route without the /v1 prefix answers the same.
    let (status, body) = gw
        .post(
            "/chat/completions",
            Some(MASTER_KEY),
            &json!({"model": "gpt", "mock_response": "also canned", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(
        (status, &body["choices"][0]["message"]["content"]),
        (200, &json!("also canned"))
    );
    let text = gw
        .chat_text(
            MASTER_KEY,
            &json!({"model": "claude", "stream": true, "mock_response": "streamed canned answer",
                      "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(streamed_text(&sse_data(&text)), "streamed canned answer");
    assert_eq!(mock.request_count(), 0);
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "gpt", "mock_response": "litellm.RateLimitError", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test]
async fn deployment_params_are_defaults_the_client_can_override() {
    let mock = MockUpstream::start_with(MockOptions {
        record: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: tuned\n    litellm_params:\n      model: openai/m\n      api_base: {}\n      temperature: 0.1\n      max_tokens: 7\n",
        mock.openai_base()
    );
    let gw = TestGateway::start(&yaml).await;
    let msg = json!([{"role": "user", "content": "x"}]);
    gw.chat(MASTER_KEY, &json!({"model": "tuned", "messages": msg}))
        .await;
    gw.chat(
        MASTER_KEY,
        &json!({"model": "tuned", "messages": msg, "temperature": 0.9}),
    )
    .await;
    let reqs = mock.requests();
    assert_eq!(reqs[0].body["temperature"], json!(0.1));
    assert_eq!(reqs[0].body["max_tokens"], json!(7));
    assert_eq!(reqs[1].body["temperature"], json!(0.9));
    assert!(
        reqs[0].header("authorization").is_none(),
        "no api_key configured, none sent"
    );
}

#[tokio::test]
async fn images_reach_anthropic_as_image_blocks() {
    let (mock, gw) = openai_and_anthropic().await;
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "claude", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
            ]}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let blocks = &mock.requests()[0].body["messages"][0]["content"];
    assert_eq!(blocks[0], json!({"type": "text", "text": "what is this"}));
    assert_eq!(
        blocks[1]["source"],
        json!({"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="})
    );
    assert_eq!(
        blocks[2]["source"],
        json!({"type": "url", "url": "https://example.com/cat.jpg"})
    );
    // A part no provider can take is refused before any upstream call.
    let (status, body) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "claude", "messages": [{"role": "user", "content": [
                {"type": "hologram", "data": "?"}
            ]}]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(mock.request_count(), 1);
}
