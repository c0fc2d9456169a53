//! Conversions between MCP tools and OpenAI function tools, with no I/O.
//!
//! A model can only use an MCP server's tools once they are described in its own dialect, and
//! the calls it makes must be turned back into MCP `tools/call` requests whose results become
//! tool messages again. This module is that bridge — the counterpart of LiteLLM's
//! `experimental_mcp_client` (`load_mcp_tools`, `call_openai_tool`,
//! `transform_mcp_tool_to_openai_tool`) — kept pure so the gateway, the Responses API and Rust
//! users all share one tested mapping.
//!
//! Choices, and where they differ from LiteLLM:
//!
//! - **Schemas are passed through.** `inputSchema` reaches the model as written (`$schema`,
//!   `$defs`, `additionalProperties`, … untouched). The only edits are two *additions* OpenAI
//!   needs to accept the schema at all: `"type":"object"` when the schema has no `type`, and
//!   `"properties":{}` when an object schema has none (OpenAI answers 400 "object schema missing
//!   properties" to the bare `{"type":"object"}` that several SDKs give no-argument tools).
//!   LiteLLM also adds `additionalProperties:false`; we don't, since it changes what the
//!   schema allows.
//! - **Names are passed through.** OpenAI restricts function names to `[A-Za-z0-9_-]{1,64}`,
//!   MCP does not; a gateway that aggregates servers needs a reversible name mapping anyway,
//!   and that mapping lives with the aggregation, not here.
//! - **No description → the key is omitted** (OpenAI accepts a function without one; LiteLLM
//!   sends `""`, which says nothing more).
//! - **Responses tools say `"strict":false`**, because the Responses API defaults to strict mode,
//!   which rejects most MCP schemas (optional properties, open objects). Chat tools leave
//!   `strict` out: its default there is already non-strict, and some OpenAI-compatible
//!   backends reject unknown keys.
//! - **Bad arguments are an error.** LiteLLM turns unparseable tool-call arguments into `{}` and
//!   calls the tool anyway; [`tool_call_to_mcp`] refuses with [`McpError::InvalidToolCall`] so
//!   the caller can tell the model its call was malformed instead of running a tool with
//!   arguments nobody chose.
//! - **Results become text** ([`result_to_text`]): binary content is described, not inlined, so
//!   a screenshot does not cost a megabyte of base64 tokens.
//!
//! [`load_tools`] and [`call_openai_tool`] are the only functions here that talk to a server;
//! they are thin wrappers over [`McpClient`] that mirror LiteLLM's helpers of the same purpose.

use std::fmt::Write as _;
use std::str::FromStr;

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents, Tool};
use serde_json::{Map, Value, json};

use crate::{McpClient, McpError};

/// How many characters of offending arguments an error message quotes: enough to recognise
/// them, not enough to flood a log line with a model's runaway output.
const QUOTE_LIMIT: usize = 200;

/// Placeholder MIME type for binary content a server sent without one.
const UNKNOWN_MIME: &str = "application/octet-stream";

/// The MCP tool as a Chat Completions tool:
/// `{"type":"function","function":{"name","description"?,"parameters"}}`.
///
/// The description key is omitted when the tool has none; `parameters` is the tool's
/// `inputSchema` (see the module docs for the two additions it may receive).
pub fn to_chat_tool(tool: &Tool) -> Value {
    json!({ "type": "function", "function": function_fields(tool) })
}

/// The MCP tool as a Responses API function tool:
/// `{"type":"function","name","description"?,"parameters","strict":false}`.
pub fn to_responses_tool(tool: &Tool) -> Value {
    let mut fields = Map::new();
    fields.insert("type".into(), Value::from("function"));
    fields.append(&mut function_fields(tool));
    // The Responses API turns strict mode on by default; MCP schemas are rarely strict-ready.
    fields.insert("strict".into(), Value::Bool(false));
    Value::Object(fields)
}

/// `name`, `description` (when present) and `parameters`: what both OpenAI dialects share.
fn function_fields(tool: &Tool) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("name".into(), Value::from(tool.name.as_ref()));
    if let Some(description) = &tool.description {
        fields.insert("description".into(), Value::from(description.as_ref()));
    }
    fields.insert("parameters".into(), parameters(tool));
    fields
}

/// The tool's input schema, with only the additions OpenAI requires to accept it.
fn parameters(tool: &Tool) -> Value {
    let mut schema = tool.input_schema.as_ref().clone();
    if !schema.contains_key("type") {
        schema.insert("type".into(), Value::from("object"));
    }
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
    if is_object && !schema.contains_key("properties") {
        schema.insert("properties".into(), Value::Object(Map::new()));
    }
    Value::Object(schema)
}

/// An MCP `tools/call` request taken from an OpenAI tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct McpCall {
    /// The tool name, as the model wrote it.
    pub name: String,
    /// The arguments object; `None` when the model sent no arguments at all.
    pub arguments: Option<Map<String, Value>>,
    /// The id the result must be sent back under: Chat `tool_calls[i].id` or Responses
    /// `function_call.call_id`.
    pub call_id: Option<String>,
}

/// The MCP call an OpenAI tool call asks for.
///
/// Accepts a Chat Completions `tool_calls[i]` object
/// (`{"id","type":"function","function":{"name","arguments"}}`) or a Responses `function_call`
/// item (`{"type":"function_call","call_id","name","arguments"}`). `arguments` is normally a
/// JSON string; an object is accepted too, since some clients decode it before handing it on.
///
/// Missing, `null`, empty or whitespace-only arguments give `None` (a no-argument call). A
/// string that is not JSON, or JSON that is not an object, is an
/// [`McpError::InvalidToolCall`] naming the tool and quoting the arguments.
pub fn tool_call_to_mcp(call: &Value) -> Result<McpCall, McpError> {
    let Some(object) = call.as_object() else {
        return Err(McpError::InvalidToolCall(format!(
            "a tool call must be a JSON object, got {}",
            kind(call)
        )));
    };
    // The two shapes differ in where the name lives and which key carries the call id.
    let (fields, id_key) = match (
        object.get("type").and_then(Value::as_str),
        object.get("function"),
    ) {
        (Some("function") | None, Some(function)) => {
            let Some(function) = function.as_object() else {
                return Err(McpError::InvalidToolCall(format!(
                    "the \"function\" of a tool call must be an object, got {}",
                    kind(function)
                )));
            };
            (function, "id")
        }
        (Some("function_call") | None, None) => (object, "call_id"),
        (Some("function"), None) => {
            return Err(McpError::InvalidToolCall(format!(
                "a Chat Completions tool call needs a \"function\" object with the name and \
                 arguments (is this a tool definition?): {}",
                quote(&call.to_string())
            )));
        }
        (Some("function_call"), Some(_)) => {
            return Err(McpError::InvalidToolCall(format!(
                "a Responses \"function_call\" item carries \"name\" and \"arguments\" at the \
                 top level, not in \"function\": {}",
                quote(&call.to_string())
            )));
        }
        (Some(other), _) => {
            return Err(McpError::InvalidToolCall(format!(
                "unsupported tool call type \"{other}\": expected a Chat Completions \"function\" \
                 tool call or a Responses \"function_call\" item"
            )));
        }
    };
    let name = match fields.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => name.to_owned(),
        _ => {
            return Err(McpError::InvalidToolCall(format!(
                "tool call has no function name: {}",
                quote(&call.to_string())
            )));
        }
    };
    let arguments = arguments(&name, fields.get("arguments"))?;
    let call_id = object
        .get(id_key)
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(McpCall {
        name,
        arguments,
        call_id,
    })
}

/// The arguments object of a call to `name`, from a JSON string or an already-decoded object.
fn arguments(name: &str, raw: Option<&Value>) -> Result<Option<Map<String, Value>>, McpError> {
    let text = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) => return Ok(Some(object.clone())),
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(McpError::InvalidToolCall(format!(
                "arguments of the call to tool \"{name}\" must be a JSON object or a string \
                 holding one, got {}: {}",
                kind(other),
                quote(&other.to_string())
            )));
        }
    };
    // Models send "" for tools without parameters; that is no arguments, not malformed JSON.
    if text.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        Ok(other) => Err(McpError::InvalidToolCall(format!(
            "arguments of the call to tool \"{name}\" must be a JSON object, got {}: {}",
            kind(&other),
            quote(text)
        ))),
        Err(error) => Err(McpError::InvalidToolCall(format!(
            "arguments of the call to tool \"{name}\" are not valid JSON ({error}): {}",
            quote(text)
        ))),
    }
}

/// `text` in quotes, cut at [`QUOTE_LIMIT`] characters.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{:?}… ({} bytes in all)", &text[..cut], text.len()),
        None => format!("{text:?}"),
    }
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A tool result as text for a model, with MCP's error flag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolOutput {
    /// The content, rendered as described on [`result_to_text`].
    pub text: String,
    /// The server's `isError` (absent means `false`).
    pub is_error: bool,
}

/// The text a model should see for an MCP `CallToolResult`.
///
/// Content blocks are rendered in order and joined with `"\n"`:
/// - text → the text;
/// - image → `[image: <mime>, <N> bytes base64]`, audio → `[audio: <mime>, <N> bytes base64]`;
/// - embedded text resource → its URI on one line, then its text;
/// - embedded blob → `[resource <uri>: <mime>, <N> bytes base64]`;
/// - resource link → `[resource link: <name> <uri>]`, or `[resource link: <name> <uri> —
///   <description>]`.
///
/// `N` is the length of the base64 data as the server sent it: the payload is described, never
/// inlined or decoded, because models cannot read base64 and it would cost its size in tokens.
///
/// `structuredContent` is rendered as compact JSON. Without content blocks it is the whole text.
/// With content blocks it follows them on its own line, unless a text block already holds the
/// same JSON value — the spec asks servers to duplicate structured results in a text block, and
/// the model should not read them twice.
pub fn result_to_text(result: &CallToolResult) -> ToolOutput {
    let mut parts: Vec<String> = result.content.iter().map(block_text).collect();
    if let Some(structured) = &result.structured_content {
        let duplicated = result.content.iter().any(|block| {
            block.as_text().is_some_and(|text| {
                serde_json::from_str::<Value>(&text.text).is_ok_and(|value| value == *structured)
            })
        });
        if !duplicated {
            parts.push(structured.to_string());
        }
    }
    ToolOutput {
        text: parts.join("\n"),
        is_error: result.is_error.unwrap_or(false),
    }
}

/// One content block as text.
fn block_text(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => binary("image", &image.mime_type, image.data.len()),
        ContentBlock::Audio(audio) => binary("audio", &audio.mime_type, audio.data.len()),
        ContentBlock::Resource(embedded) => match &embedded.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => format!("{uri}\n{text}"),
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => binary(
                &format!("resource {uri}"),
                mime_type.as_deref().unwrap_or(UNKNOWN_MIME),
                blob.len(),
            ),
            // `ResourceContents` is non-exhaustive; a future kind is still worth naming.
            _ => "[resource]".to_owned(),
        },
        ContentBlock::ResourceLink(link) => {
            let mut text = format!("[resource link: {} {}", link.name, link.uri);
            if let Some(description) = link.description.as_deref().filter(|d| !d.is_empty()) {
                let _ = write!(text, " — {description}");
            }
            text.push(']');
            text
        }
        // `ContentBlock` is non-exhaustive: say something rather than drop it silently.
        _ => "[unsupported content]".to_owned(),
    }
}

/// `[<what>: <mime>, <len> bytes base64]`.
fn binary(what: &str, mime: &str, len: usize) -> String {
    let mime = if mime.is_empty() { UNKNOWN_MIME } else { mime };
    format!("[{what}: {mime}, {len} bytes base64]")
}

/// The text of a tool result as a model should receive it: [`result_to_text`], and for a failed
/// call, `"Error: "` in front.
///
/// Chat tool messages (unlike Anthropic's `tool_result.is_error`) have no error flag, so without
/// the prefix a failure such as `"file not found"` reads like an answer. The prefix is left out
/// when the text already starts with "error" (any case), and an empty failure says so.
fn model_text(result: &CallToolResult) -> String {
    let output = result_to_text(result);
    if !output.is_error {
        return output.text;
    }
    let says_error = output
        .text
        .get(..5)
        .is_some_and(|head| head.eq_ignore_ascii_case("error"));
    if says_error {
        output.text
    } else if output.text.trim().is_empty() {
        "Error: the tool failed without saying why".to_owned()
    } else {
        format!("Error: {}", output.text)
    }
}

/// The Chat Completions message answering a tool call:
/// `{"role":"tool","tool_call_id","content"}`.
///
/// `content` is [`result_to_text`]; when the result is an error it starts with `"Error: "`
/// (added unless the text already starts with "error", in any case), because a Chat tool
/// message has no error flag and the model must not mistake a failure for an answer. LiteLLM
/// passes the text through unmarked.
pub fn tool_message(call_id: &str, result: &CallToolResult) -> Value {
    json!({ "role": "tool", "tool_call_id": call_id, "content": model_text(result) })
}

/// The Responses API input item answering a `function_call`:
/// `{"type":"function_call_output","call_id","output"}`, with the same text as
/// [`tool_message`].
pub fn function_call_output(call_id: &str, result: &CallToolResult) -> Value {
    json!({ "type": "function_call_output", "call_id": call_id, "output": model_text(result) })
}

/// The shapes LiteLLM's `load_mcp_tools(session, format=…)` can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolFormat {
    /// The tools as MCP JSON, as the server listed them (LiteLLM's default, `"mcp"`).
    #[default]
    Mcp,
    /// Chat Completions function tools (`"openai"`).
    OpenAi,
}

impl ToolFormat {
    /// The name LiteLLM uses for this format.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolFormat::Mcp => "mcp",
            ToolFormat::OpenAi => "openai",
        }
    }
}

impl FromStr for ToolFormat {
    type Err = McpError;

    /// `"mcp"` or `"openai"`, as LiteLLM spells them.
    fn from_str(format: &str) -> Result<Self, McpError> {
        match format {
            "mcp" => Ok(ToolFormat::Mcp),
            "openai" => Ok(ToolFormat::OpenAi),
            other => Err(McpError::InvalidToolCall(format!(
                "unknown tool format {other:?}: valid formats are \"mcp\" and \"openai\""
            ))),
        }
    }
}

/// The tools in the requested format, in order.
pub fn format_tools(tools: &[Tool], format: ToolFormat) -> Vec<Value> {
    match format {
        ToolFormat::OpenAi => tools.iter().map(to_chat_tool).collect(),
        ToolFormat::Mcp => tools
            .iter()
            .filter_map(|tool| match serde_json::to_value(tool) {
                Ok(value) => Some(value),
                // Cannot happen for rmcp's plain data types; logged rather than panicking.
                Err(error) => {
                    tracing::warn!(tool = %tool.name, %error, "cannot serialise MCP tool");
                    None
                }
            })
            .collect(),
    }
}

/// LiteLLM's `load_mcp_tools(session, format)`: every tool of the server (all pages), in
/// `format`.
///
/// Unlike LiteLLM, a failed listing is an error rather than a partial or empty list: the caller
/// decides whether to degrade, and knows it did.
pub async fn load_tools(client: &McpClient, format: ToolFormat) -> Result<Vec<Value>, McpError> {
    let tools = client.list_tools().await?;
    Ok(format_tools(&tools, format))
}

/// LiteLLM's `call_openai_tool(session, openai_tool)`: runs the MCP call an OpenAI tool call
/// asks for ([`tool_call_to_mcp`], then [`McpClient::call_tool`]).
///
/// Malformed arguments are refused before anything is sent to the server; a tool that runs and
/// fails comes back as `Ok` with `is_error`, for the model to read (see [`tool_message`]).
pub async fn call_openai_tool(
    client: &McpClient,
    call: &Value,
) -> Result<CallToolResult, McpError> {
    let call = tool_call_to_mcp(call)?;
    client.call_tool(&call.name, call.arguments).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn tool(value: Value) -> Tool {
        serde_json::from_value(value).unwrap()
    }

    fn result(value: Value) -> CallToolResult {
        serde_json::from_value(value).unwrap()
    }

    fn invalid(call: Value) -> String {
        match tool_call_to_mcp(&call) {
            Err(McpError::InvalidToolCall(message)) => message,
            other => panic!("expected InvalidToolCall for {call}, got {other:?}"),
        }
    }

    fn chat_call(arguments: Value) -> Value {
        json!({"id": "call_1", "type": "function", "function": {"name": "echo", "arguments": arguments}})
    }

    fn rich_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "item": {"$ref": "#/$defs/item"},
                "tags": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["item"],
            "additionalProperties": {"type": "integer"},
            "$defs": {"item": {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": false}}
        })
    }

    // ---- tool definitions ----

    #[test]
    fn chat_tool_keeps_name_description_and_schema_intact() {
        let t = tool(
            json!({"name": "get.item/v2", "description": "Fetch an item", "inputSchema": rich_schema()}),
        );
        assert_eq!(
            to_chat_tool(&t),
            json!({"type": "function", "function": {"name": "get.item/v2", "description": "Fetch an item", "parameters": rich_schema()}})
        );
    }

    #[test]
    fn responses_tool_is_flat_and_not_strict() {
        let t = tool(
            json!({"name": "get_item", "description": "Fetch an item", "inputSchema": rich_schema()}),
        );
        assert_eq!(
            to_responses_tool(&t),
            json!({"type": "function", "name": "get_item", "description": "Fetch an item", "parameters": rich_schema(), "strict": false})
        );
    }

    #[test]
    fn missing_description_is_omitted() {
        let t = tool(json!({"name": "ping", "inputSchema": {"type": "object", "properties": {}}}));
        let chat = to_chat_tool(&t);
        assert!(chat["function"].get("description").is_none(), "{chat}");
        assert_eq!(chat["function"]["name"], "ping");
        let responses = to_responses_tool(&t);
        assert!(responses.get("description").is_none(), "{responses}");
    }

    #[test]
    fn empty_description_is_kept() {
        let t = tool(
            json!({"name": "ping", "description": "", "inputSchema": {"type": "object", "properties": {}}}),
        );
        assert_eq!(to_chat_tool(&t)["function"]["description"], "");
    }

    #[test]
    fn title_annotations_and_output_schema_stay_out_of_openai_tools() {
        let t = tool(json!({
            "name": "ping", "title": "Ping", "description": "d",
            "inputSchema": {"type": "object", "properties": {}},
            "outputSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
            "annotations": {"readOnlyHint": true}
        }));
        assert_eq!(
            to_chat_tool(&t),
            json!({"type": "function", "function": {"name": "ping", "description": "d", "parameters": {"type": "object", "properties": {}}}})
        );
    }

    #[test]
    fn object_schema_without_properties_gets_empty_properties() {
        let t = tool(json!({"name": "now", "inputSchema": {"type": "object"}}));
        assert_eq!(
            to_chat_tool(&t)["function"]["parameters"],
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            to_responses_tool(&t)["parameters"],
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn empty_schema_becomes_empty_object_schema() {
        let t = tool(json!({"name": "now", "inputSchema": {}}));
        assert_eq!(
            to_chat_tool(&t)["function"]["parameters"],
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn schema_without_type_but_with_properties_gets_only_type() {
        let schema = json!({"properties": {"a": {"type": "string"}}, "additionalProperties": true});
        let t = tool(json!({"name": "x", "inputSchema": schema}));
        assert_eq!(
            to_chat_tool(&t)["function"]["parameters"],
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true})
        );
    }

    #[test]
    fn non_object_type_is_left_alone() {
        // Not valid for OpenAI, but rewriting it would hide the server's bug from the operator.
        let schema = json!({"type": ["object", "null"]});
        let t = tool(json!({"name": "x", "inputSchema": schema.clone()}));
        assert_eq!(to_chat_tool(&t)["function"]["parameters"], schema);
    }

    #[test]
    fn the_source_tool_is_not_modified() {
        let t = tool(json!({"name": "now", "inputSchema": {"type": "object"}}));
        let _ = to_chat_tool(&t);
        assert_eq!(
            Value::Object(t.input_schema.as_ref().clone()),
            json!({"type": "object"})
        );
    }

    #[test]
    fn format_tools_mcp_is_the_tool_as_listed() {
        let listed = json!({
            "name": "get_item", "title": "Get item", "description": "Fetch",
            "inputSchema": rich_schema(), "annotations": {"readOnlyHint": true}
        });
        let tools = vec![
            tool(listed.clone()),
            tool(json!({"name": "now", "inputSchema": {"type": "object"}})),
        ];
        let out = format_tools(&tools, ToolFormat::Mcp);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], listed);
        // MCP format is untouched: no `properties` added.
        assert_eq!(
            out[1],
            json!({"name": "now", "inputSchema": {"type": "object"}})
        );
    }

    #[test]
    fn format_tools_openai_is_chat_tools_in_order() {
        let tools = vec![
            tool(json!({"name": "a", "inputSchema": {"type": "object", "properties": {}}})),
            tool(
                json!({"name": "b", "description": "B", "inputSchema": {"type": "object", "properties": {}}}),
            ),
        ];
        let out = format_tools(&tools, ToolFormat::OpenAi);
        assert_eq!(out, tools.iter().map(to_chat_tool).collect::<Vec<_>>());
        assert_eq!(out[1]["function"]["name"], "b");
        assert!(format_tools(&[], ToolFormat::OpenAi).is_empty());
    }

    #[test]
    fn tool_format_parses_litellm_names() {
        assert_eq!("mcp".parse::<ToolFormat>().unwrap(), ToolFormat::Mcp);
        assert_eq!("openai".parse::<ToolFormat>().unwrap(), ToolFormat::OpenAi);
        assert_eq!(ToolFormat::default(), ToolFormat::Mcp);
        assert_eq!(ToolFormat::OpenAi.as_str(), "openai");
        match "anthropic".parse::<ToolFormat>() {
            Err(McpError::InvalidToolCall(message)) => {
                assert!(message.contains("\"anthropic\""), "{message}");
                assert!(message.contains("\"mcp\" and \"openai\""), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            "OpenAI".parse::<ToolFormat>().is_err(),
            "LiteLLM compares exactly"
        );
    }

    // ---- tool calls ----

    #[test]
    fn chat_call_with_object_arguments() {
        let call = tool_call_to_mcp(&chat_call(json!("{\"a\":1}"))).unwrap();
        assert_eq!(
            call,
            McpCall {
                name: "echo".into(),
                arguments: Some(json!({"a": 1}).as_object().unwrap().clone()),
                call_id: Some("call_1".into()),
            }
        );
    }

    #[test]
    fn empty_or_blank_arguments_are_no_arguments() {
        for arguments in [json!(""), json!("  "), json!(" \n\t"), Value::Null] {
            let call = tool_call_to_mcp(&chat_call(arguments.clone())).unwrap();
            assert_eq!(call.arguments, None, "{arguments}");
        }
        let call = tool_call_to_mcp(&json!({"id": "c", "function": {"name": "echo"}})).unwrap();
        assert_eq!(call.arguments, None);
    }

    #[test]
    fn empty_object_arguments_are_an_empty_map() {
        let call = tool_call_to_mcp(&chat_call(json!("{}"))).unwrap();
        assert_eq!(call.arguments, Some(Map::new()));
    }

    #[test]
    fn nested_arguments_are_kept() {
        let args = json!({"q": {"deep": [1, {"x": null}]}, "s": "é\"\n"});
        let call = tool_call_to_mcp(&chat_call(Value::from(args.to_string()))).unwrap();
        assert_eq!(Value::Object(call.arguments.unwrap()), args);
    }

    #[test]
    fn arguments_already_decoded_are_accepted() {
        let call = tool_call_to_mcp(&chat_call(json!({"a": 1}))).unwrap();
        assert_eq!(
            call.arguments,
            Some(json!({"a": 1}).as_object().unwrap().clone())
        );
    }

    #[test]
    fn array_arguments_are_rejected_naming_the_tool() {
        let message = invalid(chat_call(json!("[1]")));
        assert!(message.contains("\"echo\""), "{message}");
        assert!(message.contains("an array"), "{message}");
        assert!(message.contains("\"[1]\""), "{message}");
    }

    #[test]
    fn scalar_json_arguments_are_rejected() {
        for (arguments, kind) in [
            ("1", "a number"),
            ("\"x\"", "a string"),
            ("null", "null"),
            ("true", "a boolean"),
        ] {
            let message = invalid(chat_call(Value::from(arguments)));
            assert!(message.contains(kind), "{arguments}: {message}");
        }
    }

    #[test]
    fn invalid_json_arguments_are_rejected_quoting_them() {
        let err = tool_call_to_mcp(&chat_call(json!("not json"))).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid tool call: "), "{text}");
        assert!(text.contains("tool \"echo\""), "{text}");
        assert!(text.contains("not valid JSON"), "{text}");
        assert!(text.contains("\"not json\""), "{text}");
        assert_eq!(err.server(), None);
    }

    #[test]
    fn truncated_json_arguments_are_rejected() {
        let message = invalid(chat_call(json!("{\"a\": 1")));
        assert!(message.contains("not valid JSON"), "{message}");
    }

    #[test]
    fn long_arguments_are_quoted_truncated() {
        let long = format!("{{\"a\": \"{}", "é".repeat(5000));
        let message = invalid(chat_call(Value::from(long.clone())));
        assert!(message.len() < 1000, "{} bytes", message.len());
        assert!(message.contains('…'), "{message}");
        assert!(
            message.contains(&format!("({} bytes in all)", long.len())),
            "{message}"
        );
    }

    #[test]
    fn non_string_non_object_arguments_are_rejected() {
        let message = invalid(chat_call(json!([1, 2])));
        assert!(
            message.contains("an array") && message.contains("\"echo\""),
            "{message}"
        );
        let message = invalid(chat_call(json!(42)));
        assert!(message.contains("a number"), "{message}");
    }

    #[test]
    fn responses_function_call_item() {
        let item = json!({
            "type": "function_call", "id": "fc_123", "call_id": "call_abc",
            "name": "echo", "arguments": "{\"text\":\"hi\"}", "status": "completed"
        });
        let call = tool_call_to_mcp(&item).unwrap();
        assert_eq!(call.name, "echo");
        // `id` is the item's own id; the result goes back under `call_id`.
        assert_eq!(call.call_id.as_deref(), Some("call_abc"));
        assert_eq!(
            call.arguments,
            Some(json!({"text": "hi"}).as_object().unwrap().clone())
        );
    }

    #[test]
    fn responses_item_without_type_or_arguments() {
        let call =
            tool_call_to_mcp(&json!({"call_id": "c", "name": "now", "arguments": ""})).unwrap();
        assert_eq!(
            (call.name.as_str(), call.arguments, call.call_id.as_deref()),
            ("now", None, Some("c"))
        );
        let call = tool_call_to_mcp(&json!({"name": "now"})).unwrap();
        assert_eq!(call.call_id, None);
    }

    #[test]
    fn chat_call_without_type_or_id() {
        let call =
            tool_call_to_mcp(&json!({"function": {"name": "echo", "arguments": "{}"}})).unwrap();
        assert_eq!(call.name, "echo");
        assert_eq!(call.call_id, None);
    }

    #[test]
    fn missing_or_empty_name_is_rejected() {
        for call in [
            json!({"id": "c", "type": "function", "function": {"arguments": "{}"}}),
            json!({"id": "c", "type": "function", "function": {"name": "", "arguments": "{}"}}),
            json!({"id": "c", "type": "function", "function": {"name": 7}}),
            json!({"type": "function_call", "call_id": "c", "arguments": "{}"}),
            json!({}),
        ] {
            let message = invalid(call.clone());
            assert!(message.contains("no function name"), "{call}: {message}");
        }
    }

    #[test]
    fn malformed_shapes_are_rejected() {
        assert!(invalid(json!("echo")).contains("must be a JSON object, got a string"));
        assert!(invalid(json!([])).contains("an array"));
        let message = invalid(json!({"type": "function", "function": "echo"}));
        assert!(
            message.contains("\"function\" of a tool call must be an object"),
            "{message}"
        );
        let message = invalid(json!({"type": "custom", "custom": {"name": "x", "input": "y"}}));
        assert!(
            message.contains("unsupported tool call type \"custom\""),
            "{message}"
        );
        // A Responses type with a Chat body is a contradiction, not something to guess at.
        let message = invalid(json!({"type": "function_call", "function": {"name": "x"}}));
        assert!(message.contains("at the top level"), "{message}");
        // A Responses tool *definition* handed over by mistake.
        let message = invalid(json!({"type": "function", "name": "x", "parameters": {}}));
        assert!(message.contains("needs a \"function\" object"), "{message}");
    }

    // ---- results ----

    #[test]
    fn text_blocks_are_joined_with_newlines() {
        let r = result(
            json!({"content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}),
        );
        assert_eq!(
            result_to_text(&r),
            ToolOutput {
                text: "one\ntwo".into(),
                is_error: false
            }
        );
    }

    #[test]
    fn empty_content_is_empty_text() {
        let r = result(json!({"content": []}));
        assert_eq!(
            result_to_text(&r),
            ToolOutput {
                text: String::new(),
                is_error: false
            }
        );
        // `content` missing on the wire is lenient in rmcp; still empty text.
        let r = result(json!({"isError": false}));
        assert_eq!(result_to_text(&r).text, "");
    }

    #[test]
    fn image_and_audio_are_described_not_inlined() {
        let big = "A".repeat(1_000_000);
        let r = result(json!({"content": [
            {"type": "image", "data": big, "mimeType": "image/png"},
            {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"}
        ]}));
        let out = result_to_text(&r);
        assert_eq!(
            out.text,
            "[image: image/png, 1000000 bytes base64]\n[audio: audio/wav, 8 bytes base64]"
        );
    }

    #[test]
    fn image_without_mime_type_says_octet_stream() {
        let r = result(json!({"content": [{"type": "image", "data": "AAAA", "mimeType": ""}]}));
        assert_eq!(
            result_to_text(&r).text,
            "[image: application/octet-stream, 4 bytes base64]"
        );
    }

    #[test]
    fn embedded_text_resource_is_uri_then_text() {
        let r = result(json!({"content": [
            {"type": "resource", "resource": {"uri": "file:///notes.md", "mimeType": "text/markdown", "text": "# Notes\nbody"}}
        ]}));
        assert_eq!(result_to_text(&r).text, "file:///notes.md\n# Notes\nbody");
    }

    #[test]
    fn embedded_blob_resource_is_described() {
        let r = result(json!({"content": [
            {"type": "resource", "resource": {"uri": "file:///r.pdf", "mimeType": "application/pdf", "blob": "JVBERi0xLjQ="}},
            {"type": "resource", "resource": {"uri": "mem://x", "blob": "AAEC"}}
        ]}));
        assert_eq!(
            result_to_text(&r).text,
            "[resource file:///r.pdf: application/pdf, 12 bytes base64]\n\
             [resource mem://x: application/octet-stream, 4 bytes base64]"
        );
    }

    #[test]
    fn resource_link_with_and_without_description() {
        let r = result(json!({"content": [
            {"type": "resource_link", "uri": "file:///a.txt", "name": "a.txt"},
            {"type": "resource_link", "uri": "file:///b.txt", "name": "b.txt", "description": "The B file", "mimeType": "text/plain"}
        ]}));
        assert_eq!(
            result_to_text(&r).text,
            "[resource link: a.txt file:///a.txt]\n[resource link: b.txt file:///b.txt — The B file]"
        );
    }

    #[test]
    fn every_kind_of_block_in_order() {
        let r = result(json!({"content": [
            {"type": "text", "text": "Here:"},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"},
            {"type": "resource", "resource": {"uri": "test://t", "text": "inline"}},
            {"type": "resource", "resource": {"uri": "test://b", "mimeType": "application/zip", "blob": "UEsDBA=="}},
            {"type": "resource_link", "uri": "test://l", "name": "l", "description": "linked"},
            {"type": "text", "text": "done"}
        ]}));
        assert_eq!(
            result_to_text(&r).text,
            "Here:\n\
             [image: image/png, 12 bytes base64]\n\
             [audio: audio/wav, 8 bytes base64]\n\
             test://t\ninline\n\
             [resource test://b: application/zip, 8 bytes base64]\n\
             [resource link: l test://l — linked]\n\
             done"
        );
    }

    #[test]
    fn structured_content_alone_is_its_json() {
        let r = result(
            json!({"content": [], "structuredContent": {"temperature": 22.5, "city": "Paris"}}),
        );
        let out = result_to_text(&r);
        assert_eq!(
            serde_json::from_str::<Value>(&out.text).unwrap(),
            json!({"temperature": 22.5, "city": "Paris"})
        );
        assert!(!out.text.contains('\n'), "compact JSON: {}", out.text);
    }

    #[test]
    fn structured_content_duplicated_in_text_is_not_repeated() {
        // Servers SHOULD mirror structured content in a text block; formatting may differ.
        let r = result(json!({
            "content": [{"type": "text", "text": "{\n  \"city\": \"Paris\",\n  \"temperature\": 22.5\n}"}],
            "structuredContent": {"temperature": 22.5, "city": "Paris"}
        }));
        assert_eq!(
            result_to_text(&r).text,
            "{\n  \"city\": \"Paris\",\n  \"temperature\": 22.5\n}"
        );
    }

    #[test]
    fn structured_content_not_in_text_follows_content() {
        let r = result(json!({
            "content": [{"type": "text", "text": "Weather for Paris"}, {"type": "image", "data": "AAAA", "mimeType": "image/png"}],
            "structuredContent": {"temperature": 22.5}
        }));
        assert_eq!(
            result_to_text(&r).text,
            "Weather for Paris\n[image: image/png, 4 bytes base64]\n{\"temperature\":22.5}"
        );
    }

    #[test]
    fn structured_null_and_non_object_values_are_rendered() {
        let r = result(json!({"content": [], "structuredContent": null}));
        assert_eq!(result_to_text(&r).text, "null");
        let r = result(json!({"content": [], "structuredContent": [1, "two"]}));
        assert_eq!(result_to_text(&r).text, "[1,\"two\"]");
    }

    #[test]
    fn is_error_is_kept() {
        let r = result(json!({"content": [{"type": "text", "text": "boom"}], "isError": true}));
        assert_eq!(
            result_to_text(&r),
            ToolOutput {
                text: "boom".into(),
                is_error: true
            }
        );
        let r = result(json!({"content": [{"type": "text", "text": "ok"}]}));
        assert!(!result_to_text(&r).is_error, "absent isError means success");
    }

    // ---- tool messages ----

    #[test]
    fn tool_message_for_success() {
        let r = result(json!({"content": [{"type": "text", "text": "42"}], "isError": false}));
        assert_eq!(
            tool_message("call_1", &r),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "42"})
        );
    }

    #[test]
    fn tool_message_for_error_is_prefixed_once() {
        let r = result(
            json!({"content": [{"type": "text", "text": "file not found"}], "isError": true}),
        );
        assert_eq!(tool_message("c", &r)["content"], "Error: file not found");
        for already in ["Error: file not found", "error executing tool", "ERROR 42"] {
            let r =
                result(json!({"content": [{"type": "text", "text": already}], "isError": true}));
            assert_eq!(tool_message("c", &r)["content"], already);
        }
        // Only a leading "error" counts: "Err" or "éerror" get the prefix.
        let r = result(json!({"content": [{"type": "text", "text": "Err"}], "isError": true}));
        assert_eq!(tool_message("c", &r)["content"], "Error: Err");
        let r = result(json!({"content": [{"type": "text", "text": "éerror"}], "isError": true}));
        assert_eq!(tool_message("c", &r)["content"], "Error: éerror");
    }

    #[test]
    fn tool_message_for_empty_error() {
        let r = result(json!({"content": [], "isError": true}));
        assert_eq!(
            tool_message("c", &r)["content"],
            "Error: the tool failed without saying why"
        );
    }

    #[test]
    fn tool_message_for_empty_success_is_empty() {
        let r = result(json!({"content": []}));
        assert_eq!(tool_message("c", &r)["content"], "");
    }

    #[test]
    fn function_call_output_matches_tool_message_text() {
        let r = result(json!({"content": [{"type": "text", "text": "nope"}], "isError": true}));
        assert_eq!(
            function_call_output("call_abc", &r),
            json!({"type": "function_call_output", "call_id": "call_abc", "output": "Error: nope"})
        );
    }

    #[test]
    fn quote_cuts_on_character_boundaries() {
        let text = "é".repeat(QUOTE_LIMIT + 10);
        let quoted = quote(&text);
        assert!(quoted.starts_with('"'));
        assert_eq!(quoted.matches('é').count(), QUOTE_LIMIT);
        assert_eq!(quote("short"), "\"short\"");
    }
}
