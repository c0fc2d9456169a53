//! LiteLLM's `mock_response`: a canned answer in the real wire format, no upstream involved.
//!
//! Set per request (`"mock_response": "hi"` in the body) or per deployment (in
//! `litellm_params`), it makes demos and client tests work without any API key. LiteLLM's
//! special values that simulate failures are honoured so clients can test their error paths.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::{ChatReply, ChatRequest, LlmError, Usage};

/// Answers `req` with `text`, or fails the way a LiteLLM error name asks for.
pub(crate) fn reply(req: &ChatRequest, text: &str) -> Result<ChatReply, LlmError> {
    if let Some(err) = simulated_error(text) {
        return Err(err);
    }
    let id = format!("chatcmpl-{}", random_hex(12));
    let created = unix_now();
    let usage = Usage {
        prompt_tokens: prompt_words(req),
        completion_tokens: text.split_whitespace().count() as u64,
    };
    let usage_json = json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    });
    if !req.stream {
        let body = json!({
            "id": id, "object": "chat.completion", "created": created, "model": req.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop", "logprobs": null}],
            "usage": usage_json,
        });
        return Ok(ChatReply::Json {
            body: Bytes::from(body.to_string()),
            usage: Some(usage),
        });
    }
    let include_usage = req.include_usage();
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": req.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
        });
        if include_usage {
            c["usage"] = Value::Null;
        }
        c
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in text.split_inclusive(' ') {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    if include_usage {
        events.push(json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": req.model,
            "choices": [], "usage": usage_json,
        }));
    }
    let mut frames: Vec<Result<Bytes, LlmError>> = events
        .iter()
        .map(|e| Ok(crate::sse::encode_data(&e.to_string())))
        .collect();
    frames.push(Ok(crate::sse::encode_data("[DONE]")));
    Ok(ChatReply::Stream {
        frames: futures_util::stream::iter(frames).boxed(),
        usage: crate::UsageSlot::filled(usage),
    })
}

/// LiteLLM's `mock_response` values that raise instead of answering.
fn simulated_error(text: &str) -> Option<LlmError> {
    let message = format!("mock_response: simulated {text}");
    Some(match text {
        "litellm.RateLimitError" => LlmError::Upstream {
            status: 429,
            message,
        },
        "litellm.InternalServerError" | "litellm.APIError" => LlmError::Unavailable(message),
        "litellm.Timeout" => LlmError::Timeout(message),
        "litellm.ContextWindowExceededError" | "litellm.BadRequestError" => LlmError::Upstream {
            status: 400,
            message,
        },
        _ => return None,
    })
}

fn prompt_words(req: &ChatRequest) -> u64 {
    let Some(Value::Array(messages)) = req.field("messages") else {
        return 0;
    };
    messages
        .iter()
        .map(|m| match m.get("content") {
            Some(Value::String(s)) => s.split_whitespace().count() as u64,
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .map(|s| s.split_whitespace().count() as u64)
                .sum(),
            _ => 0,
        })
        .sum()
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2 * bytes` lowercase hex characters from the OS random source.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS source failing is not recoverable in any useful way; fall back to the clock so an
    // id is still produced (mock ids carry no security weight).
    if getrandom::getrandom(&mut buf).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
