//! Native Responses API passthrough: a `/v1/responses` body sent to an OpenAI-style upstream's
//! own `<api_base>/responses`, the answer relayed as it comes.
//!
//! Like the chat passthrough, only `model` is rewritten (and `stream` set); every other field of
//! the caller's body reaches the upstream as written. Deployment defaults from `litellm_params`
//! are Chat Completions parameters, so they are carried over only where the Responses API has
//! the same parameter, renamed where it has another name for it ([`defaults`]).

use futures_util::{StreamExt, TryStreamExt};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::openai::openai_message;
use super::{CallError, send, send_error, status_error};
use crate::deployment::Deployment;
use crate::{LlmError, ResponsesReply};

/// Chat Completions parameters the Responses API does not take (or takes in another shape that
/// a default cannot be converted to safely): sent as defaults they would make every request fail.
const CHAT_ONLY: &[&str] = &[
    "messages",
    "stop",
    "n",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "logprobs",
    "seed",
    "response_format",
    "stream_options",
    "functions",
    "function_call",
    "tools",
    "tool_choice",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    "max_tokens",
    "max_completion_tokens",
    "reasoning_effort",
    "mock_response",
];

/// The deployment's (Chat Completions) defaults as Responses API parameters: kept where the
/// name and shape are the same (`temperature`, `top_p`, `user`, `metadata`, unknown vendor
/// keys, …), `max_completion_tokens`/`max_tokens` → `max_output_tokens`,
/// `reasoning_effort` → `reasoning.effort`, chat-only ones ([`CHAT_ONLY`]) dropped.
pub(crate) fn defaults(chat: &Map<String, Value>) -> Map<String, Value> {
    let mut out: Map<String, Value> = chat
        .iter()
        .filter(|(k, _)| !CHAT_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !out.contains_key("max_output_tokens")
        && let Some(max) = chat
            .get("max_completion_tokens")
            .or_else(|| chat.get("max_tokens"))
    {
        out.insert("max_output_tokens".into(), max.clone());
    }
    if !out.contains_key("reasoning")
        && let Some(effort) = chat.get("reasoning_effort")
    {
        out.insert("reasoning".into(), json!({ "effort": effort }));
    }
    out
}

/// The upstream body, serialized straight from the caller's map (no copy of it).
struct UpstreamBody<'a> {
    body: &'a Map<String, Value>,
    model: &'a str,
    stream: bool,
    defaults: &'a Map<String, Value>,
}

impl Serialize for UpstreamBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `mock_response` is LiteLLM's, never the upstream's (as in the chat passthrough).
        let ours = |key: &str| matches!(key, "model" | "stream" | "mock_response");
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        map.serialize_entry("stream", &self.stream)?;
        for (key, value) in self.body {
            if !ours(key) {
                map.serialize_entry(key, value)?;
            }
        }
        for (key, value) in self.defaults {
            if !ours(key) && !self.body.contains_key(key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// POSTs `body` to the deployment's Responses endpoint.
pub(crate) async fn call(
    client: &reqwest::Client,
    deployment: &Deployment,
    body: &Map<String, Value>,
    stream: bool,
) -> Result<ResponsesReply, CallError> {
    let label = deployment.upstream_label();
    let Some(url) = deployment.responses_endpoint.clone() else {
        // The router only picks native deployments; this guards the invariant without a panic.
        return Err(CallError::Final {
            reason: "config",
            error: LlmError::InvalidRequest(format!(
                "deployment {label} does not use the Responses API natively"
            )),
        });
    };
    let upstream = UpstreamBody {
        body,
        model: &deployment.upstream_model,
        stream,
        defaults: &deployment.responses_defaults,
    };
    let bytes = serde_json::to_vec(&upstream).map_err(|e| CallError::Final {
        reason: "invalid_request",
        error: LlmError::InvalidRequest(format!("cannot encode the request body: {e}")),
    })?;
    let mut builder = client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes);
    if let Some(key) = &deployment.api_key {
        builder = builder.bearer_auth(key);
    }

    let resp = send(builder, deployment, stream).await?;
    let status = resp.status();
    if !status.is_success() {
        let body = super::error_body(resp).await;
        return Err(status_error(
            &label,
            status.as_u16(),
            &openai_message(&body),
        ));
    }
    if stream {
        // The upstream's own SSE bytes, chunk by chunk: nothing waits for the end.
        let frames = resp
            .bytes_stream()
            .map_err(move |e| LlmError::Unavailable(format!("upstream stream broke: {e}")))
            .boxed();
        return Ok(ResponsesReply::Stream { frames });
    }
    let body = resp.bytes().await.map_err(|e| send_error(&label, &e))?;
    Ok(ResponsesReply::Json { body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn chat_defaults_become_responses_parameters() {
        let chat = map(json!({
            "temperature": 0.2, "max_tokens": 100, "stop": ["x"], "seed": 1,
            "reasoning_effort": "low", "vendor_x": {"a": 1}, "user": "u",
        }));
        assert_eq!(
            Value::Object(defaults(&chat)),
            json!({
                "temperature": 0.2, "max_output_tokens": 100, "reasoning": {"effort": "low"},
                "vendor_x": {"a": 1}, "user": "u",
            })
        );
        let both =
            map(json!({"max_tokens": 1, "max_completion_tokens": 2, "max_output_tokens": 3}));
        assert_eq!(defaults(&both)["max_output_tokens"], 3);
        let completion = map(json!({"max_tokens": 1, "max_completion_tokens": 2}));
        assert_eq!(defaults(&completion)["max_output_tokens"], 2);
    }

    #[test]
    fn the_body_keeps_the_callers_fields_and_adds_absent_defaults() {
        let body = map(json!({
            "model": "public", "stream": false, "input": "hi", "temperature": 0.9,
            "mock_response": "no", "vendor_x": [1],
        }));
        let defaults = map(json!({"temperature": 0.1, "max_output_tokens": 5, "model": "x"}));
        let upstream = UpstreamBody {
            body: &body,
            model: "gpt-up",
            stream: true,
            defaults: &defaults,
        };
        let sent: Value = serde_json::to_value(&upstream).unwrap_or_default();
        assert_eq!(
            sent,
            json!({
                "model": "gpt-up", "stream": true, "input": "hi", "temperature": 0.9,
                "vendor_x": [1], "max_output_tokens": 5,
            })
        );
    }
}
