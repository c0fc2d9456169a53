//! The benchmark fast path: OpenAI chat routes answering precomputed bytes.
//!
//! When [`MockOptions::fixed`](crate::MockOptions::fixed) is set (the
//! `mockllm` default), `POST /v1/chat/completions` and `/chat/completions`
//! neither parse, validate, script nor record the request. They only check
//! the bearer key (when one is required), read the body, apply the configured
//! latency, and look for `"stream": true` (and `"include_usage": true`) with
//! a byte scan. The answer is one of three constant bodies built once per
//! process: a ~1,100-byte `chat.completion` JSON, or a 20-chunk SSE stream
//! (role chunk, 18 content chunks, finish chunk) followed by `[DONE]`, with a
//! usage chunk before `[DONE]` when usage was requested. The `model` field is
//! always `"mock"`, and the whole SSE reply is written as a single frame.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::{BODY_LIMIT, MockOptions, openai};

/// The constant `model` of the fixed replies.
const MODEL: &str = "mock";

/// A fixed, deterministic assistant answer (18 words, one per SSE chunk).
const WORDS: [&str; 18] = [
    "This",
    "is",
    "a",
    "fixed",
    "benchmark",
    "reply",
    "from",
    "the",
    "Junction",
    "mock",
    "upstream,",
    "identical",
    "for",
    "every",
    "request",
    "it",
    "ever",
    "serves.",
];

/// Padding text that brings the JSON reply to about 1,100 bytes.
const PADDING: &str = " The mock answers with constant bytes so that a benchmark measures the \
gateway in front of it rather than the upstream itself. Nothing here is computed per request: \
no parsing, no scripting, no recording, and no allocation beyond what the HTTP server needs. \
It stands in for a real model reply of ordinary size, with usage. A typical chat answer \
runs to a few short paragraphs, and this one is padded to match, so that serializing, copying \
and parsing it costs roughly what a genuine upstream response would cost. The words carry no \
meaning; only their number and the shape of the object around them matter \
here, for every single request.";

/// What the fixed handler needs; cheap to clone per request.
#[derive(Clone, Debug)]
pub(crate) struct FixedConfig {
    api_key: Option<Arc<str>>,
    latency: Duration,
}

impl FixedConfig {
    pub(crate) fn new(opts: &MockOptions) -> FixedConfig {
        FixedConfig {
            api_key: opts.require_api_key.as_deref().map(Arc::from),
            latency: opts.latency,
        }
    }
}

/// The non-streaming reply.
static JSON_REPLY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let content = format!("{}{PADDING}", WORDS.join(" "));
    let reply = json!({
        "id": "chatcmpl-mock-fixed",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": null },
            "logprobs": null,
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": content.split_whitespace().count(),
            "total_tokens": 12 + content.split_whitespace().count(),
        },
        "system_fingerprint": "fp_mock",
    });
    reply.to_string().into_bytes()
});

/// The streaming reply without a usage chunk.
static SSE_REPLY: LazyLock<Vec<u8>> = LazyLock::new(|| sse_reply(false));

/// The streaming reply for `stream_options.include_usage: true`.
static SSE_USAGE_REPLY: LazyLock<Vec<u8>> = LazyLock::new(|| sse_reply(true));

fn sse_reply(include_usage: bool) -> Vec<u8> {
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut chunk = json!({
            "id": "chatcmpl-mock-fixed",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": MODEL,
            "system_fingerprint": "fp_mock",
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
        });
        if include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    let mut chunks = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    let last = WORDS.len() - 1;
    for (i, word) in WORDS.iter().enumerate() {
        let piece = if i == last {
            (*word).to_owned()
        } else {
            format!("{word} ")
        };
        chunks.push(chunk(json!({ "content": piece }), None));
    }
    chunks.push(chunk(json!({}), Some("stop")));
    if include_usage {
        let mut usage = chunk(json!({}), None);
        usage["choices"] = json!([]);
        usage["usage"] = json!({
            "prompt_tokens": 12,
            "completion_tokens": WORDS.len(),
            "total_tokens": 12 + WORDS.len(),
        });
        chunks.push(usage);
    }
    let mut out = String::new();
    for chunk in chunks {
        out.push_str("data: ");
        out.push_str(&chunk.to_string());
        out.push_str("\n\n");
    }
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

/// `POST /v1/chat/completions` and `/chat/completions` in fixed mode.
pub(crate) async fn chat_completions(State(cfg): State<FixedConfig>, request: Request) -> Response {
    if let Some(key) = &cfg.api_key
        && !openai::has_bearer(request.headers(), key)
    {
        return openai::auth_error(request.headers()).into_response();
    }
    let Ok(body) = axum::body::to_bytes(request.into_body(), BODY_LIMIT).await else {
        return openai::error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            None,
            "The request body could not be read.",
        )
        .into_response();
    };
    if !cfg.latency.is_zero() {
        tokio::time::sleep(cfg.latency).await;
    }
    let (reply, content_type): (&'static [u8], _) = if is_true(&body, b"\"stream\"") {
        let reply = if is_true(&body, b"\"include_usage\"") {
            &SSE_USAGE_REPLY
        } else {
            &SSE_REPLY
        };
        (reply.as_slice(), "text/event-stream")
    } else {
        (JSON_REPLY.as_slice(), "application/json")
    };
    let mut response = Response::new(Body::from(Bytes::from_static(reply)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether the JSON text `body` holds `<key>: true` (whitespace allowed
/// around the colon) for the quoted `key`, without parsing it. A quoted key
/// cannot match inside a JSON string, where its quotes would be escaped.
pub(crate) fn is_true(body: &[u8], key: &[u8]) -> bool {
    let mut rest = body;
    while let Some(at) = find(rest, key) {
        rest = &rest[at + key.len()..];
        let after = rest.trim_ascii_start();
        if let Some(value) = after.strip_prefix(b":")
            && value.trim_ascii_start().starts_with(b"true")
        {
            return true;
        }
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_flags_without_parsing() {
        let key = b"\"stream\"";
        assert!(is_true(br#"{"model":"m","stream":true}"#, key));
        assert!(is_true(b"{\"stream\" :\n true}", key));
        assert!(!is_true(br#"{"stream":false}"#, key));
        assert!(!is_true(
            br#"{"stream_options":{"include_usage":true}}"#,
            key
        ));
        assert!(!is_true(br#"{"content":"say \"stream\": true"}"#, key));
        assert!(!is_true(br#"{"x":"stream","stream":false}"#, key));
        assert!(is_true(br#"{"x":"stream","stream":true}"#, key));
    }

    #[test]
    fn replies_have_the_promised_shape() {
        let json: Value = serde_json::from_slice(&JSON_REPLY).unwrap_or_default();
        assert_eq!(json["object"], "chat.completion");
        assert_eq!(json["model"], MODEL);
        assert!(
            (1_000..=1_200).contains(&JSON_REPLY.len()),
            "{} bytes",
            JSON_REPLY.len()
        );
        for (reply, usage) in [(&*SSE_REPLY, false), (&*SSE_USAGE_REPLY, true)] {
            let text = String::from_utf8_lossy(reply);
            let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
            assert_eq!(events.len(), 20 + usize::from(usage) + 1);
            assert_eq!(events.last().copied(), Some("data: [DONE]"));
        }
    }
}
