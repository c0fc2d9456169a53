//! OpenAI wire format: Chat Completions (JSON and SSE), the model list, and
//! OpenAI-shaped errors (also used for unknown routes).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::reply::{
    Answer, Conversation, Reply, call_id, join_texts, split_pieces, word_pieces, words,
};
use crate::script::Directive;
use crate::scripted;
use crate::sse;
use crate::state::Shared;

/// The only model listed by `GET /v1/models`.
pub(crate) const MODEL_ID: &str = "mock-gpt";

const FINGERPRINT: &str = "fp_mock";

const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// `POST /v1/chat/completions` and `POST /chat/completions`.
pub(crate) async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (n, request) = match admit(&shared, &uri, &headers, &body).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let mut chat = match ChatRequest::parse(&request) {
        Ok(chat) => chat,
        Err(invalid) => return invalid.into_response(),
    };
    scripted::apply(
        &shared.opts.tool_calls,
        &scripted::openai_offered(&request),
        scripted::openai_forced(&request),
        shared.opts.parallel_tool_calls,
        &mut chat.convo,
    );
    let directive = Directive::parse(&chat.convo.model);
    if let Directive::Error(status) = directive {
        return scripted_error(status, &chat.convo.model).into_response();
    }
    let delay = directive.delay_before(chat.stream);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = chat.convo.answer();
    let mut response = if chat.stream {
        let events = stream_events(n, &chat, &answer);
        sse::response(events, directive.delay_between(true))
    } else {
        Json(completion(n, &chat.convo.model, &answer)).into_response()
    };
    if let Ok(id) = HeaderValue::try_from(format!("req_mock_{n}")) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// `GET /v1/models`.
pub(crate) async fn models(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.accept(uri.path(), &headers, &[], None);
    shared.latency().await;
    if let Err(denied) = check_auth(&shared, &headers) {
        return denied.into_response();
    }
    Json(json!({
        "object": "list",
        "data": [{
            "id": MODEL_ID,
            "object": "model",
            "created": 1_700_000_000,
            "owned_by": "junction-mock",
        }],
    }))
    .into_response()
}

/// Any unknown route: a recorded 404 in OpenAI's shape.
pub(crate) async fn not_found(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body).ok();
    shared.accept(uri.path(), &headers, &body, parsed.as_ref());
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("unknown_url"),
        None,
        format!("Unknown request URL: {method} {}.", uri.path()),
    )
    .into_response()
}

/// An error in OpenAI's shape:
/// `{"error":{"message","type","param","code"}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    param: Option<String>,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        });
        (self.status, Json(body)).into_response()
    }
}

/// An OpenAI-shaped error.
pub(crate) fn error(
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    param: Option<&str>,
    message: impl Into<String>,
) -> ApiError {
    ApiError {
        status,
        kind,
        code,
        param: param.map(str::to_owned),
        message: message.into(),
    }
}

/// The 401 answered when the bearer key is missing or wrong.
pub(crate) fn auth_error(headers: &HeaderMap) -> ApiError {
    let message = if headers.contains_key(header::AUTHORIZATION) {
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
    } else {
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    };
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        Some("invalid_api_key"),
        None,
        message,
    )
}

/// Whether `headers` carry `Authorization: Bearer <key>`.
pub(crate) fn has_bearer(headers: &HeaderMap, key: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| given.trim() == key)
}

/// What every OpenAI-format route does first: count and record the request, apply the
/// model-independent latency, check the key, parse the body. Gives the request's sequence
/// number and body, or the error answer.
pub(crate) async fn admit(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(u64, Value), Response> {
    let parsed = serde_json::from_slice::<Value>(body);
    let n = shared.accept(uri.path(), headers, body, parsed.as_ref().ok());
    shared.latency().await;
    check_auth(shared, headers).map_err(IntoResponse::into_response)?;
    let request = parsed.map_err(|err| invalid_json(&err).into_response())?;
    Ok((n, request))
}

/// Checks the bearer key when one is required.
pub(crate) fn check_auth(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match &shared.opts.require_api_key {
        Some(key) if !has_bearer(headers, key) => Err(auth_error(headers)),
        _ => Ok(()),
    }
}

/// The 400 for a body that is not JSON.
pub(crate) fn invalid_json(err: &serde_json::Error) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        None,
        None,
        format!(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.) Parse error: {err}"
        ),
    )
}

/// A 400 `invalid_request_error` about `param`.
pub(crate) fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        None,
        Some(param),
        message,
    )
}

/// The answer to an `error-<status>` model.
pub(crate) fn scripted_error(status: StatusCode, model: &str) -> ApiError {
    let (kind, code) = match status.as_u16() {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        403 => ("permission_error", None),
        404 => ("invalid_request_error", Some("model_not_found")),
        429 => ("requests", Some("rate_limit_exceeded")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    };
    error(
        status,
        kind,
        code,
        None,
        format!("Mock upstream error: HTTP {status} requested by model '{model}'."),
    )
}

/// The parts of a Chat Completions request the mock looks at.
struct ChatRequest {
    convo: Conversation,
    stream: bool,
    include_usage: bool,
}

impl ChatRequest {
    fn parse(request: &Value) -> Result<ChatRequest, ApiError> {
        if !request.is_object() {
            return Err(invalid("body", "The request body must be a JSON object."));
        }
        let Some(model) = request.get("model").and_then(Value::as_str) else {
            return Err(invalid("model", "you must provide a model parameter"));
        };
        let messages = match request.get("messages") {
            Some(Value::Array(messages)) if !messages.is_empty() => messages,
            Some(Value::Array(_)) => {
                return Err(invalid("messages", "[] is too short - 'messages'"));
            }
            _ => {
                return Err(invalid(
                    "messages",
                    "Missing required parameter: 'messages'.",
                ));
            }
        };
        let mut convo = Conversation {
            model: model.to_owned(),
            ..Conversation::default()
        };
        let mut system = Vec::new();
        let mut roles = Vec::with_capacity(messages.len());
        let mut texts = Vec::with_capacity(messages.len());
        for (i, message) in messages.iter().enumerate() {
            let role = message.get("role").and_then(Value::as_str).unwrap_or("");
            if !ROLES.contains(&role) {
                return Err(invalid(
                    &format!("messages.[{i}].role"),
                    format!(
                        "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
                    ),
                ));
            }
            if role == "tool" && !message.get("tool_call_id").is_some_and(Value::is_string) {
                return Err(invalid(
                    &format!("messages.[{i}].tool_call_id"),
                    format!(
                        "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'. (messages.[{i}])"
                    ),
                ));
            }
            let text = content_text(message.get("content"));
            convo.prompt_words += words(&text);
            if role == "system" || role == "developer" {
                system.push(text.clone());
            }
            roles.push(role);
            texts.push(text);
        }
        let system = join_texts(system.iter().map(String::as_str));
        convo.system = (!system.is_empty()).then_some(system);
        if let Some(i) = roles.iter().rposition(|r| *r == "user") {
            convo.last_user_text = texts[i].clone();
        }
        let trailing_tools = roles.iter().rev().take_while(|r| **r == "tool").count();
        if trailing_tools > 0 {
            let start = texts.len() - trailing_tools;
            convo.tool_results = Some(join_texts(texts[start..].iter().map(String::as_str)));
        }
        convo.ends_with_user = roles.last() == Some(&"user");
        convo.tool = chosen_tool(request);
        let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
        let include_usage = stream
            && request
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                == Some(true);
        Ok(ChatRequest {
            convo,
            stream,
            include_usage,
        })
    }
}

/// Text of an OpenAI message content: a string, or its `text` parts joined.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => join_texts(
            parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str).unwrap_or("text") == "text")
                .filter_map(|p| p.get("text").and_then(Value::as_str)),
        ),
        _ => String::new(),
    }
}

/// The tool to call: `tool_choice`'s function, else the first tool; none
/// when no tools are offered or `tool_choice` is `"none"`.
fn chosen_tool(request: &Value) -> Option<String> {
    let tools = request.get("tools")?.as_array()?;
    let first = tools.first()?;
    let choice = request.get("tool_choice");
    if choice.and_then(Value::as_str) == Some("none") {
        return None;
    }
    let named = choice.and_then(|c| c.pointer("/function/name"));
    named
        .or_else(|| first.pointer("/function/name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Unix seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn finish_reason(reply: &Reply) -> &'static str {
    match reply {
        Reply::Text(_) => "stop",
        Reply::ToolCalls(_) => "tool_calls",
    }
}

fn usage(answer: &Answer) -> Value {
    json!({
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    })
}

/// The non-streaming `chat.completion` object.
fn completion(n: u64, model: &str, answer: &Answer) -> Value {
    let message = match &answer.reply {
        Reply::Text(text) => json!({
            "role": "assistant",
            "content": text,
            "refusal": null,
        }),
        Reply::ToolCalls(calls) => {
            let tool_calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(k, call)| {
                    json!({
                        "id": call_id("call_mock", n, k, calls.len()),
                        "type": "function",
                        "function": { "name": call.name, "arguments": call.arguments },
                    })
                })
                .collect();
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": tool_calls,
                "refusal": null,
            })
        }
    };
    json!({
        "id": format!("chatcmpl-mock-{n}"),
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(&answer.reply),
        }],
        "usage": usage(answer),
        "system_fingerprint": FINGERPRINT,
    })
}

/// The SSE events of a streamed answer, `[DONE]` included.
fn stream_events(n: u64, chat: &ChatRequest, answer: &Answer) -> Vec<Bytes> {
    let id = format!("chatcmpl-mock-{n}");
    let created = now();
    let chunk = |choices: Value| {
        let mut chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": chat.convo.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        });
        if chat.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    let choice = |delta: Value, finish: Option<&str>| json!([{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]);
    let mut events = Vec::new();
    match &answer.reply {
        Reply::Text(text) => {
            let first = json!({ "role": "assistant", "content": "" });
            events.push(sse::data(&chunk(choice(first, None))));
            for piece in word_pieces(text) {
                let delta = json!({ "content": piece });
                events.push(sse::data(&chunk(choice(delta, None))));
            }
        }
        Reply::ToolCalls(calls) => {
            // Each call opens with a fragment carrying its id and name (the first one
            // also the role), then its arguments follow in pieces, all under its `index`.
            for (k, call) in calls.iter().enumerate() {
                let head = json!([{
                    "index": k,
                    "id": call_id("call_mock", n, k, calls.len()),
                    "type": "function",
                    "function": { "name": call.name, "arguments": "" },
                }]);
                let first = if k == 0 {
                    json!({
                        "role": "assistant",
                        "content": null,
                        "tool_calls": head,
                        "refusal": null,
                    })
                } else {
                    json!({ "tool_calls": head })
                };
                events.push(sse::data(&chunk(choice(first, None))));
                for piece in split_pieces(&call.arguments, 3) {
                    let delta = json!({
                        "tool_calls": [{ "index": k, "function": { "arguments": piece } }],
                    });
                    events.push(sse::data(&chunk(choice(delta, None))));
                }
            }
        }
    }
    let last = choice(json!({}), Some(finish_reason(&answer.reply)));
    events.push(sse::data(&chunk(last)));
    if chat.include_usage {
        let mut usage_chunk = chunk(json!([]));
        usage_chunk["usage"] = usage(answer);
        events.push(sse::data(&usage_chunk));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    events
}
