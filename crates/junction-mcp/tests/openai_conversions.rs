//! The OpenAI ↔ MCP conversions as a user of the crate sees them: wire JSON in, wire JSON out,
//! through a whole tool-use round trip, with no server. The exhaustive edge cases are the unit
//! tests in `src/openai.rs`; these check the pieces fit together from outside the crate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use junction_mcp::McpError;
use junction_mcp::model::{CallToolResult, ListToolsResult, Tool};
use junction_mcp::openai::{
    McpCall, ToolFormat, format_tools, function_call_output, result_to_text, to_chat_tool,
    to_responses_tool, tool_call_to_mcp, tool_message,
};
use serde_json::{Value, json};

/// A `tools/list` result shaped like `@modelcontextprotocol/server-everything`'s and the Go
/// SDK's: a plain tool, a no-argument tool with a bare `{"type":"object"}`, and a tool whose
/// schema uses `$defs` and `$ref`.
fn listing() -> Vec<Tool> {
    let listed: ListToolsResult = serde_json::from_value(json!({
        "tools": [
            {
                "name": "echo",
                "description": "Echoes back the input",
                "inputSchema": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {"message": {"type": "string", "description": "Message to echo"}},
                    "required": ["message"],
                    "additionalProperties": false
                }
            },
            {"name": "get_time", "inputSchema": {"type": "object"}},
            {
                "name": "create_order",
                "title": "Create order",
                "description": "Places an order",
                "inputSchema": {
                    "type": "object",
                    "properties": {"lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}},
                    "$defs": {"line": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}}
                },
                "annotations": {"destructiveHint": false}
            }
        ]
    }))
    .unwrap();
    listed.tools
}

#[test]
fn listing_as_litellm_openai_format() {
    let tools = format_tools(&listing(), ToolFormat::OpenAi);
    assert_eq!(
        tools,
        vec![
            json!({"type": "function", "function": {
                "name": "echo",
                "description": "Echoes back the input",
                "parameters": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {"message": {"type": "string", "description": "Message to echo"}},
                    "required": ["message"],
                    "additionalProperties": false
                }
            }}),
            json!({"type": "function", "function": {
                "name": "get_time",
                "parameters": {"type": "object", "properties": {}}
            }}),
            json!({"type": "function", "function": {
                "name": "create_order",
                "description": "Places an order",
                "parameters": {
                    "type": "object",
                    "properties": {"lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}},
                    "$defs": {"line": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}}
                }
            }}),
        ]
    );
}

#[test]
fn listing_as_mcp_format_round_trips() {
    let tools = listing();
    let json = format_tools(&tools, ToolFormat::Mcp);
    let back: Vec<Tool> = json
        .into_iter()
        .map(|value| serde_json::from_value(value).unwrap())
        .collect();
    assert_eq!(back, tools);
}

#[test]
fn format_names_parse_as_in_litellm() {
    let tools = listing();
    let openai = format_tools(&tools, "openai".parse().unwrap());
    assert_eq!(openai[0], to_chat_tool(&tools[0]));
    let err = "responses".parse::<ToolFormat>().unwrap_err();
    assert!(matches!(err, McpError::InvalidToolCall(_)));
    assert!(err.to_string().contains("valid formats"), "{err}");
}

#[test]
fn chat_completions_round_trip() {
    // The assistant message of a chat completion that asks for two tools at once.
    let response = json!({
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "echo", "arguments": "{\"message\":\"hi\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]
        }}]
    });
    let calls: Vec<McpCall> = response["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| tool_call_to_mcp(call).unwrap())
        .collect();
    assert_eq!(calls[0].name, "echo");
    assert_eq!(
        Value::Object(calls[0].arguments.clone().unwrap()),
        json!({"message": "hi"})
    );
    assert_eq!(calls[1].name, "get_time");
    assert_eq!(calls[1].arguments, None);

    // What the MCP server answers, then the messages that go back to the model.
    let results: Vec<CallToolResult> = vec![
        serde_json::from_value(json!({"content": [{"type": "text", "text": "Echo: hi"}]})).unwrap(),
        serde_json::from_value(
            json!({"content": [{"type": "text", "text": "clock unavailable"}], "isError": true}),
        )
        .unwrap(),
    ];
    let messages: Vec<Value> = calls
        .iter()
        .zip(&results)
        .map(|(call, result)| tool_message(call.call_id.as_deref().unwrap(), result))
        .collect();
    assert_eq!(
        messages,
        vec![
            json!({"role": "tool", "tool_call_id": "call_a", "content": "Echo: hi"}),
            json!({"role": "tool", "tool_call_id": "call_b", "content": "Error: clock unavailable"}),
        ]
    );
}

#[test]
fn responses_round_trip() {
    let tools = listing();
    let definition = to_responses_tool(&tools[0]);
    assert_eq!(definition["type"], "function");
    assert_eq!(definition["name"], "echo");
    assert_eq!(definition["strict"], false);
    assert_eq!(
        definition["parameters"],
        Value::Object(tools[0].input_schema.as_ref().clone())
    );

    let item = json!({"type": "function_call", "id": "fc_1", "call_id": "call_x", "name": "echo", "arguments": "{\"message\":\"yo\"}", "status": "completed"});
    let call = tool_call_to_mcp(&item).unwrap();
    assert_eq!(call.call_id.as_deref(), Some("call_x"));

    let result: CallToolResult = serde_json::from_value(json!({
        "content": [{"type": "text", "text": "Echo: yo"}, {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}]
    }))
    .unwrap();
    assert_eq!(
        function_call_output("call_x", &result),
        json!({"type": "function_call_output", "call_id": "call_x", "output": "Echo: yo\n[image: image/png, 12 bytes base64]"})
    );
}

#[test]
fn malformed_model_arguments_become_an_error_for_the_model() {
    let call = json!({"id": "call_z", "type": "function", "function": {"name": "echo", "arguments": "{\"message\": \"unterminated"}});
    let err = tool_call_to_mcp(&call).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("\"echo\"") && text.contains("not valid JSON"),
        "{text}"
    );
    assert_eq!(err.server(), None);
}

#[test]
fn rmcp_built_results_convert_too() {
    // Results built with rmcp's own constructors, not parsed from the wire.
    use junction_mcp::model::ContentBlock;
    let ok = CallToolResult::success(vec![
        ContentBlock::text("a"),
        ContentBlock::embedded_text("file:///x", "b"),
    ]);
    let out = result_to_text(&ok);
    assert_eq!(
        (out.text.as_str(), out.is_error),
        ("a\nfile:///x\nb", false)
    );
    let failed = CallToolResult::error(vec![ContentBlock::text("Error: nope")]);
    assert_eq!(tool_message("c", &failed)["content"], "Error: nope");
}
