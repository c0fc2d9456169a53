//! One call of the model within the loop: the conversation and tools out, the model's text
//! (relayed as it arrives), its tool calls and its token usage back.
//!
//! Two dialects, chosen per model by the router (`Router::responses_native`):
//! * **Chat Completions**, for every upstream without a Responses API (and, through the LLM
//!   crate's translation, Anthropic): the conversation becomes `messages`, function tools
//!   become chat tools, and the reply (a JSON body or a chunk stream) is read back;
//! * **Responses**, for OpenAI-style upstreams that have it: the conversation is sent as
//!   `input` with `store: false` (the gateway keeps the state, so the upstream need not),
//!   and the reply's items or events are read back.
//!
//! Either way the answer is streamed from the upstream exactly when the client streams, so
//! text deltas reach the client as the model produces them.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use junction_llm::sse::SseDecoder;
use junction_llm::{ChatReply, ChatRequest, ChatStream, LlmError, ResponsesReply, Router, Usage};
use serde_json::{Map, Value, json};

use crate::conversation;
use crate::events::Emitter;
use crate::request::CreateRequest;

/// What the tool choice is for one round.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RoundChoice {
    Auto,
    None,
    Required,
    Function(String),
}

pub(crate) struct RoundInput<'a> {
    pub request: &'a CreateRequest,
    pub items: &'a [Value],
    /// Responses-shaped function tools offered this round.
    pub tools: &'a [Value],
    pub choice: RoundChoice,
}

#[derive(Debug, Clone)]
pub(crate) struct ModelCall {
    pub call_id: String,
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Default)]
pub(crate) struct RoundOutput {
    pub calls: Vec<ModelCall>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: f64,
    /// The model stopped at `max_output_tokens`.
    pub truncated: bool,
}

/// The upstream's next frame. The events buffered so far are flushed only when it has not
/// arrived yet: the upstream's client connection is a task of its own that hands over one
/// chunk per turn, so after one yield a chunk that is already read is here, and the text
/// of one upstream burst reaches the client in one write, as soon as the burst ends.
async fn next_frame(
    frames: &mut ChatStream,
    emitter: &mut Emitter,
) -> Option<Result<Bytes, LlmError>> {
    if let Some(frame) = frames.next().now_or_never() {
        return frame;
    }
    tokio::task::yield_now().await;
    if let Some(frame) = frames.next().now_or_never() {
        return frame;
    }
    emitter.flush().await;
    frames.next().await
}

pub(crate) async fn run(
    router: &Arc<Router>,
    input: RoundInput<'_>,
    emitter: &mut Emitter,
) -> Result<RoundOutput, LlmError> {
    // What the loop has to say goes out before the model is asked.
    emitter.flush().await;
    if router.responses_native(&input.request.model) {
        native(router, input, emitter).await
    } else {
        chat(router, input, emitter).await
    }
}

async fn chat(
    router: &Arc<Router>,
    input: RoundInput<'_>,
    emitter: &mut Emitter,
) -> Result<RoundOutput, LlmError> {
    let request = input.request;
    let stream = emitter.streaming();
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    body.insert(
        "messages".into(),
        Value::Array(conversation::chat_messages(
            request.instructions.as_deref(),
            input.items,
        )),
    );
    if !input.tools.is_empty() {
        body.insert(
            "tools".into(),
            Value::Array(input.tools.iter().map(chat_tool).collect()),
        );
        body.insert(
            "tool_choice".into(),
            match &input.choice {
                RoundChoice::Auto => "auto".into(),
                RoundChoice::None => "none".into(),
                RoundChoice::Required => "required".into(),
                RoundChoice::Function(name) => {
                    json!({"type": "function", "function": {"name": name}})
                }
            },
        );
        if !request.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), false.into());
        }
    }
    if stream {
        body.insert("stream".into(), true.into());
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if let Some(max) = request.max_output_tokens {
        body.insert("max_tokens".into(), max.into());
    }
    for (field, value) in [
        ("temperature", request.temperature),
        ("top_p", request.top_p),
    ] {
        if let Some(value) = value {
            body.insert(field.into(), value.into());
        }
    }
    if let Some(user) = &request.user {
        body.insert("user".into(), user.clone().into());
    }
    if let Some(format) = request.text.as_ref().and_then(|t| t.get("format"))
        && let Some(response_format) = response_format(format)
    {
        body.insert("response_format".into(), response_format);
    }
    let bytes = serde_json::to_vec(&Value::Object(body))
        .map_err(|e| LlmError::InvalidRequest(format!("cannot encode the chat request: {e}")))?;
    let mut chat_request = ChatRequest::from_slice(&bytes)?;
    chat_request.meter_usage = true;
    let completion = router.chat(&chat_request).await?;
    let deployment = completion.deployment.clone();
    let mut out = RoundOutput::default();
    match completion.reply {
        ChatReply::Json { body, usage } => {
            let reply: Value = serde_json::from_slice(&body).map_err(|e| {
                LlmError::Unavailable(format!("the model's answer is not JSON: {e}"))
            })?;
            let choice = &reply["choices"][0];
            let message = &choice["message"];
            if let Some(text) = message_text(&message["content"]) {
                emitter.text_delta(&text).await;
            }
            for call in message["tool_calls"].as_array().into_iter().flatten() {
                out.calls.push(ModelCall {
                    call_id: str_of(&call["id"]),
                    name: str_of(&call["function"]["name"]),
                    arguments: str_of(&call["function"]["arguments"]),
                });
            }
            out.truncated = choice["finish_reason"] == "length";
            let usage = usage.unwrap_or(Usage {
                prompt_tokens: reply["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
                completion_tokens: reply["usage"]["completion_tokens"].as_u64().unwrap_or(0),
            });
            out.input_tokens = usage.prompt_tokens;
            out.output_tokens = usage.completion_tokens;
        }
        ChatReply::Stream { mut frames, .. } => {
            let mut decoder = SseDecoder::new();
            let mut pending: Vec<(String, String, String)> = Vec::new();
            'frames: while let Some(frame) = next_frame(&mut frames, emitter).await {
                for event in decoder.push(&frame?) {
                    if event.data == "[DONE]" {
                        break 'frames;
                    }
                    let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
                        continue;
                    };
                    if let Some(error) = chunk.get("error") {
                        return Err(LlmError::Unavailable(format!(
                            "the model's stream failed: {}",
                            error
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("unknown error")
                        )));
                    }
                    if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
                        out.input_tokens = usage["prompt_tokens"].as_u64().unwrap_or(0);
                        out.output_tokens = usage["completion_tokens"].as_u64().unwrap_or(0);
                    }
                    let choice = &chunk["choices"][0];
                    if let Some(text) = choice["delta"]["content"].as_str() {
                        emitter.text_delta(text).await;
                    }
                    for fragment in choice["delta"]["tool_calls"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let index = fragment["index"].as_u64().unwrap_or(0) as usize;
                        if pending.len() <= index {
                            pending.resize(index + 1, Default::default());
                        }
                        let slot = &mut pending[index];
                        if let Some(id) = fragment["id"].as_str() {
                            slot.0 = id.to_owned();
                        }
                        if let Some(name) = fragment["function"]["name"].as_str() {
                            slot.1.push_str(name);
                        }
                        if let Some(arguments) = fragment["function"]["arguments"].as_str() {
                            slot.2.push_str(arguments);
                        }
                    }
                    if choice["finish_reason"] == "length" {
                        out.truncated = true;
                    }
                }
            }
            out.calls = pending
                .into_iter()
                .filter(|(_, name, _)| !name.is_empty())
                .map(|(call_id, name, arguments)| ModelCall {
                    call_id,
                    name,
                    arguments,
                })
                .collect();
        }
    }
    out.cost = deployment.cost(Usage {
        prompt_tokens: out.input_tokens,
        completion_tokens: out.output_tokens,
    });
    Ok(out)
}

async fn native(
    router: &Arc<Router>,
    input: RoundInput<'_>,
    emitter: &mut Emitter,
) -> Result<RoundOutput, LlmError> {
    let request = input.request;
    let stream = emitter.streaming();
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    body.insert(
        "input".into(),
        Value::Array(conversation::native_input(input.items)),
    );
    if let Some(instructions) = &request.instructions {
        body.insert("instructions".into(), instructions.clone().into());
    }
    if !input.tools.is_empty() {
        body.insert("tools".into(), Value::Array(input.tools.to_vec()));
        body.insert(
            "tool_choice".into(),
            match &input.choice {
                RoundChoice::Auto => "auto".into(),
                RoundChoice::None => "none".into(),
                RoundChoice::Required => "required".into(),
                RoundChoice::Function(name) => json!({"type": "function", "name": name}),
            },
        );
        body.insert(
            "parallel_tool_calls".into(),
            request.parallel_tool_calls.into(),
        );
    }
    body.insert("store".into(), false.into());
    if let Some(max) = request.max_output_tokens {
        body.insert("max_output_tokens".into(), max.into());
    }
    for (field, value) in [
        ("temperature", request.temperature),
        ("top_p", request.top_p),
    ] {
        if let Some(value) = value {
            body.insert(field.into(), value.into());
        }
    }
    for (field, value) in [
        ("user", request.user.clone().map(Value::from)),
        ("text", request.text.clone()),
    ] {
        if let Some(value) = value {
            body.insert(field.into(), value);
        }
    }
    let completion = router.responses(&request.model, &body, stream).await?;
    let mut out = RoundOutput::default();
    match completion.reply {
        ResponsesReply::Json { body } => {
            let reply: Value = serde_json::from_slice(&body).map_err(|e| {
                LlmError::Unavailable(format!("the model's answer is not JSON: {e}"))
            })?;
            for item in reply["output"].as_array().into_iter().flatten() {
                match item["type"].as_str() {
                    Some("message") => {
                        if let Some(text) = message_text(&item["content"]) {
                            emitter.text_delta(&text).await;
                        }
                    }
                    Some("function_call") => out.calls.push(native_call(item)),
                    _ => {}
                }
            }
            read_native_usage(&reply, &mut out);
        }
        ResponsesReply::Stream { mut frames } => {
            let mut decoder = SseDecoder::new();
            'frames: while let Some(frame) = next_frame(&mut frames, emitter).await {
                for event in decoder.push(&frame?) {
                    let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
                        continue;
                    };
                    match data["type"].as_str().or(event.event.as_deref()) {
                        Some("response.output_text.delta") => {
                            if let Some(delta) = data["delta"].as_str() {
                                emitter.text_delta(delta).await;
                            }
                        }
                        Some("response.output_item.done")
                            if data["item"]["type"] == "function_call" =>
                        {
                            out.calls.push(native_call(&data["item"]));
                        }
                        Some("response.completed" | "response.incomplete") => {
                            read_native_usage(&data["response"], &mut out);
                            break 'frames;
                        }
                        Some("response.failed" | "error") => {
                            let message = data["response"]["error"]["message"]
                                .as_str()
                                .or(data["message"].as_str())
                                .or(data["error"]["message"].as_str())
                                .unwrap_or("unknown error");
                            return Err(LlmError::Unavailable(format!(
                                "the model failed: {message}"
                            )));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out.cost = completion.deployment.cost(Usage {
        prompt_tokens: out.input_tokens,
        completion_tokens: out.output_tokens,
    });
    Ok(out)
}

fn native_call(item: &Value) -> ModelCall {
    ModelCall {
        call_id: str_of(&item["call_id"]),
        name: str_of(&item["name"]),
        arguments: str_of(&item["arguments"]),
    }
}

fn read_native_usage(response: &Value, out: &mut RoundOutput) {
    out.input_tokens = response["usage"]["input_tokens"].as_u64().unwrap_or(0);
    out.output_tokens = response["usage"]["output_tokens"].as_u64().unwrap_or(0);
    out.truncated = response["status"] == "incomplete";
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A chat message's or Responses message's content as text: a string, or its text parts.
fn message_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(parts) => {
            let text: String = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

/// A Responses function tool as a Chat Completions tool.
fn chat_tool(tool: &Value) -> Value {
    let mut function = Map::new();
    for field in ["name", "description", "parameters", "strict"] {
        if let Some(value) = tool.get(field).filter(|v| !v.is_null()) {
            function.insert(field.into(), value.clone());
        }
    }
    // Chat's default is already non-strict, and some backends reject the key.
    if function.get("strict") == Some(&Value::Bool(false)) {
        function.remove("strict");
    }
    json!({"type": "function", "function": function})
}

/// `text.format` as Chat Completions `response_format`.
fn response_format(format: &Value) -> Option<Value> {
    match format.get("type").and_then(Value::as_str)? {
        "json_object" => Some(json!({"type": "json_object"})),
        "json_schema" => {
            let mut schema = Map::new();
            for field in ["name", "schema", "strict", "description"] {
                if let Some(value) = format.get(field) {
                    schema.insert(field.into(), value.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_tools_become_chat_tools() {
        let tool = json!({"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": false});
        assert_eq!(
            chat_tool(&tool),
            json!({"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}})
        );
    }

    #[test]
    fn text_formats_become_response_formats() {
        let format = json!({"type": "json_schema", "name": "x", "schema": {"type": "object"}, "strict": true});
        assert_eq!(
            response_format(&format),
            Some(
                json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": true}})
            )
        );
        assert_eq!(response_format(&json!({"type": "text"})), None);
    }
}
