//! The output of a response as it is built, and, when streaming, its events.
//!
//! One [`Emitter`] serves both modes so that they cannot disagree: every item is added and
//! finished through it, and the streamed events are a by-product (`event: <type>` +
//! `data: <json>` with a strictly increasing `sequence_number`, `output_index` = the item's
//! position in `output`, `item_id` = its id). Without a stream it only keeps `output`.
//!
//! Events are buffered and go out together at [`Emitter::flush`], which the loop calls
//! whenever it is about to wait on something outside (a model call, an upstream frame
//! that has not arrived yet, an MCP call, the store): a burst of events then costs the
//! client one write instead of one per event (measured in `bench/responses.sh`: about
//! 35 socket writes per streamed one-round response before, 6 after), and no event
//! waits longer than the work that produced it.
//!
//! A client that goes away does not stop the response: the loop finishes and the response
//! is stored, so tools that ran are not run again when the client retries from the stored
//! state; only sending stops.

use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::ids::new_id;

/// Past this many buffered bytes an event flushes at once, so a long burst streams.
const FLUSH_AT: usize = 32 * 1024;

pub(crate) struct Emitter {
    stream: Option<mpsc::Sender<Bytes>>,
    /// Framed events not yet sent.
    pending: Vec<u8>,
    sequence: u64,
    pub output: Vec<Value>,
    message: Option<OpenMessage>,
}

/// The assistant message whose text is arriving.
struct OpenMessage {
    index: usize,
    id: String,
    text: String,
}

impl Emitter {
    pub fn new(stream: Option<mpsc::Sender<Bytes>>) -> Emitter {
        Emitter {
            stream,
            pending: Vec::new(),
            sequence: 0,
            output: Vec::new(),
            message: None,
        }
    }

    pub fn streaming(&self) -> bool {
        self.stream.is_some()
    }

    /// Frames one event into the buffer (no-op without a stream).
    pub async fn event(&mut self, kind: &str, mut payload: Map<String, Value>) {
        if self.stream.is_none() {
            return;
        }
        payload.insert("type".into(), kind.into());
        payload.insert("sequence_number".into(), self.sequence.into());
        self.sequence += 1;
        let start = self.pending.len();
        self.pending.extend_from_slice(b"event: ");
        self.pending.extend_from_slice(kind.as_bytes());
        self.pending.extend_from_slice(b"\ndata: ");
        if let Err(error) = serde_json::to_writer(&mut self.pending, &payload) {
            // Only a map with non-string keys can fail here; a `Map` has none.
            tracing::error!(%error, kind, "responses: an event could not be serialized");
            self.pending.truncate(start);
            return;
        }
        self.pending.extend_from_slice(b"\n\n");
        if self.pending.len() >= FLUSH_AT {
            self.flush().await;
        }
    }

    /// Sends the buffered events as one frame.
    pub async fn flush(&mut self) {
        let Some(stream) = &self.stream else {
            return;
        };
        if self.pending.is_empty() {
            return;
        }
        let frame = Bytes::from(std::mem::take(&mut self.pending));
        if stream.send(frame).await.is_err() {
            tracing::debug!("responses: the client left the stream; finishing without it");
            self.stream = None;
        }
    }

    /// `response.created`, `response.completed`, …: the whole response as it stands.
    pub async fn response_event(&mut self, kind: &str, response: Value) {
        if self.streaming() {
            self.event(kind, object(json!({ "response": response })))
                .await;
        }
    }

    /// Adds an item to `output` and announces it; returns its `output_index`.
    pub async fn add(&mut self, item: Value) -> usize {
        let index = self.output.len();
        if !self.streaming() {
            self.output.push(item);
            return index;
        }
        self.output.push(item.clone());
        self.event(
            "response.output_item.added",
            object(json!({"output_index": index, "item": item})),
        )
        .await;
        index
    }

    /// Replaces the item at `index` with its final form and announces it.
    pub async fn done(&mut self, index: usize, item: Value) {
        if !self.streaming() {
            if let Some(slot) = self.output.get_mut(index) {
                *slot = item;
            }
            return;
        }
        if let Some(slot) = self.output.get_mut(index) {
            *slot = item.clone();
        }
        self.event(
            "response.output_item.done",
            object(json!({"output_index": index, "item": item})),
        )
        .await;
    }

    /// An event about the item at `index` (`item_id` and `output_index` filled in).
    pub async fn item_event(&mut self, kind: &str, index: usize, extra: Value) {
        if !self.streaming() {
            return;
        }
        let item_id = self
            .output
            .get(index)
            .and_then(|item| item.get("id"))
            .cloned()
            .unwrap_or(Value::Null);
        let mut payload = object(extra);
        payload.insert("item_id".into(), item_id);
        payload.insert("output_index".into(), index.into());
        self.event(kind, payload).await;
    }

    /// Text from the model: opens the assistant message on the first piece.
    pub async fn text_delta(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        if self.message.is_none() {
            let id = new_id("msg_");
            let item = json!({"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []});
            let index = self.add(item).await;
            self.item_event(
                "response.content_part.added",
                index,
                json!({"content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
            )
            .await;
            self.message = Some(OpenMessage {
                index,
                id,
                text: String::new(),
            });
        }
        let Some(index) = self.message.as_ref().map(|m| m.index) else {
            return;
        };
        self.item_event(
            "response.output_text.delta",
            index,
            json!({"content_index": 0, "delta": delta, "logprobs": []}),
        )
        .await;
        if let Some(message) = &mut self.message {
            message.text.push_str(delta);
        }
    }

    /// Ends the assistant message, if one is open, with `status`; returns it.
    pub async fn close_message(&mut self, status: &str) -> Option<Value> {
        let message = self.message.take()?;
        let part = json!({"type": "output_text", "text": message.text, "annotations": []});
        self.item_event(
            "response.output_text.done",
            message.index,
            json!({"content_index": 0, "text": message.text, "logprobs": []}),
        )
        .await;
        self.item_event(
            "response.content_part.done",
            message.index,
            json!({"content_index": 0, "part": part}),
        )
        .await;
        let item = json!({"type": "message", "id": message.id, "status": status, "role": "assistant", "content": [part]});
        self.done(message.index, item.clone()).await;
        Some(item)
    }
}

pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn events_number_in_order_and_name_their_item() {
        let (tx, mut rx) = mpsc::channel(64);
        let mut emitter = Emitter::new(Some(tx));
        emitter.text_delta("Hel").await;
        emitter.text_delta("lo").await;
        let item = emitter.close_message("completed").await.unwrap();
        assert!(rx.try_recv().is_err(), "events wait for a flush");
        emitter.flush().await;
        drop(emitter);
        let mut events = Vec::new();
        let mut frames = 0;
        while let Some(frame) = rx.recv().await {
            frames += 1;
            let text = String::from_utf8(frame.to_vec()).unwrap();
            for block in text.split("\n\n").filter(|b| !b.is_empty()) {
                let data = block.split_once("data: ").unwrap().1.trim();
                events.push(serde_json::from_str::<Value>(data).unwrap());
            }
        }
        assert_eq!(frames, 1, "one flush, one frame");
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done"
            ]
        );
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event["sequence_number"], i);
        }
        assert_eq!(events[2]["item_id"], item["id"]);
        assert_eq!(events[4]["text"], "Hello");
        assert_eq!(item["content"][0]["text"], "Hello");
    }

    #[tokio::test]
    async fn without_a_stream_only_the_output_is_kept() {
        let mut emitter = Emitter::new(None);
        emitter.text_delta("x").await;
        let index = emitter
            .add(json!({"type": "mcp_call", "id": "mcp_1"}))
            .await;
        emitter.close_message("completed").await;
        assert_eq!(index, 1);
        assert_eq!(emitter.output.len(), 2);
        assert_eq!(emitter.output[0]["status"], "completed");
    }
}
