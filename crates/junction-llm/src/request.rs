//! A chat request as the router sees it: the client's JSON object, kept whole.
//!
//! Only the top level is parsed: each field stays raw JSON text until an adapter needs it. The
//! OpenAI-compatible passthrough, the hot path, rewrites `model` and copies every other field
//! as the client wrote it, so unknown fields (new OpenAI parameters, vendor extensions) reach
//! the upstream untouched and the messages are never built into a tree. Adapters that
//! translate (Anthropic) or inspect (mock) ask for the fields as `serde_json::Value`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::LlmError;

/// A validated Chat Completions request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The public model name (`model_name` in the config) the client asked for.
    pub model: String,
    pub stream: bool,
    /// Ask the upstream for usage even on streams the client did not ask it for (the extra
    /// chunk is removed before the client sees it), so spend can be charged. The server sets
    /// this for virtual keys.
    pub meter_usage: bool,
    /// The client's top-level fields, `model` included, as raw JSON.
    fields: BTreeMap<String, Box<RawValue>>,
}

impl ChatRequest {
    /// Parses and checks the fields every provider needs; the rest is the upstream's business.
    pub fn from_slice(body: &[u8]) -> Result<ChatRequest, LlmError> {
        let fields: BTreeMap<String, Box<RawValue>> =
            serde_json::from_slice(body).map_err(|e| {
                let first = body.iter().find(|b| !b.is_ascii_whitespace());
                if e.is_data() && first != Some(&b'{') {
                    LlmError::InvalidRequest("request body must be a JSON object".into())
                } else {
                    LlmError::InvalidRequest(format!("request body is not valid JSON: {e}"))
                }
            })?;
        let model = match fields
            .get("model")
            .map(|m| serde_json::from_str::<String>(m.get()))
        {
            Some(Ok(m)) if !m.is_empty() => m,
            Some(_) => {
                return Err(LlmError::InvalidRequest(
                    "`model` must be a non-empty string".into(),
                ));
            }
            None => return Err(LlmError::InvalidRequest("`model` is required".into())),
        };
        let messages = fields
            .get("messages")
            .ok_or_else(|| LlmError::InvalidRequest("`messages` is required".into()))?;
        match serde_json::from_str::<Vec<&RawValue>>(messages.get()) {
            Ok(list) if !list.is_empty() => {}
            Ok(_) => {
                return Err(LlmError::InvalidRequest(
                    "`messages` must contain at least one message".into(),
                ));
            }
            Err(_) => {
                return Err(LlmError::InvalidRequest(
                    "`messages` must be an array".into(),
                ));
            }
        }
        let stream = match fields
            .get("stream")
            .map(|s| serde_json::from_str::<Option<bool>>(s.get()))
        {
            None => false,
            Some(Ok(s)) => s.unwrap_or(false),
            Some(Err(_)) => {
                return Err(LlmError::InvalidRequest(
                    "`stream` must be a boolean".into(),
                ));
            }
        };
        Ok(ChatRequest {
            model,
            stream,
            meter_usage: false,
            fields,
        })
    }

    /// `stream_options.include_usage`, which asks for a final usage chunk.
    pub fn include_usage(&self) -> bool {
        #[derive(Deserialize)]
        struct StreamOptions {
            include_usage: Option<bool>,
        }
        self.fields
            .get("stream_options")
            .and_then(|o| serde_json::from_str::<StreamOptions>(o.get()).ok())
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// One top-level field, parsed.
    pub fn field(&self, name: &str) -> Option<Value> {
        serde_json::from_str(self.fields.get(name)?.get()).ok()
    }

    /// LiteLLM's request-level `mock_response`.
    pub(crate) fn mock_response(&self) -> Option<String> {
        self.fields
            .get("mock_response")
            .and_then(|m| serde_json::from_str::<String>(m.get()).ok())
    }

    /// The whole body as a JSON object, for adapters that translate it.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), serde_json::from_str(v.get()).ok()?)))
            .collect()
    }

    /// The body for an OpenAI-compatible upstream: `model` replaced, LiteLLM-only fields
    /// dropped, deployment defaults added where the client set nothing, and optionally
    /// `stream_options.include_usage` forced on. Every other field is copied byte for byte.
    pub(crate) fn passthrough_body(
        &self,
        upstream_model: &str,
        defaults: &Map<String, Value>,
        force_usage: bool,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            256 + self
                .fields
                .values()
                .map(|v| v.get().len() + 16)
                .sum::<usize>(),
        );
        out.push(b'{');
        let mut first = true;
        let mut field = |out: &mut Vec<u8>, key: &str, value: &[u8]| {
            if !first {
                out.push(b',');
            }
            first = false;
            // A key that came from a JSON object always re-encodes.
            out.extend_from_slice(serde_json::to_string(key).unwrap_or_default().as_bytes());
            out.push(b':');
            out.extend_from_slice(value);
        };
        let model = Value::String(upstream_model.to_owned()).to_string();
        field(&mut out, "model", model.as_bytes());
        for (key, raw) in &self.fields {
            match key.as_str() {
                "model" | "mock_response" => {}
                "stream_options" if force_usage => {}
                _ => field(&mut out, key, raw.get().as_bytes()),
            }
        }
        for (key, value) in defaults {
            if !self.fields.contains_key(key) && key != "model" {
                field(&mut out, key, value.to_string().as_bytes());
            }
        }
        if force_usage {
            let mut options = match self.field("stream_options") {
                Some(Value::Object(options)) => options,
                _ => Map::new(),
            };
            options.insert("include_usage".into(), Value::Bool(true));
            field(
                &mut out,
                "stream_options",
                Value::Object(options).to_string().as_bytes(),
            );
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<ChatRequest, LlmError> {
        ChatRequest::from_slice(body.to_string().as_bytes())
    }

    #[test]
    fn rejects_what_no_provider_could_answer() {
        for (body, needle) in [
            (json!([1]), "JSON object"),
            (
                json!({"messages": [{"role": "user", "content": "x"}]}),
                "`model` is required",
            ),
            (json!({"model": 3, "messages": []}), "non-empty string"),
            (json!({"model": "m"}), "`messages` is required"),
            (json!({"model": "m", "messages": []}), "at least one"),
            (json!({"model": "m", "messages": {}}), "must be an array"),
            (
                json!({"model": "m", "messages": [{}], "stream": "yes"}),
                "boolean",
            ),
        ] {
            match parse(body) {
                Err(LlmError::InvalidRequest(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("expected InvalidRequest, got {other:?}"),
            }
        }
        for text in ["{not json", "", "{\"model\": \"m\",}"] {
            match ChatRequest::from_slice(text.as_bytes()) {
                Err(LlmError::InvalidRequest(m)) => assert!(m.contains("not valid JSON"), "{m}"),
                other => panic!("expected InvalidRequest, got {other:?}"),
            }
        }
    }

    #[test]
    fn passthrough_rewrites_model_keeps_unknown_fields_and_fills_defaults() {
        let req = parse(json!({
            "model": "public", "messages": [{"role": "user", "content": "x \"quoted\""}],
            "stream": true, "stream_options": {"include_usage": false, "other": 1},
            "vendor_x": {"deep": [1, 2]}, "temperature": 0.7, "mock_response": "no"
        }));
        let req = match req {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert!(req.stream && !req.include_usage());
        let defaults = json!({"temperature": 0.1, "max_tokens": 5});
        let Value::Object(defaults) = defaults else {
            unreachable!()
        };
        let body: Value =
            serde_json::from_slice(&req.passthrough_body("upstream", &defaults, true))
                .unwrap_or_default();
        assert_eq!(
            body,
            json!({
                "model": "upstream", "messages": [{"role": "user", "content": "x \"quoted\""}],
                "stream": true, "stream_options": {"include_usage": true, "other": 1},
                "vendor_x": {"deep": [1, 2]}, "temperature": 0.7, "max_tokens": 5
            })
        );
        let body: Value = serde_json::from_slice(&req.passthrough_body("u", &Map::new(), false))
            .unwrap_or_default();
        assert_eq!(
            body["stream_options"],
            json!({"include_usage": false, "other": 1})
        );
    }
}
