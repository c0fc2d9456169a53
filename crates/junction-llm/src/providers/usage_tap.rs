//! Reads the usage chunk out of a Chat Completions stream as it passes, so a streamed answer can
//! be charged like a complete one.
//!
//! Only used when spend is metered: the stream is then decoded into events and re-encoded one by
//! one (still without waiting for the end). When the usage chunk was requested only for
//! metering, it is removed, because clients that did not ask for it may index `choices[0]` of
//! every chunk.

use std::collections::VecDeque;

use futures_util::StreamExt;
use serde_json::Value;

use crate::sse::{SseDecoder, encode_data};
use crate::{ChatStream, Usage, UsageSlot};

pub(crate) fn tap(frames: ChatStream, slot: UsageSlot, strip_usage_chunk: bool) -> ChatStream {
    let state = (frames, SseDecoder::new(), VecDeque::new(), false);
    futures_util::stream::unfold(
        state,
        move |(mut frames, mut decoder, mut out, mut ended)| {
            let slot = slot.clone();
            async move {
                loop {
                    if let Some(item) = out.pop_front() {
                        return Some((item, (frames, decoder, out, ended)));
                    }
                    if ended {
                        return None;
                    }
                    match frames.next().await {
                        Some(Ok(bytes)) => {
                            for event in decoder.push(&bytes) {
                                if let Some(frame) = inspect(&event.data, &slot, strip_usage_chunk)
                                {
                                    out.push_back(Ok(frame));
                                }
                            }
                        }
                        Some(Err(error)) => out.push_back(Err(error)),
                        None => {
                            ended = true;
                            if let Some(event) = decoder.finish()
                                && let Some(frame) = inspect(&event.data, &slot, strip_usage_chunk)
                            {
                                out.push_back(Ok(frame));
                            }
                        }
                    }
                }
            }
        },
    )
    .boxed()
}

/// Records usage if `data` carries it; returns the frame to forward, if any.
fn inspect(data: &str, slot: &UsageSlot, strip_usage_chunk: bool) -> Option<bytes::Bytes> {
    // Most chunks have no usage object (`"usage":null` at most): skip parsing them.
    if data.contains("\"usage\"")
        && data.contains("\"prompt_tokens\"")
        && let Ok(chunk) = serde_json::from_str::<Value>(data)
        && let Some(usage) = chunk.get("usage").filter(|u| u.is_object())
    {
        slot.set(Usage {
            prompt_tokens: usage
                .get("prompt_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            completion_tokens: usage
                .get("completion_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        });
        let usage_only = chunk
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty);
        if strip_usage_chunk && usage_only {
            return None;
        }
    }
    Some(encode_data(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    async fn run(input: &[&str], strip: bool) -> (String, Option<Usage>) {
        let frames: Vec<Result<bytes::Bytes, crate::LlmError>> = input
            .iter()
            .map(|s| Ok(bytes::Bytes::from(s.to_string())))
            .collect();
        let slot = UsageSlot::default();
        let out: Vec<_> = tap(stream::iter(frames).boxed(), slot.clone(), strip)
            .collect()
            .await;
        let text = out
            .into_iter()
            .map(|r| String::from_utf8(r.unwrap_or_default().to_vec()).unwrap_or_default())
            .collect();
        (text, slot.get())
    }

    const CHUNK: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n";
    const USAGE: &str =
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5}}\n\n";

    #[tokio::test]
    async fn records_usage_and_strips_the_chunk_only_when_asked() {
        let split_usage = [&USAGE[..20], &USAGE[20..]];
        let input = [CHUNK, split_usage[0], split_usage[1], "data: [DONE]\n\n"];
        let (text, usage) = run(&input, true).await;
        assert_eq!(
            usage,
            Some(Usage {
                prompt_tokens: 3,
                completion_tokens: 5
            })
        );
        assert_eq!(text, format!("{CHUNK}data: [DONE]\n\n"));
        let (text, _) = run(&input, false).await;
        assert_eq!(text, format!("{CHUNK}{USAGE}data: [DONE]\n\n"));
    }

    #[tokio::test]
    async fn a_stream_without_usage_reports_none() {
        let (text, usage) = run(&[CHUNK, "data: [DONE]\n\n"], true).await;
        assert_eq!(usage, None);
        assert!(text.ends_with("[DONE]\n\n"));
    }
}
