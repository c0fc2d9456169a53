//! Anthropic Messages upstreams: translate the request, call, translate the answer back.
//!
//! The translation itself is pure and lives in [`crate::anthropic`]; this file is the I/O around
//! it. A streamed answer is decoded event by event and re-encoded as Chat Completions chunks as
//! each event arrives, so nothing waits for the end of the stream.

use std::collections::VecDeque;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value;

use super::{CallError, endpoint, error_body, send, send_error, status_error, with_defaults};
use crate::anthropic::{StreamTranslator, chat_to_messages, error_message, message_to_chat};
use crate::deployment::Deployment;
use crate::sse::{SseDecoder, encode_data};
use crate::{ChatReply, ChatRequest, LlmError, Usage};

const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; LiteLLM fills in this value when the client gives none.
const DEFAULT_MAX_TOKENS: u32 = 4096;

pub(crate) async fn chat(
    client: &reqwest::Client,
    deployment: &Deployment,
    req: &ChatRequest,
) -> Result<ChatReply, CallError> {
    let label = deployment.upstream_label();
    let body = with_defaults(req.to_map(), &deployment.defaults);
    let body =
        chat_to_messages(&body, &deployment.upstream_model, DEFAULT_MAX_TOKENS).map_err(|e| {
            CallError::Final {
                reason: "translate",
                error: LlmError::InvalidRequest(e.to_string()),
            }
        })?;
    let mut builder = client
        .post(endpoint(deployment)?)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("anthropic-version", API_VERSION)
        .body(body.to_string());
    if let Some(key) = &deployment.api_key {
        builder = builder.header("x-api-key", key);
    }
    let resp = send(builder, deployment, req.stream).await?;
    let status = resp.status();
    if !status.is_success() {
        let body = error_body(resp).await;
        let message = error_message(&body)
            .map(|(kind, message)| format!("{kind}: {message}"))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(2000).collect());
        return Err(status_error(&label, status.as_u16(), &message));
    }

    if req.stream {
        let upstream = resp.bytes_stream().boxed();
        let metering = req.meter_usage && (deployment.has_prices() || req.include_usage());
        let translator = StreamTranslator::new(&req.model, req.include_usage() || metering);
        let frames = translate_stream(upstream, translator);
        let usage = crate::UsageSlot::default();
        let frames = if metering {
            super::usage_tap::tap(frames, usage.clone(), !req.include_usage())
        } else {
            frames
        };
        return Ok(ChatReply::Stream { frames, usage });
    }
    let bytes = resp.bytes().await.map_err(|e| send_error(&label, &e))?;
    let message: Value = serde_json::from_slice(&bytes).map_err(|e| CallError::Failover {
        reason: "invalid_body",
        error: LlmError::Unavailable(format!("upstream {label} sent invalid JSON: {e}")),
    })?;
    let chat = message_to_chat(&message, &req.model).map_err(|e| CallError::Failover {
        reason: "invalid_body",
        error: LlmError::Unavailable(format!("upstream {label}: {e}")),
    })?;
    let usage = chat.get("usage").and_then(|u| {
        Some(Usage {
            prompt_tokens: u.get("prompt_tokens")?.as_u64()?,
            completion_tokens: u.get("completion_tokens")?.as_u64()?,
        })
    });
    Ok(ChatReply::Json {
        body: Bytes::from(chat.to_string()),
        usage,
    })
}

struct StreamState {
    upstream: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: SseDecoder,
    translator: StreamTranslator,
    pending: VecDeque<Bytes>,
    /// Delivered after the chunks translated before it, then the stream ends.
    failure: Option<LlmError>,
    done: bool,
}

impl StreamState {
    /// Feeds decoded events to the translator; an upstream `error` event ends the stream.
    fn feed(&mut self, events: Vec<crate::sse::SseEvent>) -> Result<(), LlmError> {
        for event in events {
            let chunks = self
                .translator
                .push(&event)
                .map_err(|e| LlmError::Unavailable(e.to_string()))?;
            for chunk in chunks {
                self.pending.push_back(encode_data(&chunk.to_string()));
            }
        }
        Ok(())
    }
}

fn translate_stream(
    upstream: BoxStream<'static, reqwest::Result<Bytes>>,
    translator: StreamTranslator,
) -> crate::ChatStream {
    let state = StreamState {
        upstream,
        decoder: SseDecoder::new(),
        translator,
        pending: VecDeque::new(),
        failure: None,
        done: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(frame) = s.pending.pop_front() {
                return Some((Ok(frame), s));
            }
            if s.done {
                return s.failure.take().map(|e| (Err(e), s));
            }
            let result = match s.upstream.next().await {
                Some(Ok(chunk)) => {
                    let events = s.decoder.push(&chunk);
                    s.feed(events)
                }
                Some(Err(e)) => Err(LlmError::Unavailable(format!("upstream stream broke: {e}"))),
                None => {
                    s.done = true;
                    let tail = s.decoder.finish().into_iter().collect();
                    s.feed(tail).and_then(|()| {
                        if s.translator.finished() {
                            s.pending.push_back(encode_data("[DONE]"));
                            Ok(())
                        } else {
                            Err(LlmError::Unavailable(
                                "upstream stream ended before message_stop".into(),
                            ))
                        }
                    })
                }
            };
            if let Err(e) = result {
                s.done = true;
                s.failure = Some(e);
            }
        }
    })
    .boxed()
}
