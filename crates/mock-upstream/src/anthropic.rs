//! Anthropic wire format: Messages (JSON and SSE events), token counting,
//! and Anthropic-shaped errors.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::reply::{
    Answer, Conversation, Reply, call_id, join_texts, split_pieces, word_pieces, words,
};
use crate::script::Directive;
use crate::scripted;
use crate::sse;
use crate::state::Shared;

/// `POST /v1/messages`.
pub(crate) async fn messages(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (n, request) = match admit(&shared, &uri, &headers, &body).await {
        Ok(admitted) => admitted,
        Err(rejected) => return rejected.into_response(),
    };
    let mut parsed = match MessagesRequest::parse(&request, true) {
        Ok(parsed) => parsed,
        Err(invalid) => return invalid.into_response(),
    };
    scripted::apply(
        &shared.opts.tool_calls,
        &scripted::anthropic_offered(&request),
        scripted::anthropic_forced(&request),
        shared.opts.parallel_tool_calls,
        &mut parsed.convo,
    );
    let directive = Directive::parse(&parsed.convo.model);
    if let Directive::Error(status) = directive {
        return scripted_error(status, &parsed.convo.model).into_response();
    }
    let delay = directive.delay_before(parsed.stream);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = parsed.convo.answer();
    let mut response = if parsed.stream {
        let events = stream_events(n, &parsed.convo.model, &answer);
        sse::response(events, directive.delay_between(true))
    } else {
        Json(message(n, &parsed.convo.model, &answer)).into_response()
    };
    if let Ok(id) = HeaderValue::try_from(format!("req_mock_{n}")) {
        response.headers_mut().insert("request-id", id);
    }
    response
}

/// `POST /v1/messages/count_tokens`: `{"input_tokens": <prompt words>}`.
pub(crate) async fn count_tokens(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match admit(&shared, &uri, &headers, &body).await {
        Ok((_, request)) => request,
        Err(rejected) => return rejected.into_response(),
    };
    match MessagesRequest::parse(&request, false) {
        Ok(parsed) => Json(json!({ "input_tokens": parsed.convo.prompt_words })).into_response(),
        Err(invalid) => invalid.into_response(),
    }
}

/// An error in Anthropic's shape: `{"type":"error","error":{"type","message"}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "type": "error",
            "error": { "type": self.kind, "message": self.message },
        });
        (self.status, Json(body)).into_response()
    }
}

/// An Anthropic-shaped error.
pub(crate) fn error(
    status: StatusCode,
    kind: &'static str,
    message: impl Into<String>,
) -> ApiError {
    ApiError {
        status,
        kind,
        message: message.into(),
    }
}

/// Records the request, applies latency, checks authentication, and parses
/// the body as a JSON object; returns the sequence number and the body.
async fn admit(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(u64, Value), ApiError> {
    let parsed = serde_json::from_slice::<Value>(body);
    let n = shared.accept(uri.path(), headers, body, parsed.as_ref().ok());
    shared.latency().await;
    if let Some(key) = &shared.opts.require_api_key {
        check_auth(headers, key)?;
    }
    match parsed {
        Ok(request) if request.is_object() => Ok((n, request)),
        Ok(_) => Err(invalid("Request body must be a JSON object")),
        Err(err) => Err(invalid(format!(
            "There was an issue with your request body: invalid JSON: {err}"
        ))),
    }
}

fn check_auth(headers: &HeaderMap, key: &str) -> Result<(), ApiError> {
    let unauthorized =
        |message: &str| error(StatusCode::UNAUTHORIZED, "authentication_error", message);
    match headers.get("x-api-key").map(HeaderValue::as_bytes) {
        None => return Err(unauthorized("x-api-key header is required")),
        Some(given) if given != key.as_bytes() => {
            return Err(unauthorized("invalid x-api-key"));
        }
        Some(_) => {}
    }
    if !headers.contains_key("anthropic-version") {
        return Err(unauthorized("anthropic-version header is required"));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> ApiError {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

/// The answer to an `error-<status>` model.
fn scripted_error(status: StatusCode, model: &str) -> ApiError {
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    };
    error(
        status,
        kind,
        format!("Mock upstream error: HTTP {status} requested by model '{model}'."),
    )
}

/// The parts of a Messages request the mock looks at.
struct MessagesRequest {
    convo: Conversation,
    stream: bool,
}

impl MessagesRequest {
    /// Validates and summarises a request; `max_tokens` is only required by
    /// the Messages route, not by token counting.
    fn parse(request: &Value, require_max_tokens: bool) -> Result<MessagesRequest, ApiError> {
        let Some(model) = request.get("model").and_then(Value::as_str) else {
            return Err(invalid("model: Field required"));
        };
        if require_max_tokens {
            match request.get("max_tokens") {
                None | Some(Value::Null) => return Err(invalid("max_tokens: Field required")),
                Some(v) => match v.as_u64() {
                    Some(0) => {
                        return Err(invalid(
                            "max_tokens: Input should be greater than or equal to 1",
                        ));
                    }
                    Some(_) => {}
                    None => return Err(invalid("max_tokens: Input should be a valid integer")),
                },
            }
        }
        let messages = match request.get("messages") {
            Some(Value::Array(messages)) if !messages.is_empty() => messages,
            Some(Value::Array(_)) => {
                return Err(invalid("messages: at least one message is required"));
            }
            Some(_) => return Err(invalid("messages: Input should be a valid list")),
            None => return Err(invalid("messages: Field required")),
        };
        let system = match request.get("system") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(blocks)) => join_texts(blocks.iter().filter_map(block_text)),
            Some(_) => return Err(invalid("system: Input should be a valid list")),
        };
        let mut convo = Conversation {
            model: model.to_owned(),
            prompt_words: words(&system),
            system: (!system.is_empty()).then_some(system),
            ..Conversation::default()
        };
        for (i, message) in messages.iter().enumerate() {
            let turn = Turn::parse(i, message)?;
            convo.prompt_words += words(&turn.text) + words(&turn.tool_results);
            let is_last = i + 1 == messages.len();
            if turn.user && !turn.has_tool_result {
                convo.last_user_text = turn.text;
                convo.ends_with_user = is_last;
            } else if is_last && turn.user {
                convo.tool_results = Some(turn.tool_results);
            }
        }
        convo.tool = chosen_tool(request);
        let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
        Ok(MessagesRequest { convo, stream })
    }
}

/// One validated message.
struct Turn {
    user: bool,
    text: String,
    has_tool_result: bool,
    tool_results: String,
}

impl Turn {
    fn parse(i: usize, message: &Value) -> Result<Turn, ApiError> {
        let Some(fields) = message.as_object() else {
            return Err(invalid(format!(
                "messages.{i}: Input should be a valid dictionary"
            )));
        };
        if let Some(extra) = fields.keys().find(|k| *k != "role" && *k != "content") {
            return Err(invalid(format!(
                "messages.{i}.{extra}: Extra inputs are not permitted"
            )));
        }
        let user = match fields.get("role").and_then(Value::as_str) {
            Some("user") => true,
            Some("assistant") => false,
            Some("system") => {
                return Err(invalid(
                    "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.",
                ));
            }
            Some(_) => {
                return Err(invalid(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                )));
            }
            None => return Err(invalid(format!("messages.{i}.role: Field required"))),
        };
        match fields.get("content") {
            Some(Value::String(text)) => Ok(Turn {
                user,
                text: text.clone(),
                has_tool_result: false,
                tool_results: String::new(),
            }),
            Some(Value::Array(blocks)) => {
                let results: Vec<String> = blocks
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
                    .map(|b| tool_result_text(b.get("content")))
                    .collect();
                Ok(Turn {
                    user,
                    text: join_texts(blocks.iter().filter_map(block_text)),
                    has_tool_result: !results.is_empty(),
                    tool_results: join_texts(results.iter().map(String::as_str)),
                })
            }
            Some(_) => Err(invalid(format!(
                "messages.{i}.content: Input should be a valid list"
            ))),
            None => Err(invalid(format!("messages.{i}.content: Field required"))),
        }
    }
}

/// The text of a `text` block.
fn block_text(block: &Value) -> Option<&str> {
    if block.get("type").and_then(Value::as_str) == Some("text") {
        block.get("text").and_then(Value::as_str)
    } else {
        None
    }
}

/// The text of a `tool_result` block's content (a string or text blocks).
fn tool_result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => join_texts(blocks.iter().filter_map(block_text)),
        _ => String::new(),
    }
}

/// The tool to call: `tool_choice`'s tool, else the first tool; none when no
/// tools are offered or `tool_choice` is `{"type":"none"}`.
fn chosen_tool(request: &Value) -> Option<String> {
    let first = request.get("tools")?.as_array()?.first()?;
    let choice = request.get("tool_choice");
    match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
        Some("none") => None,
        Some("tool") => choice
            .and_then(|c| c.get("name"))
            .or_else(|| first.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => first.get("name").and_then(Value::as_str).map(str::to_owned),
    }
}

fn stop_reason(reply: &Reply) -> &'static str {
    match reply {
        Reply::Text(_) => "end_turn",
        Reply::ToolCalls(_) => "tool_use",
    }
}

fn tool_input(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or_else(|_| json!({}))
}

/// The non-streaming `message` object.
fn message(n: u64, model: &str, answer: &Answer) -> Value {
    let blocks: Vec<Value> = match &answer.reply {
        Reply::Text(text) => vec![json!({ "type": "text", "text": text })],
        Reply::ToolCalls(calls) => calls
            .iter()
            .enumerate()
            .map(|(k, call)| {
                json!({
                    "type": "tool_use",
                    "id": call_id("toolu_mock", n, k, calls.len()),
                    "name": call.name,
                    "input": tool_input(&call.arguments),
                })
            })
            .collect(),
    };
    json!({
        "id": format!("msg_mock_{n}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason(&answer.reply),
        "stop_sequence": null,
        "usage": {
            "input_tokens": answer.prompt_tokens,
            "output_tokens": answer.completion_tokens,
        },
    })
}

/// The SSE events of a streamed answer.
fn stream_events(n: u64, model: &str, answer: &Answer) -> Vec<Bytes> {
    let mut events = vec![
        sse::event(
            "message_start",
            &json!({
                "type": "message_start",
                "message": {
                    "id": format!("msg_mock_{n}"),
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": { "input_tokens": answer.prompt_tokens, "output_tokens": 1 },
                },
            }),
        ),
        sse::event("ping", &json!({ "type": "ping" })),
    ];
    let block_start = |index: usize, block: Value| {
        sse::event(
            "content_block_start",
            &json!({ "type": "content_block_start", "index": index, "content_block": block }),
        )
    };
    let block_delta = |index: usize, delta: Value| {
        sse::event(
            "content_block_delta",
            &json!({ "type": "content_block_delta", "index": index, "delta": delta }),
        )
    };
    let block_stop = |index: usize| {
        sse::event(
            "content_block_stop",
            &json!({ "type": "content_block_stop", "index": index }),
        )
    };
    match &answer.reply {
        Reply::Text(text) => {
            events.push(block_start(0, json!({ "type": "text", "text": "" })));
            for piece in word_pieces(text) {
                events.push(block_delta(
                    0,
                    json!({ "type": "text_delta", "text": piece }),
                ));
            }
            events.push(block_stop(0));
        }
        Reply::ToolCalls(calls) => {
            for (k, call) in calls.iter().enumerate() {
                events.push(block_start(
                    k,
                    json!({
                        "type": "tool_use",
                        "id": call_id("toolu_mock", n, k, calls.len()),
                        "name": call.name,
                        "input": {},
                    }),
                ));
                for piece in split_pieces(&call.arguments, 3) {
                    events.push(block_delta(
                        k,
                        json!({ "type": "input_json_delta", "partial_json": piece }),
                    ));
                }
                events.push(block_stop(k));
            }
        }
    }
    events.push(sse::event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason(&answer.reply), "stop_sequence": null },
            "usage": { "output_tokens": answer.completion_tokens },
        }),
    ));
    events.push(sse::event(
        "message_stop",
        &json!({ "type": "message_stop" }),
    ));
    events
}
