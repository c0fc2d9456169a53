//! Server-sent events, decoded from a byte stream as it arrives.
//!
//! Only what the Responses API uses: `event:` and `data:` fields, events ended by a blank
//! line, `\n` or `\r\n` line ends, comments (`:`) ignored. Bytes are buffered until a whole
//! line is there, so a chunk boundary in the middle of a multi-byte character is harmless.

/// One event: its `event:` name (empty when absent) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

/// Turns chunks of bytes into events.
#[derive(Default)]
pub struct Decoder {
    pending: Vec<u8>,
    name: String,
    data: Vec<String>,
}

impl Decoder {
    /// Feeds one chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(Event {
                        name: std::mem::take(&mut self.name),
                        data: self.data.join("\n"),
                    });
                    self.data.clear();
                } else {
                    self.name.clear();
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.name = value.to_owned(),
                "data" => self.data.push(value.to_owned()),
                _ => {}
            }
        }
        events
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn events_across_chunk_boundaries() {
        let stream = "event: response.created\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: response.output_text.delta\r\ndata: {\"delta\":\"h\u{e9}\"}\r\n\r\n";
        let bytes = stream.as_bytes();
        for split in 0..bytes.len() {
            let mut decoder = Decoder::default();
            let mut events = decoder.push(&bytes[..split]);
            events.extend(decoder.push(&bytes[split..]));
            assert_eq!(
                events,
                vec![
                    Event {
                        name: "response.created".into(),
                        data: "{\"a\":1}".into()
                    },
                    Event {
                        name: "response.output_text.delta".into(),
                        data: "{\"delta\":\"h\u{e9}\"}".into()
                    },
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn data_lines_join_and_unnamed_events() {
        let mut decoder = Decoder::default();
        let events = decoder.push(b"data: one\ndata: two\n\ndata: [DONE]\n\n");
        assert_eq!(events[0].data, "one\ntwo");
        assert_eq!(events[0].name, "");
        assert_eq!(events[1].data, "[DONE]");
    }

    #[test]
    fn an_unfinished_event_waits() {
        let mut decoder = Decoder::default();
        assert!(decoder.push(b"event: x\ndata: y\n").is_empty());
        assert_eq!(decoder.push(b"\n").len(), 1);
    }
}
