//! OpenAI-compatible upstreams: the request passes through, the answer is relayed as it comes.
//!
//! Only `model` is rewritten (public name → upstream name) and LiteLLM-only fields are dropped.
//! A streamed answer is handed on as the upstream's own bytes, so the first token reaches the
//! client as soon as the upstream sends it.

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::{CallError, endpoint, error_body, send, send_error, status_error};
use crate::deployment::Deployment;
use crate::reply::usage_of;
use crate::{ChatReply, ChatRequest, LlmError};

pub(crate) async fn chat(
    client: &reqwest::Client,
    deployment: &Deployment,
    req: &ChatRequest,
) -> Result<ChatReply, CallError> {
    let label = deployment.upstream_label();
    // A stream is tapped for its usage when someone pays for it, or when the client asked
    // for the usage chunk anyway (then it costs nothing to read it on the way).
    let metering =
        req.stream && req.meter_usage && (deployment.has_prices() || req.include_usage());
    let body = req.passthrough_body(
        &deployment.upstream_model,
        &deployment.defaults,
        metering && !req.include_usage(),
    );
    let mut builder = client
        .post(endpoint(deployment)?)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(key) = &deployment.api_key {
        builder = builder.bearer_auth(key);
    }

    let resp = send(builder, deployment, req.stream).await?;
    let status = resp.status();
    if !status.is_success() {
        let body = error_body(resp).await;
        return Err(status_error(
            &label,
            status.as_u16(),
            &openai_message(&body),
        ));
    }
    if req.stream {
        let frames = resp
            .bytes_stream()
            .map_err(move |e| LlmError::Unavailable(format!("upstream stream broke: {e}")))
            .boxed();
        let usage = crate::UsageSlot::default();
        if !metering {
            // The common case: the upstream's bytes, untouched.
            return Ok(ChatReply::Stream { frames, usage });
        }
        let frames = super::usage_tap::tap(frames, usage.clone(), !req.include_usage());
        return Ok(ChatReply::Stream { frames, usage });
    }
    let body = resp.bytes().await.map_err(|e| send_error(&label, &e))?;
    // Usage is logged for every call; reading it is one parse of a body already in memory.
    let usage = if req.meter_usage {
        usage_of(&body)
    } else {
        None
    };
    Ok(ChatReply::Json { body, usage })
}

/// `error.message` of an OpenAI error body, or the body itself as text.
pub(crate) fn openai_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .and_then(|e| e.get("message").or(Some(e)))
                .map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(2000).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_read_from_openai_bodies_or_raw_text() {
        assert_eq!(
            openai_message(br#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(openai_message(br#"{"error":"plain"}"#), "plain");
        assert_eq!(openai_message(b"Bad Gateway"), "Bad Gateway");
    }
}
