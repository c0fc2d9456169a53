//! Server-Sent Events framing for streamed LLM responses.
//!
//! Upstream providers stream over HTTP as `text/event-stream`, and the network
//! hands us that stream in arbitrary byte chunks: a chunk can end in the middle
//! of a line, of a `\r\n` pair, or of a multi-byte UTF-8 character. The gateway
//! must re-frame those bytes into whole events before it can translate them
//! (for example Anthropic's event stream into OpenAI chunks), so the decoder
//! here is incremental and keeps every partial state between calls.
//!
//! Parsing follows the WHATWG "event stream interpretation" rules, because
//! that is what every client library implements and providers rely on:
//! `\n`, `\r\n` and `\r` all end a line, lines starting with `:` are comments,
//! one optional space after the field colon is stripped, several `data:` lines
//! are joined with `\n`, and a blank line dispatches the event. `id:` and
//! `retry:` are accepted and ignored because a proxy never reconnects on the
//! client's behalf.
//!
//! The decoder never panics. Bytes that are not valid UTF-8 are replaced with
//! U+FFFD instead of failing the stream, as the WHATWG decoder does. An event
//! still unterminated when it reaches [`MAX_EVENT_BYTES`] is dropped whole (a
//! `tracing` warning is logged) and everything up to the next blank line is
//! skipped: a truncated event would be worse than a missing one because its
//! JSON could no longer parse, and the cap keeps a misbehaving upstream from
//! making the gateway buffer without bound.

use bytes::Bytes;

/// Largest unterminated event the decoder buffers (16 MiB) before dropping it.
///
/// Far larger than any legitimate chunk from an LLM provider, yet small enough
/// that many concurrent broken streams cannot exhaust memory.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name; `None` when absent or empty (the spec's "message").
    pub event: Option<String>,
    /// All `data:` lines of the event joined with `\n`.
    pub data: String,
}

/// Incremental decoder: feed it chunks as they arrive, collect whole events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line being read; kept as bytes so that a UTF-8 character
    /// split across chunks is only decoded once it is whole.
    line: Vec<u8>,
    /// `data` lines of the pending event, already joined with `\n`.
    data: String,
    /// Whether the pending event has any `data` field; an event made only of
    /// `data:` with an empty value is still dispatched, one with none is not.
    has_data: bool,
    event: Option<String>,
    /// The previous chunk ended with `\r`: a `\n` opening the next chunk is
    /// the second half of that line break, not an extra (blank) line.
    skip_lf: bool,
    /// Whether the first line has been seen, so a leading BOM is stripped once.
    started: bool,
    /// An oversized event is being skipped until the next blank line.
    discarding: bool,
    /// While discarding, whether the current line has any bytes (only its
    /// emptiness matters, so its contents are not kept).
    discard_line_nonempty: bool,
}

impl SseDecoder {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk of the stream and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let mut i = 0;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                i = 1;
            }
        }
        while i < chunk.len() {
            let rest = &chunk[i..];
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    self.extend_line(rest);
                    break;
                }
                Some(end) => {
                    self.extend_line(&rest[..end]);
                    i += end + 1;
                    if rest[end] == b'\r' {
                        match chunk.get(i) {
                            Some(b'\n') => i += 1,
                            Some(_) => {}
                            None => self.skip_lf = true,
                        }
                    }
                    self.end_line(&mut out);
                }
            }
        }
        out
    }

    /// Ends the stream: returns the last event if the upstream closed without
    /// the blank line that should have terminated it, and resets the decoder.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut out = Vec::new();
        let partial_line = if self.discarding {
            self.discard_line_nonempty
        } else {
            !self.line.is_empty()
        };
        if partial_line {
            self.end_line(&mut out);
        }
        // The oversized event is still being skipped: there is nothing to
        // return, so dropping the state below finishes the discard.
        let last = if self.discarding {
            None
        } else {
            self.dispatch(&mut out);
            out.pop()
        };
        *self = Self::default();
        last
    }

    fn pending_bytes(&self) -> usize {
        self.line.len().saturating_add(self.data.len())
    }

    fn extend_line(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.discarding {
            self.discard_line_nonempty = true;
            return;
        }
        if self.pending_bytes().saturating_add(bytes.len()) > MAX_EVENT_BYTES {
            tracing::warn!(
                limit = MAX_EVENT_BYTES,
                "SSE event exceeds the size limit; dropping it"
            );
            self.line = Vec::new();
            self.data = String::new();
            self.has_data = false;
            self.event = None;
            self.discarding = true;
            self.discard_line_nonempty = true;
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let first = !self.started;
        self.started = true;
        if self.discarding {
            if !self.discard_line_nonempty {
                // The blank line that ends the dropped event: resume parsing.
                self.discarding = false;
            }
            self.discard_line_nonempty = false;
            return;
        }
        let line = std::mem::take(&mut self.line);
        let mut bytes = line.as_slice();
        if first {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        if bytes.is_empty() {
            self.dispatch(out);
            return;
        }
        if bytes[0] == b':' {
            return;
        }
        let (name, value) = match bytes.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &bytes[colon + 1..];
                (&bytes[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (bytes, &b""[..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
                self.has_data = true;
            }
            b"event" => {
                self.event = if value.is_empty() {
                    None
                } else {
                    Some(String::from_utf8_lossy(value).into_owned())
                };
            }
            // `id`, `retry` and unknown fields carry nothing a proxy acts on.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if self.has_data {
            self.has_data = false;
            out.push(SseEvent {
                event,
                data: std::mem::take(&mut self.data),
            });
        }
    }
}

/// Encodes one OpenAI-style event: `data: <data>\n\n`, with no event name.
///
/// A `data` containing line breaks is written as one `data:` line per line,
/// because a raw newline would otherwise end the field early; decoders join
/// the lines back with `\n`. Compact JSON never contains one, so for JSON the
/// output is exactly `data: <json>\n\n`.
#[must_use]
pub fn encode_data(data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 8);
    let mut rest = data;
    loop {
        out.push_str("data: ");
        match rest.find(['\r', '\n']) {
            None => {
                out.push_str(rest);
                break;
            }
            Some(end) => {
                out.push_str(&rest[..end]);
                out.push('\n');
                let skip = if rest[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = &rest[end + skip..];
            }
        }
    }
    out.push_str("\n\n");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    fn decode_all(input: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = d.push(input);
        out.extend(d.finish());
        out
    }

    fn decode_bytewise(input: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for b in input {
            out.extend(d.push(std::slice::from_ref(b)));
        }
        out.extend(d.finish());
        out
    }

    const ANTHROPIC_SAMPLE: &str = "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n\
        event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n\
        : keep-alive comment\r\n\
        event: content_block_delta\r\ndata: {\"text\":\"héllo 🌍 — ok\"}\r\n\r\n";

    fn sample_events() -> Vec<SseEvent> {
        vec![
            ev(Some("message_start"), "{\"type\":\"message_start\"}"),
            ev(Some("ping"), "{\"type\": \"ping\"}"),
            ev(Some("content_block_delta"), "{\"text\":\"héllo 🌍 — ok\"}"),
        ]
    }

    #[test]
    fn single_event_lf() {
        let mut d = SseDecoder::new();
        assert_eq!(d.push(b"data: hello\n\n"), vec![ev(None, "hello")]);
        assert_eq!(d.finish(), None);
    }

    #[test]
    fn event_name_and_data() {
        assert_eq!(
            decode_all(b"event: ping\ndata: {}\n\n"),
            vec![ev(Some("ping"), "{}")]
        );
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        assert_eq!(
            decode_all(b"event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"),
            vec![ev(Some("a"), "1"), ev(Some("b"), "2")]
        );
    }

    #[test]
    fn mixed_line_endings() {
        assert_eq!(
            decode_all(b"data: 1\r\n\ndata: 2\r\rdata: 3\n\r\n"),
            vec![ev(None, "1"), ev(None, "2"), ev(None, "3")]
        );
    }

    #[test]
    fn multi_line_data_joined_with_newline() {
        assert_eq!(
            decode_all(b"data: first\ndata: second\ndata:\ndata: fourth\n\n"),
            vec![ev(None, "first\nsecond\n\nfourth")]
        );
    }

    #[test]
    fn comments_are_ignored() {
        assert_eq!(
            decode_all(b": comment\ndata: x\n: another\n\n:only a comment\n\n"),
            vec![ev(None, "x")]
        );
    }

    #[test]
    fn no_space_after_colon_and_only_one_space_stripped() {
        assert_eq!(
            decode_all(b"event:name\ndata:value\n\ndata:  two spaces\n\n"),
            vec![ev(Some("name"), "value"), ev(None, " two spaces")]
        );
    }

    #[test]
    fn field_without_colon_has_empty_value() {
        // `data` alone is a data field with an empty value, so it dispatches.
        assert_eq!(decode_all(b"data\n\n"), vec![ev(None, "")]);
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_name_resets() {
        assert_eq!(
            decode_all(b"event: lonely\n\ndata: after\n\n"),
            vec![ev(None, "after")]
        );
    }

    #[test]
    fn empty_event_name_is_none() {
        assert_eq!(decode_all(b"event:\ndata: x\n\n"), vec![ev(None, "x")]);
    }

    #[test]
    fn id_retry_and_unknown_fields_ignored() {
        assert_eq!(
            decode_all(b"id: 7\nretry: 1000\nfoo: bar\ndata: x\n\n"),
            vec![ev(None, "x")]
        );
    }

    #[test]
    fn value_may_contain_colons() {
        assert_eq!(
            decode_all(b"data: {\"a\":\"b:c\"}\n\n"),
            vec![ev(None, "{\"a\":\"b:c\"}")]
        );
    }

    #[test]
    fn leading_bom_is_stripped_once() {
        assert_eq!(
            decode_all(b"\xEF\xBB\xBFdata: x\n\n\xEF\xBB\xBFdata: y\n\n"),
            // The second BOM is part of a field name, so that line is unknown.
            vec![ev(None, "x")]
        );
    }

    #[test]
    fn split_byte_by_byte_matches_whole() {
        let whole = decode_all(ANTHROPIC_SAMPLE.as_bytes());
        assert_eq!(whole, sample_events());
        assert_eq!(decode_bytewise(ANTHROPIC_SAMPLE.as_bytes()), whole);
    }

    #[test]
    fn every_two_way_split_matches_whole() {
        let input = ANTHROPIC_SAMPLE.as_bytes();
        for cut in 0..=input.len() {
            let mut d = SseDecoder::new();
            let mut out = d.push(&input[..cut]);
            out.extend(d.push(&input[cut..]));
            out.extend(d.finish());
            assert_eq!(out, sample_events(), "cut at {cut}");
        }
    }

    #[test]
    fn split_inside_crlf_does_not_create_blank_line() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"data: a\r").is_empty());
        // If the `\n` were taken as its own line the event would dispatch here.
        assert!(d.push(b"\n").is_empty());
        assert!(d.push(b"data: b\r").is_empty());
        assert!(d.push(b"").is_empty());
        assert!(d.push(b"\n").is_empty());
        assert_eq!(d.push(b"\r\n"), vec![ev(None, "a\nb")]);
    }

    #[test]
    fn split_inside_utf8_character() {
        let text = "data: 🌍é\n\n".as_bytes();
        // Cut inside the 4-byte emoji.
        let mut d = SseDecoder::new();
        assert!(d.push(&text[..8]).is_empty());
        assert_eq!(d.push(&text[8..]), vec![ev(None, "🌍é")]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            decode_all(b"data: a\xFFb\n\n"),
            vec![ev(None, "a\u{FFFD}b")]
        );
    }

    #[test]
    fn finish_returns_unterminated_event() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"event: last\ndata: {\"x\":1}").is_empty());
        assert_eq!(d.finish(), Some(ev(Some("last"), "{\"x\":1}")));
        // The decoder is reset and reusable.
        assert_eq!(d.finish(), None);
        assert_eq!(d.push(b"data: again\n\n"), vec![ev(None, "again")]);
    }

    #[test]
    fn finish_after_single_newline() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"data: x\n").is_empty());
        assert_eq!(d.finish(), Some(ev(None, "x")));
    }

    #[test]
    fn finish_with_only_comment_or_nothing() {
        let mut d = SseDecoder::new();
        assert_eq!(d.finish(), None);
        assert!(d.push(b": partial comment").is_empty());
        assert_eq!(d.finish(), None);
    }

    #[test]
    fn oversized_event_is_dropped_and_stream_recovers() {
        let mut d = SseDecoder::new();
        let big = vec![b'x'; 1024 * 1024];
        assert!(d.push(b"event: huge\ndata: ").is_empty());
        for _ in 0..17 {
            assert!(d.push(&big).is_empty());
        }
        assert!(d.data.is_empty() && d.line.is_empty(), "buffer was freed");
        assert!(d.push(b"\ndata: more of the same event\n").is_empty());
        assert_eq!(d.push(b"\ndata: next\n\n"), vec![ev(None, "next")]);
    }

    #[test]
    fn oversized_event_across_many_data_lines_is_dropped() {
        let mut d = SseDecoder::new();
        let line = [b"data: ".as_slice(), &vec![b'y'; 1024 * 1024], b"\n"].concat();
        for _ in 0..17 {
            assert!(d.push(&line).is_empty());
        }
        assert_eq!(d.push(b"\ndata: ok\n\n"), vec![ev(None, "ok")]);
    }

    #[test]
    fn oversized_unterminated_event_is_not_returned_by_finish() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"data: ").is_empty());
        assert!(d.push(&vec![b'z'; MAX_EVENT_BYTES + 1]).is_empty());
        assert_eq!(d.finish(), None);
        assert_eq!(d.push(b"data: fresh\n\n"), vec![ev(None, "fresh")]);
    }

    #[test]
    fn event_at_exactly_the_limit_is_kept() {
        let prefix = b"data: ";
        let payload = vec![b'a'; MAX_EVENT_BYTES - prefix.len()];
        let mut d = SseDecoder::new();
        assert!(d.push(prefix).is_empty());
        assert!(d.push(&payload).is_empty());
        let out = d.push(b"\n\n");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data.len(), payload.len());
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // Deterministic pseudo-random bytes biased towards the interesting ones.
        let alphabet = b"\r\n:data event \xEF\xBB\xBF\xFF\xC3\xA9x";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200 {
            let mut d = SseDecoder::new();
            for _ in 0..50 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let len = (state % 12) as usize;
                let chunk: Vec<u8> = (0..len)
                    .map(|k| alphabet[((state >> (k * 4)) as usize) % alphabet.len()])
                    .collect();
                let _ = d.push(&chunk);
            }
            let _ = d.finish();
        }
    }

    #[test]
    fn encode_data_openai_style() {
        assert_eq!(
            encode_data("{\"a\":1}"),
            Bytes::from_static(b"data: {\"a\":1}\n\n")
        );
        assert_eq!(
            encode_data("[DONE]"),
            Bytes::from_static(b"data: [DONE]\n\n")
        );
        assert_eq!(encode_data(""), Bytes::from_static(b"data: \n\n"));
    }

    #[test]
    fn encode_data_splits_newlines_and_round_trips() {
        let text = "a\nb\r\nc\rd";
        let encoded = encode_data(text);
        assert_eq!(
            encoded,
            Bytes::from_static(b"data: a\ndata: b\ndata: c\ndata: d\n\n")
        );
        assert_eq!(decode_all(&encoded), vec![ev(None, "a\nb\nc\nd")]);
        assert_eq!(decode_all(&encode_data("x\n")), vec![ev(None, "x\n")]);
    }
}
