//! OpenAI Responses API wire format: `POST /v1/responses` (JSON, or SSE
//! events with `sequence_number`s), answered by the same deterministic rules
//! as chat (see the crate docs), with OpenAI-shaped errors.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::openai::{ApiError, admit, invalid, now, scripted_error};
use crate::reply::{
    Answer, Conversation, Reply, call_id, join_texts, split_pieces, word_pieces, words,
};
use crate::script::Directive;
use crate::scripted;
use crate::sse;
use crate::state::Shared;

const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];

/// Content part types the real API accepts in a message; text is read from
/// `input_text` and `output_text`.
const PART_TYPES: [&str; 7] = [
    "input_text",
    "output_text",
    "refusal",
    "input_image",
    "input_file",
    "computer_screenshot",
    "summary_text",
];

/// Input item types accepted besides `message`, `function_call` and
/// `function_call_output`; they do not change the answer.
const OTHER_ITEMS: [&str; 17] = [
    "reasoning",
    "item_reference",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval_request",
    "mcp_approval_response",
    "custom_tool_call",
    "custom_tool_call_output",
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "local_shell_call_output",
    "compaction",
];

/// `POST /v1/responses` and `POST /responses`.
pub(crate) async fn responses(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (n, request) = match admit(&shared, &uri, &headers, &body).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let mut convo = match parse(&request) {
        Ok(convo) => convo,
        Err(invalid) => return invalid.into_response(),
    };
    scripted::apply(
        &shared.opts.tool_calls,
        &scripted::responses_offered(&request),
        scripted::responses_forced(&request),
        shared.opts.parallel_tool_calls,
        &mut convo,
    );
    let directive = Directive::parse(&convo.model);
    if let Directive::Error(status) = directive {
        return scripted_error(status, &convo.model).into_response();
    }
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let delay = directive.delay_before(stream);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = convo.answer();
    let shape = Shape {
        n,
        created_at: now(),
        model: &convo.model,
        request: &request,
    };
    let mut response = if stream {
        sse::response(
            stream_events(&shape, &answer),
            directive.delay_between(true),
        )
    } else {
        let output = output_items(n, &answer.reply);
        Json(shape.response("completed", output, usage(&answer))).into_response()
    };
    if let Ok(id) = HeaderValue::try_from(format!("req_mock_{n}")) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// One input item, reduced to what the answer depends on.
enum Item {
    Message {
        role: String,
        text: String,
    },
    FunctionCallOutput(String),
    /// A `function_call` or an item type that does not matter here.
    Other,
}

/// Validates a request and summarises it as a conversation.
fn parse(request: &Value) -> Result<Conversation, ApiError> {
    if !request.is_object() {
        return Err(invalid("body", "The request body must be a JSON object."));
    }
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return Err(invalid("model", "Missing required parameter: 'model'."));
    };
    let instructions = match request.get("instructions") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => {
            return Err(invalid(
                "instructions",
                format!("Invalid type for 'instructions': expected a string, but got {other}."),
            ));
        }
    };
    let items = match request.get("input") {
        Some(Value::String(text)) => vec![Item::Message {
            role: "user".into(),
            text: text.clone(),
        }],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_item(i, item))
            .collect::<Result<_, _>>()?,
        None | Some(Value::Null) => {
            return Err(invalid("input", "Missing required parameter: 'input'."));
        }
        Some(_) => {
            return Err(invalid(
                "input",
                "Invalid type for 'input': expected a string or an array of input items.",
            ));
        }
    };
    let mut convo = Conversation {
        model: model.to_owned(),
        prompt_words: words(&instructions),
        ..Conversation::default()
    };
    let mut system = vec![instructions];
    for item in &items {
        match item {
            Item::Message { role, text } => {
                convo.prompt_words += words(text);
                match role.as_str() {
                    "user" => convo.last_user_text = text.clone(),
                    "system" | "developer" => system.push(text.clone()),
                    _ => {}
                }
            }
            Item::FunctionCallOutput(output) => convo.prompt_words += words(output),
            Item::Other => {}
        }
    }
    let system = join_texts(system.iter().map(String::as_str));
    convo.system = (!system.is_empty()).then_some(system);
    // The outputs since the last message, when the input ends with one: with
    // several calls a client may interleave calls and outputs.
    if matches!(items.last(), Some(Item::FunctionCallOutput(_))) {
        let since_message = items
            .iter()
            .rposition(|item| matches!(item, Item::Message { .. }))
            .map_or(0, |i| i + 1);
        let outputs = items[since_message..].iter().filter_map(|item| match item {
            Item::FunctionCallOutput(output) => Some(output.as_str()),
            _ => None,
        });
        convo.tool_results = Some(join_texts(outputs));
    }
    convo.ends_with_user =
        matches!(items.last(), Some(Item::Message { role, .. }) if role == "user");
    convo.tool = chosen_tool(request);
    Ok(convo)
}

fn parse_item(i: usize, item: &Value) -> Result<Item, ApiError> {
    let Some(fields) = item.as_object() else {
        return Err(invalid(
            &format!("input[{i}]"),
            format!("Invalid type for 'input[{i}]': expected an object, but got {item}."),
        ));
    };
    let kind = match fields.get("type").and_then(Value::as_str) {
        Some(kind) => kind,
        // An "easy" input message has only `role` and `content`.
        None if fields.contains_key("role") => "message",
        None => {
            return Err(invalid(
                &format!("input[{i}].type"),
                format!("Missing required parameter: 'input[{i}].type'."),
            ));
        }
    };
    match kind {
        "message" => {
            let role = fields.get("role").and_then(Value::as_str).unwrap_or("");
            if !ROLES.contains(&role) {
                return Err(invalid(
                    &format!("input[{i}].role"),
                    format!(
                        "Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', and 'user'."
                    ),
                ));
            }
            let text = message_text(i, fields.get("content"))?;
            Ok(Item::Message {
                role: role.to_owned(),
                text,
            })
        }
        "function_call" => {
            for field in ["call_id", "name", "arguments"] {
                require_string(i, fields, field)?;
            }
            Ok(Item::Other)
        }
        "function_call_output" => {
            require_string(i, fields, "call_id")?;
            match fields.get("output") {
                Some(Value::String(output)) => Ok(Item::FunctionCallOutput(output.clone())),
                Some(Value::Array(parts)) => Ok(Item::FunctionCallOutput(join_texts(
                    parts.iter().filter_map(part_text),
                ))),
                _ => Err(invalid(
                    &format!("input[{i}].output"),
                    format!("Missing required parameter: 'input[{i}].output'."),
                )),
            }
        }
        other if OTHER_ITEMS.contains(&other) => Ok(Item::Other),
        other => Err(invalid(
            &format!("input[{i}].type"),
            format!(
                "Invalid value: '{other}'. Supported values are: 'message', 'function_call', 'function_call_output', and {}.",
                OTHER_ITEMS.map(|t| format!("'{t}'")).join(", ")
            ),
        )),
    }
}

fn require_string(i: usize, fields: &Map<String, Value>, field: &str) -> Result<(), ApiError> {
    if fields.get(field).is_some_and(Value::is_string) {
        Ok(())
    } else {
        Err(invalid(
            &format!("input[{i}].{field}"),
            format!("Missing required parameter: 'input[{i}].{field}'."),
        ))
    }
}

/// Text of a message's content: a string, or its text parts joined. Part
/// types of other APIs (Chat Completions' `text`) are rejected, as the real
/// API does.
fn message_text(i: usize, content: Option<&Value>) -> Result<String, ApiError> {
    match content {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
                if !PART_TYPES.contains(&kind) {
                    return Err(invalid(
                        &format!("input[{i}].content[{j}].type"),
                        format!(
                            "Invalid value: '{kind}'. Supported values are: {}.",
                            PART_TYPES.map(|t| format!("'{t}'")).join(", ")
                        ),
                    ));
                }
            }
            Ok(join_texts(parts.iter().filter_map(part_text)))
        }
        _ => Err(invalid(
            &format!("input[{i}].content"),
            format!("Missing required parameter: 'input[{i}].content'."),
        )),
    }
}

/// The text of an `input_text` or `output_text` part.
fn part_text(part: &Value) -> Option<&str> {
    match part.get("type").and_then(Value::as_str) {
        Some("input_text" | "output_text") => part.get("text").and_then(Value::as_str),
        _ => None,
    }
}

/// The function to call: `tool_choice`'s function, else the first function
/// tool; none when no function tool is offered or `tool_choice` is `"none"`.
fn chosen_tool(request: &Value) -> Option<String> {
    let first = *scripted::responses_offered(request).first()?;
    let choice = request.get("tool_choice");
    if choice.and_then(Value::as_str) == Some("none") {
        return None;
    }
    let forced = scripted::responses_forced(request)
        .then(|| request.pointer("/tool_choice/name").and_then(Value::as_str))
        .flatten();
    Some(forced.unwrap_or(first).to_owned())
}

fn usage(answer: &Answer) -> Value {
    json!({
        "input_tokens": answer.prompt_tokens,
        "input_tokens_details": { "cached_tokens": 0 },
        "output_tokens": answer.completion_tokens,
        "output_tokens_details": { "reasoning_tokens": 0 },
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    })
}

/// The output items of a completed answer.
fn output_items(n: u64, reply: &Reply) -> Vec<Value> {
    match reply {
        Reply::Text(text) => vec![message_item(n, "completed", json!([text_part(text)]))],
        Reply::ToolCalls(calls) => calls
            .iter()
            .enumerate()
            .map(|(k, call)| {
                function_call_item(n, k, calls.len(), &call.name, &call.arguments, "completed")
            })
            .collect(),
    }
}

fn text_part(text: &str) -> Value {
    json!({ "type": "output_text", "text": text, "annotations": [] })
}

fn message_item(n: u64, status: &str, content: Value) -> Value {
    json!({
        "type": "message",
        "id": format!("msg_mock_{n}"),
        "role": "assistant",
        "status": status,
        "content": content,
    })
}

fn function_call_item(
    n: u64,
    k: usize,
    count: usize,
    name: &str,
    arguments: &str,
    status: &str,
) -> Value {
    json!({
        "type": "function_call",
        "id": call_id("fc_mock", n, k, count),
        "call_id": call_id("call_mock", n, k, count),
        "name": name,
        "arguments": arguments,
        "status": status,
    })
}

/// What every snapshot of the response object shares.
struct Shape<'a> {
    n: u64,
    created_at: u64,
    model: &'a str,
    request: &'a Value,
}

impl Shape<'_> {
    /// The `response` object in `status`, echoing the request's settings as
    /// the real API does (with its defaults where the request set none).
    fn response(&self, status: &str, output: Vec<Value>, usage: Value) -> Value {
        let echo = |field: &str, default: Value| {
            self.request
                .get(field)
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or(default)
        };
        json!({
            "id": format!("resp_mock_{}", self.n),
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": null,
            "incomplete_details": null,
            "instructions": echo("instructions", Value::Null),
            "max_output_tokens": echo("max_output_tokens", Value::Null),
            "model": self.model,
            "output": output,
            "parallel_tool_calls": echo("parallel_tool_calls", json!(true)),
            "previous_response_id": echo("previous_response_id", Value::Null),
            "temperature": echo("temperature", json!(1.0)),
            "text": echo("text", json!({ "format": { "type": "text" } })),
            "tool_choice": echo("tool_choice", json!("auto")),
            "tools": echo("tools", json!([])),
            "top_p": echo("top_p", json!(1.0)),
            "truncation": echo("truncation", json!("disabled")),
            "metadata": echo("metadata", json!({})),
            "usage": usage,
        })
    }
}

/// Streamed events, each with the next `sequence_number` (from 0).
#[derive(Default)]
struct Events {
    frames: Vec<Bytes>,
    seq: u64,
}

impl Events {
    fn push(&mut self, kind: &str, mut payload: Value) {
        payload["type"] = json!(kind);
        payload["sequence_number"] = json!(self.seq);
        self.seq += 1;
        self.frames.push(sse::event(kind, &payload));
    }
}

/// The SSE events of a streamed answer: `response.created`,
/// `response.in_progress`, each output item's events, `response.completed`.
fn stream_events(shape: &Shape<'_>, answer: &Answer) -> Vec<Bytes> {
    let mut events = Events::default();
    let started = shape.response("in_progress", Vec::new(), Value::Null);
    events.push("response.created", json!({ "response": started }));
    events.push("response.in_progress", json!({ "response": started }));
    let n = shape.n;
    match &answer.reply {
        Reply::Text(text) => {
            let id = format!("msg_mock_{n}");
            let at = |mut payload: Value| {
                payload["item_id"] = json!(id);
                payload["output_index"] = json!(0);
                payload["content_index"] = json!(0);
                payload
            };
            events.push(
                "response.output_item.added",
                json!({ "output_index": 0, "item": message_item(n, "in_progress", json!([])) }),
            );
            events.push(
                "response.content_part.added",
                at(json!({ "part": text_part("") })),
            );
            for piece in word_pieces(text) {
                events.push(
                    "response.output_text.delta",
                    at(json!({ "delta": piece, "logprobs": [] })),
                );
            }
            events.push(
                "response.output_text.done",
                at(json!({ "text": text, "logprobs": [] })),
            );
            events.push(
                "response.content_part.done",
                at(json!({ "part": text_part(text) })),
            );
            events.push(
                "response.output_item.done",
                json!({ "output_index": 0, "item": message_item(n, "completed", json!([text_part(text)])) }),
            );
        }
        Reply::ToolCalls(calls) => {
            for (k, call) in calls.iter().enumerate() {
                let item = |arguments: &str, status: &str| {
                    function_call_item(n, k, calls.len(), &call.name, arguments, status)
                };
                let id = call_id("fc_mock", n, k, calls.len());
                events.push(
                    "response.output_item.added",
                    json!({ "output_index": k, "item": item("", "in_progress") }),
                );
                for piece in split_pieces(&call.arguments, 3) {
                    events.push(
                        "response.function_call_arguments.delta",
                        json!({ "item_id": id, "output_index": k, "delta": piece }),
                    );
                }
                events.push(
                    "response.function_call_arguments.done",
                    json!({
                        "item_id": id,
                        "output_index": k,
                        "name": call.name,
                        "arguments": call.arguments,
                    }),
                );
                events.push(
                    "response.output_item.done",
                    json!({ "output_index": k, "item": item(&call.arguments, "completed") }),
                );
            }
        }
    }
    let done = shape.response("completed", output_items(n, &answer.reply), usage(answer));
    events.push("response.completed", json!({ "response": done }));
    events.frames
}
