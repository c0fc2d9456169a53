//! Anthropic Messages stream events → `chat.completion.chunk` objects.
//!
//! Anthropic streams typed events (`message_start`, `content_block_*`,
//! `message_delta`, ...) that describe a message block by block, while OpenAI
//! clients expect uniform chunks carrying deltas of a single choice. The
//! translator is a small state machine fed one decoded SSE event at a time,
//! so the gateway can forward each piece as soon as it arrives instead of
//! buffering the answer.
//!
//! State it has to carry between events: the chunk id and `created` time
//! (OpenAI clients expect them identical on every chunk), the mapping from
//! Anthropic content-block indexes to OpenAI tool-call indexes (Anthropic
//! counts text blocks too, OpenAI counts only tool calls), and the token
//! counts, which arrive split between `message_start` and `message_delta`.
//! As in the non-streaming path, thinking deltas are forwarded as
//! `reasoning_content`.

use serde_json::{Map, Value, json};

use super::TranslateError;
use super::response::{Usage, chat_id, finish_reason, unix_now};
use crate::sse::SseEvent;

type Result<T> = std::result::Result<T, TranslateError>;

fn upstream(message: impl Into<String>) -> TranslateError {
    TranslateError::InvalidUpstream(message.into())
}

/// Event names this translator reads. Any other named event is skipped
/// before parsing, so new Anthropic event kinds cannot break old gateways.
const HANDLED_EVENTS: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "error",
];

/// Translates one Anthropic stream into OpenAI chunks.
#[derive(Debug)]
pub struct StreamTranslator {
    model: String,
    include_usage: bool,
    id: String,
    created: u64,
    /// Whether any chunk went out; the id must not change after that.
    emitted: bool,
    started: bool,
    finished: bool,
    /// `(Anthropic content block index, OpenAI tool call index)` for each
    /// `tool_use` block; a handful at most, so a vector beats a map.
    tool_blocks: Vec<(u64, usize)>,
    usage: Usage,
}

impl StreamTranslator {
    /// `model` is echoed in every chunk (the client's name for the model);
    /// `include_usage` mirrors the client's `stream_options.include_usage`.
    #[must_use]
    pub fn new(model: &str, include_usage: bool) -> Self {
        Self {
            model: model.to_owned(),
            include_usage,
            // Replaced by the message id at `message_start`; only used if the
            // upstream sends content without one.
            id: chat_id(None),
            created: unix_now(),
            emitted: false,
            started: false,
            finished: false,
            tool_blocks: Vec::new(),
            usage: Usage::default(),
        }
    }

    /// True once `message_stop` has been seen; nothing more will be emitted.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Translates one event into the chunks to send, in order (often none).
    ///
    /// An Anthropic `error` event, or an event whose data is not the JSON it
    /// should be, yields [`TranslateError::InvalidUpstream`]; the caller
    /// reports it to the client in OpenAI's error shape and ends the stream.
    pub fn push(&mut self, event: &SseEvent) -> Result<Vec<Value>> {
        if self.finished {
            return Ok(Vec::new());
        }
        // `ping` and unknown events are skipped without parsing: their data
        // does not matter, so it must not be able to fail the stream.
        if let Some(name) = event.event.as_deref()
            && !HANDLED_EVENTS.contains(&name)
        {
            return Ok(Vec::new());
        }
        let data: Value = serde_json::from_str(&event.data)
            .map_err(|e| upstream(format!("stream event data is not valid JSON: {e}")))?;
        // The `type` inside the data is authoritative; the SSE event name is
        // only a fallback for upstreams that omit it.
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => Ok(self.message_start(&data)),
            "content_block_start" => self.content_block_start(&data),
            "content_block_delta" => self.content_block_delta(&data),
            "message_delta" => Ok(self.message_delta(&data)),
            "message_stop" => Ok(self.message_stop()),
            "error" => {
                let error = data.get("error");
                let field = |key: &str| error.and_then(|e| e.get(key)).and_then(Value::as_str);
                Err(upstream(format!(
                    "{}: {}",
                    field("type").unwrap_or("error"),
                    field("message").unwrap_or("unknown error")
                )))
            }
            _ => Ok(Vec::new()),
        }
    }

    fn message_start(&mut self, data: &Value) -> Vec<Value> {
        if self.started {
            return Vec::new();
        }
        self.started = true;
        let message = data.get("message");
        if !self.emitted {
            let id = message.and_then(|m| m.get("id")).and_then(Value::as_str);
            if id.is_some() {
                self.id = chat_id(id);
            }
        }
        if let Some(usage) = message.and_then(|m| m.get("usage")) {
            self.usage.update(usage);
        }
        vec![self.chunk(json!({ "role": "assistant", "content": "" }), Value::Null)]
    }

    fn content_block_start(&mut self, data: &Value) -> Result<Vec<Value>> {
        let index = block_index(data)?;
        let block = data
            .get("content_block")
            .ok_or_else(|| upstream("content_block_start without content_block"))?;
        let text_field = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or("");
        match block.get("type").and_then(Value::as_str) {
            Some("text") => Ok(self.text_chunk("content", text_field("text"))),
            Some("thinking") => Ok(self.text_chunk("reasoning_content", text_field("thinking"))),
            Some("tool_use") => {
                let id = block
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| upstream("tool_use block without id"))?;
                let name = block
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| upstream("tool_use block without name"))?;
                let tool_index = self.tool_blocks.len();
                self.tool_blocks.push((index, tool_index));
                let delta = json!({ "tool_calls": [{
                    "index": tool_index,
                    "id": id,
                    "type": "function",
                    "function": { "name": name, "arguments": "" },
                }]});
                Ok(vec![self.chunk(delta, Value::Null)])
            }
            // Server tools, redacted thinking, ...: nothing OpenAI can show.
            _ => Ok(Vec::new()),
        }
    }

    fn content_block_delta(&mut self, data: &Value) -> Result<Vec<Value>> {
        let index = block_index(data)?;
        let delta = data
            .get("delta")
            .ok_or_else(|| upstream("content_block_delta without delta"))?;
        let text_field = |key: &str| delta.get(key).and_then(Value::as_str).unwrap_or("");
        match delta.get("type").and_then(Value::as_str) {
            Some("text_delta") => Ok(self.text_chunk("content", text_field("text"))),
            Some("thinking_delta") => {
                Ok(self.text_chunk("reasoning_content", text_field("thinking")))
            }
            Some("input_json_delta") => {
                let partial = text_field("partial_json");
                // Deltas of blocks that are not client tool calls (server
                // tools) have no OpenAI tool call to extend.
                let Some(&(_, tool_index)) = self.tool_blocks.iter().find(|(i, _)| *i == index)
                else {
                    return Ok(Vec::new());
                };
                if partial.is_empty() {
                    return Ok(Vec::new());
                }
                let delta = json!({ "tool_calls": [{
                    "index": tool_index,
                    "function": { "arguments": partial },
                }]});
                Ok(vec![self.chunk(delta, Value::Null)])
            }
            _ => Ok(Vec::new()),
        }
    }

    fn message_delta(&mut self, data: &Value) -> Vec<Value> {
        if let Some(usage) = data.get("usage") {
            self.usage.update(usage);
        }
        // Without a stop reason there is nothing to tell the client yet; the
        // counts above are still kept for the usage chunk.
        match data
            .get("delta")
            .and_then(|d| d.get("stop_reason"))
            .and_then(Value::as_str)
        {
            Some(reason) => vec![self.chunk(json!({}), finish_reason(reason).into())],
            None => Vec::new(),
        }
    }

    fn message_stop(&mut self) -> Vec<Value> {
        self.finished = true;
        if !self.include_usage {
            return Vec::new();
        }
        let mut chunk = self.base();
        chunk.insert("choices".into(), json!([]));
        chunk.insert("usage".into(), self.usage.to_openai());
        vec![Value::Object(chunk)]
    }

    /// A content chunk, or nothing for empty text: an empty delta carries no
    /// information and Anthropic opens every block with one.
    fn text_chunk(&mut self, field: &str, text: &str) -> Vec<Value> {
        if text.is_empty() {
            return Vec::new();
        }
        let mut delta = Map::new();
        delta.insert(field.into(), text.into());
        vec![self.chunk(Value::Object(delta), Value::Null)]
    }

    fn base(&mut self) -> Map<String, Value> {
        self.emitted = true;
        let mut chunk = Map::new();
        chunk.insert("id".into(), self.id.clone().into());
        chunk.insert("object".into(), "chat.completion.chunk".into());
        chunk.insert("created".into(), self.created.into());
        chunk.insert("model".into(), self.model.clone().into());
        chunk
    }

    fn chunk(&mut self, delta: Value, finish_reason: Value) -> Value {
        let mut chunk = self.base();
        chunk.insert(
            "choices".into(),
            json!([{
                "index": 0,
                "delta": delta,
                "finish_reason": finish_reason,
                "logprobs": null,
            }]),
        );
        // OpenAI marks every chunk with `usage: null` when usage was asked
        // for, and some clients rely on the key being present.
        if self.include_usage {
            chunk.insert("usage".into(), Value::Null);
        }
        Value::Object(chunk)
    }
}

fn block_index(data: &Value) -> Result<u64> {
    data.get("index")
        .and_then(Value::as_u64)
        .ok_or_else(|| upstream("content block event without a numeric index"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseDecoder;

    fn sse(events: &[(&str, Value)]) -> String {
        events
            .iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect()
    }

    /// Decodes the stream byte by byte (the harshest split) and translates it.
    fn run(stream: &str, include_usage: bool) -> (Vec<Value>, StreamTranslator) {
        let mut decoder = SseDecoder::new();
        let mut translator = StreamTranslator::new("my-model", include_usage);
        let mut chunks = Vec::new();
        for byte in stream.as_bytes() {
            for event in decoder.push(std::slice::from_ref(byte)) {
                match translator.push(&event) {
                    Ok(c) => chunks.extend(c),
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
        }
        assert_eq!(decoder.finish(), None);
        (chunks, translator)
    }

    fn message_start() -> (&'static str, Value) {
        (
            "message_start",
            json!({ "type": "message_start", "message": {
                "id": "msg_123", "type": "message", "role": "assistant", "content": [],
                "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": 25, "cache_read_input_tokens": 5,
                           "cache_creation_input_tokens": 0, "output_tokens": 1 },
            }}),
        )
    }

    fn text_stream() -> String {
        sse(&[
            message_start(),
            (
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                "content_block": { "type": "text", "text": "" } }),
            ),
            ("ping", json!({ "type": "ping" })),
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                "delta": { "type": "text_delta", "text": "Hello" } }),
            ),
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                "delta": { "type": "text_delta", "text": ", wörld 🌍" } }),
            ),
            (
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": 0 }),
            ),
            (
                "message_delta",
                json!({ "type": "message_delta",
                "delta": { "stop_reason": "end_turn", "stop_sequence": null },
                "usage": { "output_tokens": 12 } }),
            ),
            ("message_stop", json!({ "type": "message_stop" })),
        ])
    }

    fn deltas(chunks: &[Value]) -> Vec<Value> {
        chunks
            .iter()
            .filter_map(|c| c["choices"].get(0).map(|choice| choice["delta"].clone()))
            .collect()
    }

    #[test]
    fn text_stream_without_usage() {
        let (chunks, translator) = run(&text_stream(), false);
        assert!(translator.finished());
        assert_eq!(
            deltas(&chunks),
            vec![
                json!({ "role": "assistant", "content": "" }),
                json!({ "content": "Hello" }),
                json!({ "content": ", wörld 🌍" }),
                json!({}),
            ]
        );
        let finish: Vec<&Value> = chunks
            .iter()
            .map(|c| &c["choices"][0]["finish_reason"])
            .collect();
        assert_eq!(
            finish,
            [&Value::Null, &Value::Null, &Value::Null, &json!("stop")]
        );
        for chunk in &chunks {
            assert_eq!(chunk["id"], "chatcmpl-msg_123");
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["model"], "my-model");
            assert_eq!(chunk["created"], chunks[0]["created"]);
            assert_eq!(chunk["choices"][0]["index"], 0);
            assert!(chunk.get("usage").is_none(), "{chunk}");
        }
    }

    #[test]
    fn text_stream_with_usage() {
        let (chunks, _) = run(&text_stream(), true);
        assert_eq!(chunks.len(), 5);
        for chunk in &chunks[..4] {
            assert_eq!(chunk.get("usage"), Some(&Value::Null), "{chunk}");
        }
        let last = &chunks[4];
        assert_eq!(last["id"], "chatcmpl-msg_123");
        assert_eq!(last["choices"], json!([]));
        assert_eq!(
            last["usage"],
            json!({
                "prompt_tokens": 30,
                "completion_tokens": 12,
                "total_tokens": 42,
                "prompt_tokens_details": { "cached_tokens": 5 },
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 5,
            })
        );
    }

    #[test]
    fn stream_with_two_tool_calls() {
        let tool_start = |index: u64, id: &str, name: &str| {
            (
                "content_block_start",
                json!({ "type": "content_block_start", "index": index,
                "content_block": { "type": "tool_use", "id": id, "name": name, "input": {} } }),
            )
        };
        let json_delta = |index: u64, partial: &str| {
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": index,
                "delta": { "type": "input_json_delta", "partial_json": partial } }),
            )
        };
        let stop = |index: u64| {
            (
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": index }),
            )
        };
        let stream = sse(&[
            message_start(),
            (
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                "content_block": { "type": "text", "text": "" } }),
            ),
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                "delta": { "type": "text_delta", "text": "Checking both." } }),
            ),
            stop(0),
            tool_start(1, "toolu_A", "weather"),
            json_delta(1, ""),
            json_delta(1, "{\"city\": "),
            json_delta(1, "\"Paris\"}"),
            stop(1),
            tool_start(2, "toolu_B", "weather"),
            json_delta(2, "{\"city\": \"Rome\"}"),
            stop(2),
            (
                "message_delta",
                json!({ "type": "message_delta",
                "delta": { "stop_reason": "tool_use", "stop_sequence": null },
                "usage": { "output_tokens": 80 } }),
            ),
            ("message_stop", json!({ "type": "message_stop" })),
        ]);
        let (chunks, translator) = run(&stream, false);
        assert!(translator.finished());
        assert_eq!(
            deltas(&chunks),
            vec![
                json!({ "role": "assistant", "content": "" }),
                json!({ "content": "Checking both." }),
                json!({ "tool_calls": [{ "index": 0, "id": "toolu_A", "type": "function",
                    "function": { "name": "weather", "arguments": "" } }] }),
                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"city\": " } }] }),
                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "\"Paris\"}" } }] }),
                json!({ "tool_calls": [{ "index": 1, "id": "toolu_B", "type": "function",
                    "function": { "name": "weather", "arguments": "" } }] }),
                json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "{\"city\": \"Rome\"}" } }] }),
                json!({}),
            ]
        );
        assert_eq!(
            chunks.last().map(|c| &c["choices"][0]["finish_reason"]),
            Some(&json!("tool_calls"))
        );
    }

    #[test]
    fn finish_reason_mapping_in_stream() {
        for (anthropic, openai) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("pause_turn", "stop"),
            ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ] {
            let mut t = StreamTranslator::new("m", false);
            let event = SseEvent {
                event: Some("message_delta".into()),
                data: json!({ "type": "message_delta", "delta": { "stop_reason": anthropic } })
                    .to_string(),
            };
            let chunks = t.push(&event).unwrap_or_default();
            assert_eq!(chunks.len(), 1);
            assert_eq!(
                chunks[0]["choices"][0]["finish_reason"], openai,
                "{anthropic}"
            );
            assert_eq!(chunks[0]["choices"][0]["delta"], json!({}));
        }
    }

    #[test]
    fn message_delta_without_stop_reason_only_updates_usage() {
        let stream = sse(&[
            message_start(),
            (
                "message_delta",
                json!({ "type": "message_delta", "delta": {}, "usage": { "output_tokens": 3 } }),
            ),
            ("message_stop", json!({ "type": "message_stop" })),
        ]);
        let (chunks, _) = run(&stream, true);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1]["usage"]["completion_tokens"], 3);
    }

    #[test]
    fn thinking_is_forwarded_as_reasoning_content() {
        let stream = sse(&[
            message_start(),
            (
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                "content_block": { "type": "thinking", "thinking": "" } }),
            ),
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                "delta": { "type": "thinking_delta", "thinking": "Hmm." } }),
            ),
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                "delta": { "type": "signature_delta", "signature": "abc" } }),
            ),
            (
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": 0 }),
            ),
        ]);
        let (chunks, translator) = run(&stream, false);
        assert!(!translator.finished());
        assert_eq!(
            deltas(&chunks),
            vec![
                json!({ "role": "assistant", "content": "" }),
                json!({ "reasoning_content": "Hmm." })
            ]
        );
    }

    #[test]
    fn server_tool_blocks_are_ignored() {
        let stream = sse(&[
            message_start(),
            (
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                "content_block": { "type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {} } }),
            ),
            (
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                "delta": { "type": "input_json_delta", "partial_json": "{\"query\":\"x\"}" } }),
            ),
        ]);
        let (chunks, _) = run(&stream, false);
        assert_eq!(chunks.len(), 1);
    }

    #[test]
    fn ping_and_unknown_events_produce_nothing() {
        let mut t = StreamTranslator::new("m", true);
        for event in [
            SseEvent {
                event: Some("ping".into()),
                data: "{\"type\": \"ping\"}".into(),
            },
            SseEvent {
                event: Some("ping".into()),
                data: "not json".into(),
            },
            SseEvent {
                event: Some("brand_new".into()),
                data: "{}".into(),
            },
            SseEvent {
                event: None,
                data: "{\"type\":\"brand_new\"}".into(),
            },
        ] {
            assert!(t.push(&event).unwrap_or_else(|e| panic!("{e}")).is_empty());
        }
        assert!(!t.finished());
    }

    #[test]
    fn event_name_is_a_fallback_for_missing_type() {
        let mut t = StreamTranslator::new("m", false);
        let chunks = t
            .push(&SseEvent {
                event: Some("message_start".into()),
                data: "{\"message\":{\"id\":\"msg_x\"}}".into(),
            })
            .unwrap_or_default();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0]["id"], "chatcmpl-msg_x");
    }

    #[test]
    fn error_event_is_an_upstream_error() {
        let mut t = StreamTranslator::new("m", false);
        let event = SseEvent {
            event: Some("error".into()),
            data: r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                .into(),
        };
        match t.push(&event) {
            Err(TranslateError::InvalidUpstream(m)) => {
                assert_eq!(m, "overloaded_error: Overloaded")
            }
            other => panic!("expected InvalidUpstream, got {other:?}"),
        }
    }

    #[test]
    fn invalid_json_and_malformed_blocks_are_upstream_errors() {
        let cases = [
            SseEvent { event: Some("content_block_delta".into()), data: "{oops".into() },
            SseEvent { event: None, data: "not json".into() },
            SseEvent { event: None, data: r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#.into() },
            SseEvent { event: None, data: r#"{"type":"content_block_start","index":0}"#.into() },
            SseEvent { event: None, data: r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","name":"f"}}"#.into() },
        ];
        for event in cases {
            let mut t = StreamTranslator::new("m", false);
            assert!(
                matches!(t.push(&event), Err(TranslateError::InvalidUpstream(_))),
                "{event:?}"
            );
        }
    }

    #[test]
    fn events_after_message_stop_are_ignored() {
        let mut stream = text_stream();
        stream.push_str(&sse(&[(
            "content_block_delta",
            json!({ "type": "content_block_delta", "index": 0,
            "delta": { "type": "text_delta", "text": "late" } }),
        )]));
        let (chunks, _) = run(&stream, false);
        assert_eq!(chunks.len(), 4);
    }

    #[test]
    fn content_before_message_start_keeps_one_id() {
        let mut t = StreamTranslator::new("m", false);
        let delta = SseEvent {
            event: None,
            data: r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#.into(),
        };
        let first = t.push(&delta).unwrap_or_default();
        let (start_name, start_data) = message_start();
        let second = t
            .push(&SseEvent {
                event: Some(start_name.into()),
                data: start_data.to_string(),
            })
            .unwrap_or_default();
        assert_eq!(first.len(), 1);
        assert_eq!(second.len(), 1);
        assert_eq!(first[0]["id"], second[0]["id"]);
        assert!(
            first[0]["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("chatcmpl-"))
        );
    }

    #[test]
    fn repeated_message_start_is_ignored() {
        let (name, data) = message_start();
        let stream = sse(&[(name, data.clone()), (name, data)]);
        let (chunks, _) = run(&stream, false);
        assert_eq!(chunks.len(), 1);
    }
}
