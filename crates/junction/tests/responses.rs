//! `/v1/responses` with MCP tools run by the gateway, over HTTP, against a scripted mock
//! LLM (Chat Completions, Anthropic Messages and native Responses wire formats) and real MCP
//! servers (server-everything and `mcp-server-time` over stdio).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::mcp::{self, node_bin, python, venv_bin};
use common::{MASTER_KEY, TestGateway, client};
use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
use serde_json::{Value, json};

const ECHO: &str = "everything-echo";
/// server-everything's tool that takes `duration` seconds.
const LONG_TOOL: &str = "everything-trigger-long-running-operation";

/// A mock LLM scripted to call `echo` (and the time tool), and a gateway with three models
/// on it: `gpt-4o` (Chat Completions), `claude` (Anthropic), `native` (Responses API), plus
/// `always` (a model that never stops calling tools).
async fn start_with(options: MockOptions, general: &str) -> (MockUpstream, TestGateway) {
    let llm = MockUpstream::start_with(MockOptions {
        record: true,
        tool_calls: vec![
            ScriptedToolCall::new(ECHO, json!({"message": "hi from the model"})),
            ScriptedToolCall::new("time-get_current_time", json!({"timezone": "UTC"})),
            ScriptedToolCall::new(LONG_TOOL, json!({"duration": 1, "steps": 2})),
        ],
        ..options
    })
    .await
    .unwrap();
    let base = llm.openai_base();
    let yaml = format!(
        "model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o, api_base: {base}, api_key: sk-up}}
  - model_name: claude
    litellm_params: {{model: anthropic/claude-up, api_base: {root}, api_key: sk-ant}}
  - model_name: anthropic/claude-3-5-sonnet-latest
    litellm_params: {{model: anthropic/claude-3-5-sonnet-latest, api_base: {root}, api_key: sk-ant}}
  - model_name: native
    litellm_params: {{model: openai/gpt-native, api_base: {base}, api_key: sk-up, use_responses_api: true}}
  - model_name: always
    litellm_params: {{model: openai/always-tools, api_base: {base}, api_key: sk-up}}
  - model_name: dripping
    litellm_params: {{model: openai/drip-100, api_base: {base}, api_key: sk-up}}
  - model_name: broken
    litellm_params: {{model: openai/error-500, api_base: {base}, api_key: sk-up}}
mcp_servers:
  everything:
    command: {everything}
    args: [\"stdio\"]
  time:
    command: {time}
general_settings:
  master_key: {MASTER_KEY}
{general}",
        root = llm.url(),
        everything = node_bin("mcp-server-everything").display(),
        time = venv_bin("mcp-server-time").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| {
        mcp::healthy(h, "everything") && mcp::healthy(h, "time")
    })
    .await;
    (llm, gw)
}

async fn start() -> (MockUpstream, TestGateway) {
    start_with(MockOptions::default(), "").await
}

fn mcp_tool(approval: Value) -> Value {
    json!({"type": "mcp", "server_label": "everything", "server_url": "litellm_proxy",
           "require_approval": approval, "allowed_tools": [ECHO]})
}

async fn create(gw: &TestGateway, key: &str, body: &Value) -> (u16, Value) {
    gw.post("/v1/responses", Some(key), body).await
}

/// POSTs a streamed request; returns the parsed events (each with its `event:` name checked
/// against its `type`).
async fn create_streamed(gw: &TestGateway, key: &str, body: &Value) -> Vec<Value> {
    let response = client()
        .post(format!("{}/v1/responses", gw.url))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("event: "))
            .unwrap();
        let data = block
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap();
        let event: Value = serde_json::from_str(data).unwrap();
        assert_eq!(event["type"], name, "{block}");
        events.push(event);
    }
    events
}

/// Like [`create_streamed`], with the time each event arrived, counted from the request.
async fn create_streamed_timed(gw: &TestGateway, body: &Value) -> Vec<(Duration, Value)> {
    use futures_util::StreamExt;
    let started = std::time::Instant::now();
    let response = client()
        .post(format!("{}/v1/responses", gw.url))
        .bearer_auth(MASTER_KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = body.next().await {
        buffer.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            events.push((started.elapsed(), serde_json::from_str(data).unwrap()));
        }
    }
    events
}

fn types(output: &Value) -> Vec<&str> {
    output["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect()
}

fn text_of(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|i| i["content"].as_array().unwrap())
        .filter_map(|p| p["text"].as_str())
        .collect()
}

/// An OpenAI-style error body whose message mentions `text`.
#[track_caller]
fn assert_error_mentions(body: &Value, text: &str) {
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(text), "{body}");
}

/// The bodies the mock received on `path`.
fn upstream_bodies(llm: &MockUpstream, path: &str) -> Vec<Value> {
    llm.requests()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.body.clone())
        .collect()
}

#[tokio::test]
async fn one_call_runs_the_tool_loop_and_the_response_is_stored_at_once() {
    let (llm, gw) = start().await;
    let (status, response) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "say hi", "tools": [mcp_tool(json!("never"))]}),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["status"], "completed");
    assert!(response["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(types(&response), ["mcp_list_tools", "mcp_call", "message"]);
    let listing = &response["output"][0];
    assert_eq!(listing["server_label"], "everything");
    assert_eq!(
        listing["tools"].as_array().unwrap().len(),
        1,
        "allowed_tools narrows: {listing}"
    );
    assert_eq!(listing["tools"][0]["name"], ECHO);
    let call = &response["output"][1];
    assert_eq!(call["name"], ECHO);
    assert_eq!(call["status"], "completed");
    assert_eq!(call["output"], "Echo: hi from the model");
    assert_eq!(call["error"], Value::Null);
    assert_eq!(text_of(&response), "Tool result: Echo: hi from the model");
    // Two model calls; the second saw the tool's result as a tool message.
    let sent = upstream_bodies(&llm, "/v1/chat/completions");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["tools"][0]["function"]["name"], ECHO);
    let last = sent[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "tool");
    assert_eq!(last["content"], "Echo: hi from the model");
    // Usage is the sum of both rounds (the mock counts words).
    let usage = &response["usage"];
    assert!(usage["input_tokens"].as_u64().unwrap() > 2, "{usage}");
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap())
    );
    // Stored before the answer: readable at once, with its input items.
    let id = response["id"].as_str().unwrap();
    let (status, stored) = gw
        .get(&format!("/v1/responses/{id}"), Some(MASTER_KEY))
        .await;
    assert_eq!(status, 200);
    assert_eq!(stored, response);
    let (status, items) = gw
        .get(&format!("/v1/responses/{id}/input_items"), Some(MASTER_KEY))
        .await;
    assert_eq!(status, 200);
    assert_eq!(items["object"], "list");
    assert_eq!(items["data"][0]["content"][0]["text"], "say hi");
    assert_eq!(items["has_more"], false);
}

#[tokio::test]
async fn streamed_events_are_ordered_numbered_and_name_their_items() {
    let (_llm, gw) = start().await;
    let events = create_streamed(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "say hi", "stream": true, "tools": [mcp_tool(json!("never"))]}),
    )
    .await;
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["sequence_number"], i, "{event}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let expected_prefix = [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.output_item.done",
        "response.output_item.added",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
    ];
    assert_eq!(
        &kinds[..expected_prefix.len()],
        expected_prefix,
        "{kinds:?}"
    );
    let tail = &kinds[kinds.len() - 5..];
    assert_eq!(
        tail,
        [
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    // The mock streams word by word: several deltas, joined = the final text.
    let deltas: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert!(deltas.len() > 2, "{deltas:?}");
    let final_response = &events.last().unwrap()["response"];
    assert_eq!(deltas.concat(), text_of(final_response));
    // Every item event names the item at its output_index.
    let output = final_response["output"].as_array().unwrap();
    for event in &events {
        if let Some(index) = event["output_index"].as_u64() {
            let item_id = event.get("item_id").unwrap_or(&event["item"]["id"]);
            assert_eq!(*item_id, output[index as usize]["id"], "{event}");
        }
    }
    assert_eq!(output[1]["type"], "mcp_call");
    assert_eq!(output[1]["arguments"], r#"{"message":"hi from the model"}"#);
    // created carries the same id as completed.
    assert_eq!(events[0]["response"]["id"], final_response["id"]);
    assert_eq!(events[0]["response"]["status"], "in_progress");
}

/// Events reach the client while the work goes on, not at the end: `mcp_call.in_progress`
/// before a tool that takes a second returns, and text deltas as a slow model produces them.
#[tokio::test]
async fn streamed_events_arrive_while_the_tool_and_the_model_work() {
    let (_llm, gw) = start().await;
    let events = create_streamed_timed(
        &gw,
        &json!({"model": "dripping", "input": "run the long operation", "stream": true,
                "tools": [{"type": "mcp", "server_label": "everything", "server_url": "litellm_proxy",
                           "require_approval": "never", "allowed_tools": [LONG_TOOL]}]}),
    )
    .await;
    let at = |kind: &str| {
        events
            .iter()
            .find(|(_, e)| e["type"] == kind)
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("no {kind} event"))
    };
    let tool_started = at("response.mcp_call.in_progress");
    let tool_done = at("response.mcp_call.completed");
    assert!(
        tool_done - tool_started >= Duration::from_millis(700),
        "mcp_call.in_progress came {:?} before the 1 s tool finished",
        tool_done - tool_started
    );
    let first_delta = at("response.output_text.delta");
    let completed = at("response.completed");
    let deltas = events
        .iter()
        .filter(|(_, e)| e["type"] == "response.output_text.delta")
        .count();
    assert!(deltas >= 5, "{deltas} deltas");
    // The mock waits 100 ms between words: the first word must not wait for the last.
    assert!(
        completed - first_delta >= Duration::from_millis(300),
        "the first text delta came only {:?} before the end",
        completed - first_delta
    );
    assert_eq!(events.last().unwrap().1["response"]["status"], "completed");
}

#[tokio::test]
async fn approval_is_asked_then_granted_or_refused_with_previous_response_id() {
    let (llm, gw) = start().await;
    let tools = json!([mcp_tool(json!({"never": {"tool_names": ["nothing-else"]}}))]);
    let (status, asked) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "say hi", "tools": tools}),
    )
    .await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(types(&asked), ["mcp_list_tools", "mcp_approval_request"]);
    let request = &asked["output"][1];
    assert_eq!(request["name"], ECHO);
    assert_eq!(request["server_label"], "everything");
    let request_id = request["id"].as_str().unwrap().to_owned();
    assert!(request_id.starts_with("mcpr_"));

    // Granted: the call runs, carries the request's id, and the loop goes on.
    let (status, granted) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "previous_response_id": asked["id"], "tools": tools,
                "input": [{"type": "mcp_approval_response", "approval_request_id": request_id, "approve": true}]}),
    )
    .await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(
        types(&granted),
        ["mcp_call", "message"],
        "no second listing: {granted}"
    );
    assert_eq!(
        granted["output"][0]["approval_request_id"],
        request_id.as_str()
    );
    assert_eq!(granted["output"][0]["output"], "Echo: hi from the model");
    assert_eq!(text_of(&granted), "Tool result: Echo: hi from the model");
    // The same request cannot be answered twice.
    let (status, again) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "previous_response_id": granted["id"], "tools": tools,
                "input": [{"type": "mcp_approval_response", "approval_request_id": request_id, "approve": true}]}),
    )
    .await;
    assert_eq!(status, 400, "{again}");
    assert_error_mentions(&again, "already answered");

    // Refused: no call; the model is told, and answers.
    let before = upstream_bodies(&llm, "/v1/chat/completions").len();
    let (status, refused) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "previous_response_id": asked["id"], "tools": tools,
                "input": [{"type": "mcp_approval_response", "approval_request_id": request_id, "approve": false}]}),
    )
    .await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(types(&refused), ["message"]);
    let sent = upstream_bodies(&llm, "/v1/chat/completions");
    assert_eq!(sent.len(), before + 1);
    let last = sent.last().unwrap()["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "tool");
    assert!(
        last["content"]
            .as_str()
            .unwrap()
            .contains("did not approve"),
        "{last}"
    );
}

#[tokio::test]
async fn stored_responses_are_private_to_their_key_and_continue_at_once() {
    let (llm, gw) = start().await;
    let everything = json!({"object_permission": {"mcp_servers": ["everything"]}});
    let alice = gw.generate_key(&everything).await;
    let bob = gw.generate_key(&everything).await;
    let (status, first) = create(
        &gw,
        &alice,
        &json!({"model": "gpt-4o", "input": "My name is Alice"}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap();
    // Bob sees nothing: not the response, not its items, not as a previous response.
    for path in [
        format!("/v1/responses/{id}"),
        format!("/v1/responses/{id}/input_items"),
    ] {
        let (status, body) = gw.get(&path, Some(&bob)).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, body) = create(
        &gw,
        &bob,
        &json!({"model": "gpt-4o", "input": "x", "previous_response_id": id}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_error_mentions(&body, id);
    let (status, _) = client()
        .delete(format!("{}/v1/responses/{id}", gw.url))
        .bearer_auth(&bob)
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 404);
    // Alice continues at once; the model sees the earlier turn.
    let (status, second) = create(
        &gw,
        &alice,
        &json!({"model": "gpt-4o", "input": "What's my name?", "previous_response_id": id}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["previous_response_id"], id);
    let sent = upstream_bodies(&llm, "/v1/chat/completions");
    let messages = sent.last().unwrap()["messages"].as_array().unwrap().clone();
    let contents: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents[0], "My name is Alice");
    assert!(contents[1].starts_with("Hello from"), "{contents:?}");
    assert_eq!(contents[2], "What's my name?");
    // Deleting is for the owner; afterwards the id is gone.
    let deleted = client()
        .delete(format!("{}/v1/responses/{id}", gw.url))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let body: Value = deleted.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": id, "object": "response", "deleted": true})
    );
    let (status, _) = gw.get(&format!("/v1/responses/{id}"), Some(&alice)).await;
    assert_eq!(status, 404);
    let (status, _) = gw.get("/v1/responses/resp_unknown", Some(MASTER_KEY)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_calls_of_one_round_all_run_and_appear_in_order() {
    let (_llm, gw) = start_with(
        MockOptions {
            parallel_tool_calls: true,
            ..MockOptions::default()
        },
        "",
    )
    .await;
    let tools = json!([
        {"type": "mcp", "server_label": "everything", "server_url": "litellm_proxy/mcp/everything",
         "require_approval": "never", "allowed_tools": [ECHO]},
        {"type": "mcp", "server_label": "time", "server_url": "litellm_proxy/mcp/time", "require_approval": "never"}
    ]);
    let (status, response) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "both", "tools": tools}),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(
        types(&response),
        [
            "mcp_list_tools",
            "mcp_list_tools",
            "mcp_call",
            "mcp_call",
            "message"
        ]
    );
    let names: Vec<&str> = response["output"].as_array().unwrap()[2..4]
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [ECHO, "time-get_current_time"]);
    assert!(
        response["output"][3]["output"]
            .as_str()
            .unwrap()
            .contains("UTC"),
        "{response}"
    );
}

#[tokio::test]
async fn a_failing_tool_is_reported_in_its_item_and_the_response_completes() {
    let llm = MockUpstream::start_with(MockOptions {
        record: true,
        tool_calls: vec![ScriptedToolCall::new(
            "time-get_current_time",
            json!({"timezone": "Nowhere/Invalid"}),
        )],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k}}\nmcp_servers:\n  time:\n    command: {}\n",
        llm.openai_base(),
        venv_bin("mcp-server-time").display()
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "time")).await;
    let (status, response) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "time?", "tools": [{"type": "mcp", "server_label": "time",
               "server_url": "litellm_proxy", "require_approval": "never"}]}),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["status"], "completed");
    assert_eq!(types(&response), ["mcp_list_tools", "mcp_call", "message"]);
    let call = &response["output"][1];
    assert_eq!(call["status"], "failed");
    assert_eq!(call["output"], Value::Null);
    assert_eq!(call["error"]["type"], "mcp_tool_execution_error", "{call}");
    assert!(text_of(&response).contains("Nowhere/Invalid"), "{response}");
}

#[tokio::test]
async fn the_round_limit_ends_the_response_incomplete() {
    let (_llm, gw) = start_with(MockOptions::default(), "  responses_max_tool_rounds: 2\n").await;
    let (status, response) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "always", "input": "loop", "tools": [mcp_tool(json!("never"))]}),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["status"], "incomplete");
    assert_eq!(response["incomplete_details"]["reason"], "max_tool_rounds");
    assert_eq!(types(&response), ["mcp_list_tools", "mcp_call", "mcp_call"]);
}

#[tokio::test]
async fn bad_requests_get_clear_openai_errors() {
    let (_llm, gw) = start().await;
    let required_nothing = json!({"model": "gpt-4o", "input": "x", "tool_choice": "required",
        "tools": [{"type": "mcp", "server_label": "nothing", "server_url": "litellm_proxy", "allowed_tools": ["nope"]}]});
    let (status, body) = create(&gw, MASTER_KEY, &required_nothing).await;
    assert_eq!(status, 400, "{body}");
    assert_error_mentions(&body, "\"nothing\"");
    assert_eq!(body["error"]["param"], "tool_choice");

    let external = json!({"model": "gpt-4o", "input": "x",
        "tools": [{"type": "mcp", "server_label": "deepwiki", "server_url": "http://127.0.0.1:1/mcp"}]});
    let (status, body) = create(&gw, MASTER_KEY, &external).await;
    assert_eq!(status, 400, "{body}");
    assert_error_mentions(&body, "responses_allow_external_mcp_urls");

    let (status, body) = create(&gw, MASTER_KEY, &json!({"model": "nope", "input": "x"})).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = create(&gw, MASTER_KEY, &json!({"model": "gpt-4o"})).await;
    assert_eq!(
        (status, body["error"]["param"].clone()),
        (400, json!("input"))
    );
    let (status, _) = create(&gw, "sk-wrong", &json!({"model": "gpt-4o", "input": "x"})).await;
    assert_eq!(status, 401);
    let (status, body) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "x", "previous_response_id": "resp_nope"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn external_mcp_urls_are_refused_on_private_addresses_even_when_allowed() {
    let (_llm, gw) = start_with(
        MockOptions::default(),
        "  responses_allow_external_mcp_urls: true\n",
    )
    .await;
    let (status, body) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "x",
            "tools": [{"type": "mcp", "server_label": "local", "server_url": format!("{}/mcp", gw.url)}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_error_mentions(&body, "non-public address");
}

#[tokio::test]
async fn an_external_server_is_used_when_private_urls_are_allowed() {
    // The gateway itself is an MCP server at a URL: a second gateway's view of it.
    let (_llm, gw) = start_with(
        MockOptions::default(),
        "  responses_allow_external_mcp_urls: true\n  responses_allow_private_mcp_urls: true\n",
    )
    .await;
    let (status, response) = create(
        &gw,
        MASTER_KEY,
        &json!({"model": "gpt-4o", "input": "x", "tools": [{"type": "mcp", "server_label": "self",
            "server_url": format!("{}/everything/mcp", gw.url), "require_approval": "never",
            "headers": {"x-litellm-api-key": format!("Bearer {MASTER_KEY}")}, "allowed_tools": [ECHO, "echo"]}]}),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(
        types(&response),
        ["mcp_list_tools", "mcp_call", "message"],
        "{response}"
    );
    assert_eq!(response["output"][1]["server_label"], "self");
    // The echoed tools never show the credentials.
    assert!(!response.to_string().contains(MASTER_KEY), "{response}");
}

#[tokio::test]
async fn anthropic_and_native_responses_upstreams_run_the_same_loop() {
    let (llm, gw) = start().await;
    for model in ["claude", "native"] {
        let (status, response) = create(
            &gw,
            MASTER_KEY,
            &json!({"model": model, "input": "say hi", "instructions": "be brief", "tools": [mcp_tool(json!("never"))]}),
        )
        .await;
        assert_eq!(status, 200, "{model}: {response}");
        assert_eq!(
            types(&response),
            ["mcp_list_tools", "mcp_call", "message"],
            "{model}: {response}"
        );
        assert_eq!(
            text_of(&response),
            "Tool result: Echo: hi from the model",
            "{model}"
        );
        let events = create_streamed(
            &gw,
            MASTER_KEY,
            &json!({"model": model, "input": "say hi", "stream": true, "tools": [mcp_tool(json!("never"))]}),
        )
        .await;
        let last = events.last().unwrap();
        assert_eq!(last["type"], "response.completed", "{model}");
        assert_eq!(
            text_of(&last["response"]),
            "Tool result: Echo: hi from the model",
            "{model}"
        );
    }
    let anthropic = upstream_bodies(&llm, "/v1/messages");
    assert!(anthropic.len() >= 4, "{anthropic:?}");
    assert_eq!(anthropic[0]["system"], "be brief");
    let native = upstream_bodies(&llm, "/v1/responses");
    assert!(native.len() >= 4);
    assert_eq!(native[0]["store"], false);
    assert_eq!(native[0]["instructions"], "be brief");
    assert_eq!(native[0]["tools"][0]["name"], ECHO);
    assert_eq!(
        native[1]["input"].as_array().unwrap().last().unwrap()["type"],
        "function_call_output"
    );
}

#[tokio::test]
async fn a_model_failure_is_a_502_or_a_failed_event() {
    let (_llm, gw) = start().await;
    let body = json!({"model": "broken", "input": "x", "tools": [mcp_tool(json!("never"))]});
    let (status, error) = create(&gw, MASTER_KEY, &body).await;
    assert_eq!(status, 502, "{error}");
    assert_error_mentions(&error, "500");
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let events = create_streamed(&gw, MASTER_KEY, &streamed).await;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed", "{events:?}");
    assert_eq!(last["response"]["status"], "failed");
    assert!(
        last["response"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{last}"
    );
    // A failed response is stored too, with its state.
    let id = last["response"]["id"].as_str().unwrap();
    let (status, stored) = gw
        .get(&format!("/v1/responses/{id}"), Some(MASTER_KEY))
        .await;
    assert_eq!((status, stored["status"].clone()), (200, json!("failed")));
}

#[tokio::test]
async fn seeds_000_and_003_run_unchanged_with_the_openai_client() {
    let (llm, gw) = start().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/responses_seeds.py"
    );
    let mut command = tokio::process::Command::new(python());
    command
        .args([
            script,
            &format!("{}/v1", gw.url),
            MASTER_KEY,
            "anthropic/claude-3-5-sonnet-latest",
        ])
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the seed script did not finish within 120 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let observed: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    let plain = &observed["seed003_plain"];
    assert_eq!(plain["status"], "completed");
    assert_eq!(
        plain["types"],
        json!(["mcp_list_tools", "mcp_call", "message"])
    );
    assert_eq!(plain["mcp_calls"][0]["server_label"], "litellm");
    assert!(
        plain["output_text"]
            .as_str()
            .unwrap()
            .starts_with("Tool result:"),
        "{plain}"
    );
    let events = observed["seed003_stream_events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["type"], "response.created");
    assert_eq!(events.last().unwrap()["type"], "response.completed");
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["sequence_number"], i);
    }
    assert_eq!(
        observed["seed003_stream_final_types"],
        json!(["mcp_list_tools", "mcp_call", "message"])
    );
    assert_eq!(observed["seed003_allowed_listed"], json!([ECHO]));

    let bot = &observed["seed000"];
    let ids = bot["ids"].as_array().unwrap();
    assert_eq!(bot["previous_of_second"], ids[0]);
    assert_eq!(bot["previous_of_streamed"], ids[1]);
    assert_eq!(bot["fresh_previous"], Value::Null);
    assert_eq!(bot["first"], "Tool result: Echo: hi from the model");
    assert_eq!(bot["streamed"], "Tool result: Echo: hi from the model");
    assert_eq!(
        bot["fresh"],
        "Hello from claude-3-5-sonnet-latest! You said: Who am I?"
    );
    // The continued turns reached the model with the whole conversation.
    let messages = upstream_bodies(&llm, "/v1/messages");
    let continued = messages
        .iter()
        .find(|m| m.to_string().contains("What's my name?"))
        .unwrap();
    assert!(
        continued.to_string().contains("My name is Alice"),
        "{continued}"
    );
}
