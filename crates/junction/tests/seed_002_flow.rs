//! Seed 002's "MCP gateway + LLM" example end to end: a Python MCP client (the official `mcp`
//! SDK) lists the gateway's tools, converts them to OpenAI tools as LiteLLM does, sends them
//! with the official `openai` client to `/v1/chat/completions`, and executes the model's tool
//! call on the same MCP session (`tests/python/seed_002_flow.py`).
//!
//! The upstream MCP servers are real (`mcp-server-time` and server-everything over stdio); the
//! model is the scripted mock, told which listed tool to call and with which arguments. Two
//! variants: the seed's legacy SSE client on `/mcp/` with a plain completion, and the
//! streamable HTTP client on `/mcp` with a streamed completion.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::mcp::{self, Session, node_bin, python, venv_bin};
use common::{MASTER_KEY, TestGateway, deployment};
use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
use serde_json::{Value, json};

const MODEL: &str = "gpt-4o";
const USER_TEXT: &str = "Send an email about LiteLLM supporting MCP";

/// A mock LLM that calls `script`'s tool when offered, and a gateway routing `gpt-4o` to it in
/// front of `mcp-server-time` (`time-…`) and server-everything (`everything-…`), both healthy.
async fn start(script: ScriptedToolCall) -> (MockUpstream, TestGateway) {
    let llm = MockUpstream::start_with(MockOptions {
        record: true,
        tool_calls: vec![script],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let yaml = format!(
        "model_list:\n{}\nmcp_servers:\n  time:\n    command: {}\n  everything:\n    command: {}\n    args: [\"stdio\"]\n",
        deployment(MODEL, &format!("openai/{MODEL}"), &llm.openai_base()),
        venv_bin("mcp-server-time").display(),
        node_bin("mcp-server-everything").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| {
        mcp::healthy(h, "time") && mcp::healthy(h, "everything")
    })
    .await;
    (llm, gw)
}

/// Runs the Python flow (`sse` or `streamable`) against the gateway at `localhost`, as the
/// seed addresses it; returns the JSON it printed.
async fn run_flow(gw: &TestGateway, transport: &str) -> Value {
    let base = gw.url.replace("127.0.0.1", "localhost");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/seed_002_flow.py");
    let mut command = tokio::process::Command::new(python());
    command
        .args([script, &base, MASTER_KEY, transport, MODEL, USER_TEXT])
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("the {transport} flow did not finish within 120 s"))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python().display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the {transport} flow failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("not JSON ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}"))
}

/// The tools the gateway lists at `/mcp`, as raw MCP JSON (over a separate raw session).
async fn listed_tools(gw: &TestGateway) -> Vec<Value> {
    let session = Session::open(gw, "/mcp").await;
    let listed = session.request("tools/list", json!({})).await;
    listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("tools/list: {listed}"))
        .clone()
}

/// LiteLLM's `transform_mcp_tool_to_openai_tool`: parameters are the input schema with
/// `type`, `properties` and `additionalProperties` defaulted.
fn expected_openai_tool(tool: &Value) -> Value {
    let mut parameters = tool["inputSchema"].as_object().cloned().unwrap_or_default();
    parameters.entry("type").or_insert_with(|| json!("object"));
    parameters.entry("properties").or_insert_with(|| json!({}));
    parameters
        .entry("additionalProperties")
        .or_insert_with(|| json!(false));
    json!({
        "type": "function",
        "function": {
            "name": tool["name"],
            "description": tool["description"].as_str().unwrap_or(""),
            "parameters": parameters,
            "strict": false,
        },
    })
}

/// Checks what the flow did and what the mock LLM received; returns the result's first text.
async fn check_flow(
    llm: &MockUpstream,
    gw: &TestGateway,
    flow: &Value,
    script: &ScriptedToolCall,
    streamed: bool,
) -> String {
    let tools = listed_tools(gw).await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&script.name.as_str()), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("time-"))
            && names.iter().any(|n| n.starts_with("everything-")),
        "{names:?}"
    );
    assert_eq!(flow["server"], "junction", "{flow}");
    assert_eq!(
        flow["listed"],
        json!(names),
        "the Python session lists what /mcp lists"
    );

    // (a) The model received every listed MCP tool, converted as LiteLLM converts them.
    let chats: Vec<_> = llm
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .collect();
    assert_eq!(chats.len(), 1, "one chat request reached the model");
    let sent = &chats[0];
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-upstream-secret")
    );
    assert_eq!(sent.body["model"], MODEL);
    assert_eq!(sent.body["tool_choice"], "auto");
    assert_eq!(sent.body["stream"].as_bool().unwrap_or(false), streamed);
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": USER_TEXT}])
    );
    let offered = sent.body["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools sent: {}", sent.body));
    let offered_names: Vec<&str> = offered
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(offered_names, names, "the model was offered the /mcp tools");
    for (sent_tool, tool) in offered.iter().zip(&tools) {
        assert_eq!(*sent_tool, expected_openai_tool(tool));
    }

    // (b) The model's tool call was executed on the MCP session, and the upstream answered.
    assert_eq!(flow["finish_reason"], "tool_calls", "{flow}");
    assert_eq!(flow["tool_call"]["id"], "call_mock_1", "{flow}");
    assert_eq!(flow["tool_call"]["name"], script.name.as_str(), "{flow}");
    let arguments: Value =
        serde_json::from_str(flow["tool_call"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, script.arguments, "{flow}");
    assert_eq!(
        flow["mcp_call"],
        json!({"name": script.name, "arguments": script.arguments})
    );
    let result = &flow["result"];
    assert_eq!(result["is_error"], false, "{flow}");
    assert_eq!(result["content"][0]["type"], "text", "{flow}");
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

/// The seed as written: legacy SSE at `/mcp/`, a plain completion, `mcp-server-time`.
#[tokio::test]
async fn seed_002_flow_over_legacy_sse() {
    let script = ScriptedToolCall::new("time-get_current_time", json!({"timezone": "UTC"}));
    let (llm, gw) = start(script.clone()).await;
    let flow = run_flow(&gw, "sse").await;
    let text = check_flow(&llm, &gw, &flow, &script, false).await;
    // mcp-server-time's own answer: the current time in the zone asked for by the model.
    let time: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(time["timezone"], "UTC", "{time}");
    let datetime = time["datetime"].as_str().unwrap_or_default();
    assert!(datetime.ends_with("+00:00"), "{time}");
    assert_eq!(time["is_dst"], false, "{time}");
}

/// Same flow over streamable HTTP at `/mcp`, with a streamed completion: server-everything's
/// `echo` called with the model's arguments.
#[tokio::test]
async fn seed_002_flow_over_streamable_http_with_a_streamed_completion() {
    let script = ScriptedToolCall::new(
        "everything-echo",
        json!({"message": "LiteLLM supports MCP"}),
    );
    let (llm, gw) = start(script.clone()).await;
    let flow = run_flow(&gw, "streamable").await;
    let text = check_flow(&llm, &gw, &flow, &script, true).await;
    assert_eq!(text, "Echo: LiteLLM supports MCP");
}
