//! `openai::load_tools` and `openai::call_openai_tool` (LiteLLM's `load_mcp_tools` and
//! `call_openai_tool`) against the real `@modelcontextprotocol/server-everything` over stdio:
//! the tools a model would be offered, and a model's tool calls run on the server and turned
//! back into tool messages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use junction_mcp::openai::{ToolFormat, call_openai_tool, load_tools, tool_message};
use junction_mcp::{ClientConfig, McpClient, McpError, TransportConfig};
use serde_json::{Value, json};

async fn everything() -> McpClient {
    let bin = std::env::var_os("JUNCTION_TEST_NODE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/node/node_modules/.bin"
            ))
        })
        .join("mcp-server-everything");
    assert!(
        bin.exists(),
        "{} is missing: run `npm ci --prefix tests/node` (scripts/test does)",
        bin.display()
    );
    let transport = TransportConfig::Stdio {
        command: bin.to_string_lossy().into_owned(),
        args: vec!["stdio".into()],
        env: BTreeMap::new(),
        cwd: None,
    };
    McpClient::connect(ClientConfig::new("everything", transport))
        .await
        .unwrap()
}

fn find<'a>(tools: &'a [Value], pointer: &str, name: &str) -> &'a Value {
    tools
        .iter()
        .find(|tool| tool.pointer(pointer) == Some(&Value::from(name)))
        .unwrap_or_else(|| panic!("no tool {name} in {tools:#?}"))
}

#[tokio::test]
async fn tools_in_both_formats_and_calls_from_a_model() {
    let client = everything().await;

    let mcp = load_tools(&client, ToolFormat::Mcp).await.unwrap();
    let openai = load_tools(&client, ToolFormat::OpenAi).await.unwrap();
    assert_eq!(mcp.len(), openai.len());
    assert!(!openai.is_empty());

    // The OpenAI definition carries the MCP schema unchanged (server-everything's schemas
    // all have `type` and `properties`, so nothing is added).
    let echo_mcp = find(&mcp, "/name", "echo");
    let echo_openai = find(&openai, "/function/name", "echo");
    assert_eq!(echo_openai["type"], "function");
    assert_eq!(
        echo_openai["function"]["parameters"],
        echo_mcp["inputSchema"]
    );
    assert_eq!(
        echo_openai["function"]["description"],
        echo_mcp["description"]
    );

    // A Chat Completions tool call, as a model would send it.
    let call = json!({"id": "call_1", "type": "function",
                      "function": {"name": "echo", "arguments": "{\"message\":\"via openai\"}"}});
    let result = call_openai_tool(&client, &call).await.unwrap();
    let message = tool_message("call_1", &result);
    assert_eq!(message["role"], "tool");
    assert_eq!(message["tool_call_id"], "call_1");
    let content = message["content"].as_str().unwrap();
    assert!(content.contains("via openai"), "{content}");

    // A Responses `function_call` item.
    let item = json!({"type": "function_call", "call_id": "call_2", "name": "get-sum",
                      "arguments": "{\"a\": 2, \"b\": 40}"});
    let result = call_openai_tool(&client, &item).await.unwrap();
    let content = tool_message("call_2", &result)["content"].clone();
    assert!(content.as_str().unwrap().contains("42"), "{content}");
}

#[tokio::test]
async fn malformed_arguments_never_reach_the_server() {
    let client = everything().await;
    let call = json!({"id": "c", "type": "function",
                      "function": {"name": "echo", "arguments": "{\"message\": "}});
    match call_openai_tool(&client, &call).await {
        Err(McpError::InvalidToolCall(message)) => {
            assert!(message.contains("\"echo\""), "{message}")
        }
        other => panic!("expected InvalidToolCall, got {other:?}"),
    }
    // The session is still usable afterwards.
    let ok = json!({"id": "c", "type": "function",
                    "function": {"name": "echo", "arguments": "{\"message\":\"still here\"}"}});
    let result = call_openai_tool(&client, &ok).await.unwrap();
    assert!(
        tool_message("c", &result)["content"]
            .as_str()
            .unwrap()
            .contains("still here")
    );
}

#[tokio::test]
async fn real_results_become_model_text() {
    let client = everything().await;

    // No-argument tool called with the empty arguments models send; the image is described.
    let call = json!({"id": "img", "type": "function",
                      "function": {"name": "get-tiny-image", "arguments": ""}});
    let result = call_openai_tool(&client, &call).await.unwrap();
    let content = tool_message("img", &result)["content"].clone();
    let content = content.as_str().unwrap();
    let mut lines = content.lines();
    assert_eq!(lines.next(), Some("Here's the image you requested:"));
    let image = lines.next().unwrap();
    assert!(
        image.starts_with("[image: image/png, ") && image.ends_with(" bytes base64]"),
        "{image}"
    );
    assert_eq!(lines.next(), Some("The image above is the MCP logo."));
    assert!(
        content.len() < 200,
        "base64 inlined: {} bytes",
        content.len()
    );

    // Structured content mirrored in a text block, as the spec asks: read once, not twice.
    let call = json!({"id": "w", "type": "function", "function": {
        "name": "get-structured-content", "arguments": "{\"location\":\"Chicago\"}"}});
    let result = call_openai_tool(&client, &call).await.unwrap();
    assert!(result.structured_content.is_some());
    let content = tool_message("w", &result)["content"].clone();
    let parsed: Value = serde_json::from_str(content.as_str().unwrap()).unwrap();
    assert_eq!(parsed["conditions"], "Light rain / drizzle");
}
