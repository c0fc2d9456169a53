//! A chat request as the router sees it: the client's JSON object, kept whole.
//!
//! The body stays a JSON map rather than a typed struct so that fields Junction does not know
//! (new OpenAI parameters, vendor extensions) reach OpenAI-compatible upstreams untouched.

use serde_json::{Map, Value};

use crate::LlmError;

/// A validated Chat Completions request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The public model name (`model_name` in the config) the client asked for.
    pub model: String,
    pub stream: bool,
    /// The client's JSON object, `model` included.
    pub body: Map<String, Value>,
    /// Ask the upstream for usage even on streams the client did not ask it for (the extra
    /// chunk is removed before the client sees it), so spend can be charged. The server sets
    /// this for virtual keys.
    pub meter_usage: bool,
}

impl ChatRequest {
    /// Checks the fields every provider needs; anything else is the upstream's business.
    pub fn from_json(body: Value) -> Result<ChatRequest, LlmError> {
        let Value::Object(body) = body else {
            return Err(LlmError::InvalidRequest(
                "request body must be a JSON object".into(),
            ));
        };
        let model = match body.get("model") {
            Some(Value::String(m)) if !m.is_empty() => m.clone(),
            Some(_) => {
                return Err(LlmError::InvalidRequest(
                    "`model` must be a non-empty string".into(),
                ));
            }
            None => return Err(LlmError::InvalidRequest("`model` is required".into())),
        };
        match body.get("messages") {
            Some(Value::Array(m)) if !m.is_empty() => {}
            Some(Value::Array(_)) => {
                return Err(LlmError::InvalidRequest(
                    "`messages` must contain at least one message".into(),
                ));
            }
            Some(_) => {
                return Err(LlmError::InvalidRequest(
                    "`messages` must be an array".into(),
                ));
            }
            None => return Err(LlmError::InvalidRequest("`messages` is required".into())),
        }
        let stream = match body.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(LlmError::InvalidRequest(
                    "`stream` must be a boolean".into(),
                ));
            }
        };
        Ok(ChatRequest {
            model,
            stream,
            body,
            meter_usage: false,
        })
    }

    /// `stream_options.include_usage`, which asks for a final usage chunk.
    pub fn include_usage(&self) -> bool {
        self.body
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// LiteLLM's request-level `mock_response`.
    pub(crate) fn mock_response(&self) -> Option<&str> {
        self.body.get("mock_response").and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            match ChatRequest::from_json(body) {
                Err(LlmError::InvalidRequest(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("expected InvalidRequest, got {other:?}"),
            }
        }
    }

    #[test]
    fn keeps_unknown_fields_and_reads_stream_options() {
        let req = ChatRequest::from_json(json!({
            "model": "m", "messages": [{"role": "user", "content": "x"}],
            "stream": true, "stream_options": {"include_usage": true}, "vendor_x": 1
        }));
        let req = match req {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert!(req.stream && req.include_usage());
        assert_eq!(req.body["vendor_x"], json!(1));
    }
}
