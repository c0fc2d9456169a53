//! Native Responses API passthrough (`Router::responses`) against the mock upstream: the body
//! sent, JSON and streamed replies, failover, relayed errors, and which deployments are native.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use junction_llm::{LlmError, ResponsesReply, Router};
use junction_mock_upstream::{MockOptions, MockUpstream};
use serde_json::{Map, Value, json};

fn config(yaml: &str) -> junction_config::Config {
    junction_config::parse(yaml, &|_| None).unwrap().config
}

fn build(yaml: &str) -> Router {
    Router::from_config(&config(yaml)).unwrap()
}

/// One `model_list` entry; `extra` is more `litellm_params` in flow style (`key: value, …`).
fn entry(name: &str, model: &str, api_base: &str, extra: &str) -> String {
    format!(
        "  - model_name: {name}\n    litellm_params: {{ model: {model}, api_base: \"{api_base}\", use_responses_api: true{extra} }}\n"
    )
}

fn body(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

async fn json_of(reply: ResponsesReply) -> Value {
    match reply {
        ResponsesReply::Json { body } => serde_json::from_slice(&body).unwrap(),
        ResponsesReply::Stream { .. } => panic!("expected JSON"),
    }
}

async fn text_of(reply: ResponsesReply) -> String {
    let ResponsesReply::Stream { mut frames } = reply else {
        panic!("expected a stream");
    };
    let mut text = String::new();
    while let Some(frame) = frames.next().await {
        text.push_str(&String::from_utf8_lossy(&frame.unwrap()));
    }
    text
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_body_is_rewritten_and_carries_the_deployment_key_only() {
    let mock = MockUpstream::start_with(MockOptions {
        record: true,
        require_api_key: Some("sk-upstream".into()),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let yaml = format!(
        "model_list:\n{}{}",
        entry(
            "gpt",
            "openai/gpt-up",
            &mock.openai_base(),
            ", api_key: sk-upstream, temperature: 0.1, max_tokens: 9, stop: [x], timeout: 30"
        ),
        entry("keyless", "openai/gpt-free", &mock.openai_base(), ""),
    );
    let router = build(&yaml);
    let sent = body(json!({
        "model": "gpt",
        "input": "hi there",
        "stream": true,
        "temperature": 0.7,
        "vendor_x": { "deep": [1, 2] },
        "tools": [{ "type": "mcp", "server_label": "s", "server_url": "http://x" }],
        "mock_response": "not for upstreams",
    }));
    let done = router.responses("gpt", &sent, false).await.unwrap();
    assert_eq!(done.deployment.upstream_label(), "openai/gpt-up");
    let json = json_of(done.reply).await;
    assert_eq!(json["object"], "response");
    assert_eq!(json["model"], "gpt-up");
    assert_eq!(
        json["output"][0]["content"][0]["text"],
        "Hello from gpt-up! You said: hi there"
    );

    let recorded = &mock.requests()[0];
    assert_eq!(recorded.path, "/v1/responses");
    assert_eq!(recorded.header("authorization"), Some("Bearer sk-upstream"));
    assert_eq!(
        recorded.body,
        json!({
            "model": "gpt-up",
            "input": "hi there",
            "stream": false,
            "temperature": 0.7,
            "vendor_x": { "deep": [1, 2] },
            "tools": [{ "type": "mcp", "server_label": "s", "server_url": "http://x" }],
            "max_output_tokens": 9,
        })
    );

    // A deployment without a key sends no Authorization at all (the mock then refuses it).
    let refused = router.responses("keyless", &sent, false).await;
    assert!(
        matches!(&refused, Err(LlmError::Upstream { status: 401, .. })),
        "{:?}",
        refused.err()
    );
    assert_eq!(mock.requests()[1].header("authorization"), None);
}

#[tokio::test]
async fn a_stream_is_relayed_as_it_comes() {
    let mock = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}",
        entry("gpt", "openai/drip-120", &mock.openai_base(), "")
    );
    let router = build(&yaml);
    let started = Instant::now();
    let done = router
        .responses(
            "gpt",
            &body(json!({ "model": "gpt", "input": "a b" })),
            true,
        )
        .await
        .unwrap();
    assert_eq!(mock.requests()[0].body["stream"], true);
    let ResponsesReply::Stream { mut frames } = done.reply else {
        panic!("expected a stream");
    };
    let first = frames.next().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(
        String::from_utf8_lossy(&first).starts_with("event: response.created\n"),
        "{first:?}"
    );
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(frame) = frames.next().await {
        text.push_str(&String::from_utf8_lossy(&frame.unwrap()));
    }
    let total = started.elapsed();
    // 15 events, 14 gaps of 120 ms: the first one was readable long before the last.
    assert!(total >= Duration::from_millis(1680), "{total:?}");
    assert!(
        first_at + Duration::from_millis(1000) < total,
        "{first_at:?} vs {total:?}"
    );
    assert!(text.trim_end().ends_with('}'));
    assert!(text.contains("event: response.completed\n"));
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn json_and_stream_replies_carry_tool_calls_untouched() {
    let mock = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}",
        entry("gpt", "openai/gpt-up", &mock.openai_base(), "")
    );
    let router = Arc::new(build(&yaml));
    let request = body(json!({
        "model": "gpt",
        "input": "find cats",
        "tools": [{ "type": "function", "name": "search", "parameters": {} }],
    }));
    // The engine runs these calls on tasks of their own: the futures must be `Send` + 'static
    // when they own what they borrow.
    let spawned = {
        let (router, request) = (Arc::clone(&router), request.clone());
        tokio::spawn(async move { router.responses("gpt", &request, false).await })
    };
    let json = json_of(spawned.await.unwrap().unwrap().reply).await;
    let chat = {
        let router = Arc::clone(&router);
        let req = junction_llm::ChatRequest::from_slice(
            br#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .unwrap();
        tokio::spawn(async move { router.chat(&req).await.map(|_| ()) })
    };
    chat.await.unwrap().unwrap();
    assert_eq!(json["output"][0]["type"], "function_call");
    assert_eq!(json["output"][0]["call_id"], "call_mock_1");
    let text = text_of(router.responses("gpt", &request, true).await.unwrap().reply).await;
    assert!(text.starts_with("event: response.created\ndata: "));
    assert!(text.contains("event: response.function_call_arguments.delta\n"));
    assert!(text.contains("\"call_id\":\"call_mock_3\""));
}

#[tokio::test]
async fn connect_errors_and_5xx_fail_over_before_the_first_byte() {
    let mock = MockUpstream::start().await.unwrap();
    let dead = format!("http://127.0.0.1:{}/v1", closed_port());
    let yaml = format!(
        "model_list:\n{}{}{}",
        entry("gpt", "openai/error-503", &mock.openai_base(), ""),
        entry("gpt", "openai/unreachable", &dead, ""),
        entry("gpt", "openai/gpt-ok", &mock.openai_base(), ""),
    );
    let failures = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&failures);
    let router = build(&yaml).with_observer(move |f| {
        seen.lock()
            .unwrap()
            .push((f.upstream.clone(), f.reason.to_owned()))
    });
    let request = body(json!({ "model": "gpt", "input": "hi" }));
    for stream in [false, true, false] {
        let done = router.responses("gpt", &request, stream).await.unwrap();
        assert_eq!(done.deployment.upstream_label(), "openai/gpt-ok");
    }
    let failures = failures.lock().unwrap().clone();
    assert!(failures.contains(&("openai/error-503".into(), "status_5xx".into())));
    assert!(failures.contains(&("openai/unreachable".into(), "connect".into())));

    // Every deployment failing: 502 with the last failure.
    let yaml = format!(
        "model_list:\n{}",
        entry("gpt", "openai/error-500", &mock.openai_base(), "")
    );
    let error = build(&yaml)
        .responses("gpt", &request, false)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, LlmError::Unavailable(_)), "{error:?}");
    assert_eq!(error.status(), 502);
}

#[tokio::test]
async fn a_4xx_is_relayed_without_trying_another_deployment() {
    let mock = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}{}",
        entry("gpt", "openai/error-429", &mock.openai_base(), ""),
        entry("gpt", "openai/error-429-b", &mock.openai_base(), ""),
    );
    let router = build(&yaml);
    let error = router
        .responses("gpt", &body(json!({ "input": "hi" })), true)
        .await
        .err()
        .unwrap();
    match &error {
        LlmError::Upstream { status, message } => {
            assert_eq!(*status, 429);
            assert!(
                message.contains("Mock upstream error: HTTP 429"),
                "{message}"
            );
        }
        other => panic!("expected a relayed 429, got {other:?}"),
    }
    assert_eq!(error.error_type(), "rate_limit_error");
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn a_slow_upstream_times_out() {
    let mock = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}",
        entry(
            "gpt",
            "openai/slow-2000",
            &mock.openai_base(),
            ", timeout: 0.2"
        )
    );
    let router = build(&yaml);
    for stream in [false, true] {
        let error = router
            .responses("gpt", &body(json!({ "input": "hi" })), stream)
            .await
            .err()
            .unwrap();
        assert!(matches!(error, LlmError::Timeout(_)), "{error:?}");
    }
}

#[test]
fn native_by_default_only_for_openai_itself_unless_configured() {
    let router = build(
        r#"
model_list:
  - model_name: openai-default
    litellm_params: { model: openai/gpt-4o }
  - model_name: openai-explicit-base
    litellm_params: { model: openai/gpt-4o, api_base: "https://api.openai.com/v1/" }
  - model_name: openai-compatible
    litellm_params: { model: openai/llama, api_base: "http://127.0.0.1:8000/v1" }
  - model_name: vllm-opted-in
    litellm_params: { model: hosted_vllm/llama, api_base: "http://127.0.0.1:8000/v1", use_responses_api: true }
  - model_name: openai-opted-out
    litellm_params: { model: openai/gpt-4o, use_responses_api: false }
  - model_name: groq
    litellm_params: { model: groq/llama3-8b-8192 }
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-5, use_responses_api: false }
  - model_name: canned
    litellm_params: { model: openai/gpt-4o, mock_response: hi }
  - model_name: mixed
    litellm_params: { model: openai/gpt-4o }
  - model_name: mixed
    litellm_params: { model: anthropic/claude-sonnet-4-5 }
"#,
    );
    for (model, native) in [
        ("openai-default", true),
        ("openai-explicit-base", true),
        ("openai-compatible", false),
        ("vllm-opted-in", true),
        ("openai-opted-out", false),
        ("groq", false),
        ("claude", false),
        ("canned", false),
        ("mixed", true),
        ("no-such-model", false),
    ] {
        assert_eq!(router.responses_native(model), native, "{model}");
    }
}

#[test]
fn asking_for_the_responses_api_where_there_is_none_is_a_config_error() {
    for (params, why) in [
        ("model: anthropic/claude-sonnet-4-5", "Anthropic"),
        ("model: openai/gpt-4o, mock_response: hi", "mock_response"),
    ] {
        let yaml = format!(
            "model_list:\n  - model_name: a\n    litellm_params: {{ model: openai/x }}\n  - model_name: b\n    litellm_params: {{ {params}, use_responses_api: true }}\n"
        );
        let error = Router::from_config(&config(&yaml)).err().unwrap();
        assert_eq!(error.path, "model_list[1].litellm_params.use_responses_api");
        assert!(error.message.contains(why), "{}", error.message);
    }
}

#[tokio::test]
async fn deployments_without_the_api_are_never_sent_responses_requests() {
    let mock = MockUpstream::start().await.unwrap();
    let base = mock.openai_base();
    let not_native = |name: &str, model: &str, api_base: &str| {
        format!(
            "  - model_name: {name}\n    litellm_params: {{ model: {model}, api_base: \"{api_base}\" }}\n"
        )
    };
    let yaml = format!(
        "model_list:\n{}{}{}{}",
        entry("mixed", "openai/gpt-native", &base, ""),
        not_native("mixed", "openai/gpt-translated", &base),
        not_native("chat-only", "openai/gpt-chat", &base),
        not_native("claude", "anthropic/claude", &mock.url()),
    );
    let router = build(&yaml);
    let request = body(json!({ "model": "x", "input": "hi" }));
    // Round-robin would alternate; the non-native deployment is skipped every time.
    for _ in 0..4 {
        let done = router.responses("mixed", &request, false).await.unwrap();
        assert_eq!(done.deployment.upstream_label(), "openai/gpt-native");
    }
    for model in ["chat-only", "claude"] {
        let error = router
            .responses(model, &request, false)
            .await
            .err()
            .unwrap();
        assert!(matches!(error, LlmError::InvalidRequest(_)), "{error:?}");
        assert!(error.to_string().contains("use_responses_api"), "{error}");
    }
    let unknown = router
        .responses("nope", &request, false)
        .await
        .err()
        .unwrap();
    assert!(matches!(unknown, LlmError::UnknownModel(_)), "{unknown:?}");
    let models: Vec<Value> = mock
        .requests()
        .into_iter()
        .map(|r| r.body["model"].clone())
        .collect();
    assert_eq!(models, vec![json!("gpt-native"); 4]);
}
