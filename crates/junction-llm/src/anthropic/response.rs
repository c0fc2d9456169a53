//! Anthropic Messages response → `chat.completion`, and Anthropic error bodies.
//!
//! Clients of the gateway parse OpenAI responses, so a non-streaming answer
//! from Anthropic is re-expressed in that shape: text blocks become the
//! message content, `tool_use` blocks become `tool_calls`, and the usage
//! counters are re-based so that `prompt_tokens` means the same thing as with
//! OpenAI (every input token, cached or not). The pieces shared with the
//! streaming translator (ids, finish reasons, usage) live here so that both
//! paths agree exactly.
//!
//! Thinking blocks are surfaced as `reasoning_content` on the message (the
//! field LiteLLM and DeepSeek use) rather than dropped, because clients that
//! asked for extended thinking expect to see it and others ignore unknown
//! fields. Redacted thinking and server-side tool blocks have no OpenAI
//! counterpart and are skipped.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::TranslateError;

type Result<T> = std::result::Result<T, TranslateError>;

fn upstream(message: impl Into<String>) -> TranslateError {
    TranslateError::InvalidUpstream(message.into())
}

/// Builds a `chat.completion` from an Anthropic message. `model` is the name
/// the client asked for, echoed back as OpenAI does, not Anthropic's model id.
pub fn message_to_chat(msg: &Value, model: &str) -> Result<Value> {
    let msg = msg
        .as_object()
        .ok_or_else(|| upstream("the response is not a JSON object"))?;
    let blocks = msg
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| upstream("the message has no 'content' array"))?;

    let mut text: Option<String> = None;
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let part = block.get("text").and_then(Value::as_str).ok_or_else(|| {
                    upstream(format!("content[{i}] is a text block without text"))
                })?;
                // Anthropic may split one answer into several text blocks
                // (e.g. around citations); OpenAI has a single string.
                text.get_or_insert_default().push_str(part);
            }
            Some("tool_use") => {
                let id = block.get("id").and_then(Value::as_str).ok_or_else(|| {
                    upstream(format!("content[{i}] is a tool_use block without id"))
                })?;
                let name = block.get("name").and_then(Value::as_str).ok_or_else(|| {
                    upstream(format!("content[{i}] is a tool_use block without name"))
                })?;
                let arguments = match block.get("input") {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(input) => serde_json::to_string(input)
                        .map_err(|e| upstream(format!("content[{i}]: {e}")))?,
                };
                tool_calls.push(json!({
                    "id": id,
                    "type": "function",
                    "function": { "name": name, "arguments": arguments },
                }));
            }
            Some("thinking") => {
                if let Some(thinking) = block.get("thinking").and_then(Value::as_str) {
                    reasoning.push_str(thinking);
                }
            }
            _ => {}
        }
    }

    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert("content".into(), text.map_or(Value::Null, Value::String));
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), reasoning.into());
    }
    if !tool_calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(tool_calls));
    }
    let finish_reason = msg
        .get("stop_reason")
        .and_then(Value::as_str)
        .map_or(Value::Null, |r| finish_reason(r).into());

    let mut usage = Usage::default();
    if let Some(u) = msg.get("usage") {
        usage.update(u);
    }
    Ok(json!({
        "id": chat_id(msg.get("id").and_then(Value::as_str)),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason,
            "logprobs": null,
        }],
        "usage": usage.to_openai(),
    }))
}

/// Extracts `(type, message)` from an Anthropic error body
/// (`{"type":"error","error":{"type":...,"message":...}}`), so the gateway
/// can relay the provider's explanation instead of a bare status code.
/// Returns `None` when the body is not such an error.
pub fn error_message(body: &[u8]) -> Option<(String, String)> {
    let body: Value = serde_json::from_slice(body).ok()?;
    if body.get("type").is_some_and(|t| t != "error") {
        return None;
    }
    let error = body.get("error")?;
    let message = error.get("message")?.as_str()?;
    // The type is informative only; a message without one is still worth
    // relaying.
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("api_error");
    Some((kind.to_owned(), message.to_owned()))
}

/// Maps Anthropic's `stop_reason` to OpenAI's `finish_reason`.
///
/// Reasons added by Anthropic in the future map to "stop": the message did
/// end, and clients only special-case the other values.
pub(crate) fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// The chat completion id for an Anthropic message id.
///
/// The Anthropic id is kept verbatim after the `chatcmpl-` prefix so that a
/// client-reported id can be looked up in Anthropic's logs directly. A random
/// id stands in when the upstream sent none.
pub(crate) fn chat_id(message_id: Option<&str>) -> String {
    match message_id {
        Some(id) if !id.is_empty() => format!("chatcmpl-{id}"),
        _ => format!("chatcmpl-{}", random_hex()),
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Uniqueness is a courtesy here, not a security property, so the
        // clock is an acceptable fallback.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    bytes.iter().fold(String::with_capacity(24), |mut hex, b| {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Token counters in Anthropic's terms, converted to OpenAI's on output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) input: u64,
    pub(crate) cache_creation: u64,
    pub(crate) cache_read: u64,
    pub(crate) output: u64,
}

impl Usage {
    /// Overwrites the counters present in an Anthropic `usage` object.
    /// Streaming reports counts in several events and later counts are
    /// cumulative, so the latest value of each field wins.
    pub(crate) fn update(&mut self, usage: &Value) {
        let get = |key: &str| usage.get(key).and_then(Value::as_u64);
        if let Some(n) = get("input_tokens") {
            self.input = n;
        }
        if let Some(n) = get("cache_creation_input_tokens") {
            self.cache_creation = n;
        }
        if let Some(n) = get("cache_read_input_tokens") {
            self.cache_read = n;
        }
        if let Some(n) = get("output_tokens") {
            self.output = n;
        }
    }

    /// OpenAI's usage object. Anthropic's `input_tokens` excludes cached
    /// tokens while OpenAI's `prompt_tokens` includes them, hence the sum.
    /// The two cache counters are also reported under Anthropic's names, as
    /// LiteLLM does, so cost tracking can price cache writes.
    pub(crate) fn to_openai(self) -> Value {
        let prompt = self
            .input
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read);
        json!({
            "prompt_tokens": prompt,
            "completion_tokens": self.output,
            "total_tokens": prompt.saturating_add(self.output),
            "prompt_tokens_details": { "cached_tokens": self.cache_read },
            "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read,
        })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "id": "msg_01ABC",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{ "type": "text", "text": "Hello!" }],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 3,
                "cache_read_input_tokens": 5,
                "output_tokens": 7,
            },
        })
    }

    fn chat(msg: Value) -> Value {
        message_to_chat(&msg, "my-model").expect("translation should succeed")
    }

    #[test]
    fn text_message() {
        let out = chat(sample());
        assert_eq!(out["id"], "chatcmpl-msg_01ABC");
        assert_eq!(out["object"], "chat.completion");
        assert_eq!(out["model"], "my-model");
        assert!(out["created"].as_u64().is_some_and(|t| t > 1_600_000_000));
        assert_eq!(
            out["choices"],
            json!([{
                "index": 0,
                "message": { "role": "assistant", "content": "Hello!" },
                "finish_reason": "stop",
                "logprobs": null,
            }])
        );
    }

    #[test]
    fn usage_counts_cached_tokens_as_prompt_tokens() {
        assert_eq!(
            chat(sample())["usage"],
            json!({
                "prompt_tokens": 18,
                "completion_tokens": 7,
                "total_tokens": 25,
                "prompt_tokens_details": { "cached_tokens": 5 },
                "cache_creation_input_tokens": 3,
                "cache_read_input_tokens": 5,
            })
        );
    }

    #[test]
    fn missing_usage_fields_count_as_zero() {
        let mut msg = sample();
        msg["usage"] =
            json!({ "input_tokens": 4, "output_tokens": 2, "cache_read_input_tokens": null });
        let usage = &chat(msg)["usage"];
        assert_eq!(usage["prompt_tokens"], 4);
        assert_eq!(usage["total_tokens"], 6);
        assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    }

    #[test]
    fn several_text_blocks_are_concatenated() {
        let mut msg = sample();
        msg["content"] = json!([
            { "type": "text", "text": "Hello, " },
            { "type": "text", "text": "world." },
        ]);
        assert_eq!(
            chat(msg)["choices"][0]["message"]["content"],
            "Hello, world."
        );
    }

    #[test]
    fn tool_use_becomes_tool_calls_with_null_content() {
        let mut msg = sample();
        msg["stop_reason"] = json!("tool_use");
        msg["content"] = json!([
            { "type": "tool_use", "id": "toolu_1", "name": "weather", "input": { "city": "Paris" } },
            { "type": "tool_use", "id": "toolu_2", "name": "now", "input": {} },
        ]);
        let out = chat(msg);
        let choice = &out["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(
            choice["message"],
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    { "id": "toolu_1", "type": "function",
                      "function": { "name": "weather", "arguments": "{\"city\":\"Paris\"}" } },
                    { "id": "toolu_2", "type": "function",
                      "function": { "name": "now", "arguments": "{}" } },
                ],
            })
        );
    }

    #[test]
    fn text_and_tool_use_together() {
        let mut msg = sample();
        msg["content"] = json!([
            { "type": "text", "text": "Let me check." },
            { "type": "tool_use", "id": "toolu_1", "name": "f", "input": { "a": [1, 2] } },
        ]);
        let out = chat(msg);
        let message = &out["choices"][0]["message"];
        assert_eq!(message["content"], "Let me check.");
        assert_eq!(
            message["tool_calls"][0]["function"]["arguments"],
            "{\"a\":[1,2]}"
        );
    }

    #[test]
    fn thinking_becomes_reasoning_content() {
        let mut msg = sample();
        msg["content"] = json!([
            { "type": "thinking", "thinking": "Let me think.", "signature": "sig" },
            { "type": "redacted_thinking", "data": "opaque" },
            { "type": "text", "text": "Answer." },
        ]);
        let out = chat(msg);
        let message = &out["choices"][0]["message"];
        assert_eq!(message["reasoning_content"], "Let me think.");
        assert_eq!(message["content"], "Answer.");
    }

    #[test]
    fn unknown_blocks_are_ignored_and_empty_content_is_null() {
        let mut msg = sample();
        msg["content"] =
            json!([{ "type": "server_tool_use", "id": "s", "name": "web_search", "input": {} }]);
        let out = chat(msg);
        assert_eq!(
            out["choices"][0]["message"],
            json!({ "role": "assistant", "content": null })
        );
    }

    #[test]
    fn stop_reason_mapping() {
        for (anthropic, openai) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("pause_turn", "stop"),
            ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
            ("something_new", "stop"),
        ] {
            let mut msg = sample();
            msg["stop_reason"] = json!(anthropic);
            assert_eq!(
                chat(msg)["choices"][0]["finish_reason"],
                openai,
                "{anthropic}"
            );
        }
        let mut msg = sample();
        msg["stop_reason"] = Value::Null;
        assert_eq!(chat(msg)["choices"][0]["finish_reason"], Value::Null);
    }

    #[test]
    fn missing_id_gets_a_random_one() {
        let mut msg = sample();
        if let Value::Object(o) = &mut msg {
            o.remove("id");
        }
        let a = chat(msg.clone())["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default();
        let b = chat(msg)["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default();
        assert!(
            a.starts_with("chatcmpl-") && a.len() == "chatcmpl-".len() + 24,
            "{a}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn invalid_messages_are_upstream_errors() {
        let bad = [
            json!("text"),
            json!({ "id": "msg_1" }),
            json!({ "content": "not an array" }),
            json!({ "content": [{ "type": "text" }] }),
            json!({ "content": [{ "type": "tool_use", "name": "f", "input": {} }] }),
            json!({ "content": [{ "type": "tool_use", "id": "t", "input": {} }] }),
        ];
        for msg in bad {
            assert!(
                matches!(
                    message_to_chat(&msg, "m"),
                    Err(TranslateError::InvalidUpstream(_))
                ),
                "{msg}"
            );
        }
    }

    #[test]
    fn error_message_parses_anthropic_errors() {
        let body =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            error_message(body),
            Some(("overloaded_error".to_owned(), "Overloaded".to_owned()))
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"no type"}}"#),
            Some(("api_error".to_owned(), "no type".to_owned()))
        );
    }

    #[test]
    fn error_message_rejects_other_bodies() {
        assert_eq!(error_message(b""), None);
        assert_eq!(error_message(b"<html>502</html>"), None);
        assert_eq!(error_message(br#"{"type":"message","content":[]}"#), None);
        assert_eq!(
            error_message(br#"{"type":"error","error":{"type":"x"}}"#),
            None
        );
        assert_eq!(error_message(br#"{"type":"error","error":"flat"}"#), None);
    }

    #[test]
    fn usage_update_keeps_absent_fields() {
        let mut usage = Usage::default();
        usage.update(
            &json!({ "input_tokens": 9, "cache_read_input_tokens": 1, "output_tokens": 1 }),
        );
        usage.update(&json!({ "output_tokens": 30 }));
        assert_eq!(
            usage,
            Usage {
                input: 9,
                cache_creation: 0,
                cache_read: 1,
                output: 30
            }
        );
    }
}
