//! Server-sent events from an HTTP response body: chunks in, whole events out.
//!
//! Both HTTP transports read event streams: the legacy HTTP+SSE transport's long-lived GET
//! ([`super::sse`]) and the answers of streamable HTTP POSTs the client reads itself
//! ([`super::post`]). The decoder follows the WHATWG event-stream rules (any line ending,
//! comments, one optional space after the colon, multi-line data, `id` and `retry`), with a
//! size cap per event; input never makes it panic.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::sse::describe;

/// Largest event the decoder buffers (16 MiB); a bigger one is dropped whole with a warning.
///
/// Far above any real MCP message (a large `resources/read` is a few MiB), small enough that
/// a broken or hostile server cannot make the gateway buffer without bound.
pub(crate) const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The event stream: response body chunks in, whole events out.
pub(crate) struct EventSource {
    server: String,
    /// `None` once the stream ended, failed or was closed.
    body: Option<ByteStream>,
    /// The stream is an answer's, whose end is expected: not worth a log line.
    quiet_end: bool,
    decoder: Decoder,
    ready: VecDeque<Event>,
}

impl EventSource {
    pub(crate) fn new(
        server: &str,
        body: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    ) -> Self {
        EventSource {
            server: server.to_owned(),
            body: Some(Box::pin(body)),
            quiet_end: false,
            decoder: Decoder::default(),
            ready: VecDeque::new(),
        }
    }

    /// [`EventSource::new`] for the stream of one answer, whose end is not logged.
    pub(crate) fn answer(
        server: &str,
        body: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    ) -> Self {
        EventSource {
            quiet_end: true,
            ..Self::new(server, body)
        }
    }

    /// The next whole event, or `None` once the stream is over. Cancel-safe: a chunk is only
    /// taken from the body when the await completes, and everything decoded is kept.
    pub(crate) async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            let body = self.body.as_mut()?;
            match body.next().await {
                Some(Ok(chunk)) => self.ready.extend(self.decoder.push(&chunk)),
                Some(Err(error)) => {
                    tracing::info!(
                        server = %self.server,
                        error = %describe(&error),
                        "MCP SSE stream broke"
                    );
                    self.stop();
                }
                None if self.quiet_end => self.stop(),
                None => {
                    tracing::info!(server = %self.server, "MCP SSE stream ended");
                    self.stop();
                }
            }
        }
    }

    /// Drops the body (closing the connection) and whatever was not yet delivered.
    pub(crate) fn stop(&mut self) {
        self.body = None;
        self.ready.clear();
        let last_event_id = self.decoder.last_event_id.take();
        let retry = self.decoder.retry;
        self.decoder = Decoder {
            last_event_id,
            retry,
            ..Decoder::default()
        };
    }

    /// The last event id the stream gave, kept after it ended: a client resuming the stream
    /// sends it as `Last-Event-ID`.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.decoder.last_event_id.as_deref()
    }

    /// The reconnection delay the server asked for (`retry`), if it did.
    pub(crate) fn retry(&self) -> Option<Duration> {
        self.decoder.retry
    }
}

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The `event:` field, `message` when absent or empty (as browsers do).
    pub(crate) name: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
}

/// Incremental WHATWG event-stream decoder. Chunks may split lines, `\r\n` pairs and UTF-8
/// characters anywhere, so all partial state is kept between [`Decoder::push`] calls.
#[derive(Debug, Default)]
struct Decoder {
    /// The line being read, as bytes so a split UTF-8 character is decoded only when whole.
    line: Vec<u8>,
    /// `data` lines of the pending event, each followed by `\n`.
    data: String,
    /// Whether the pending event has a `data` field at all (an event without one is not
    /// dispatched; one with an empty `data:` is).
    has_data: bool,
    name: String,
    /// The last chunk ended with `\r`: a `\n` starting the next one completes that line break.
    pending_cr: bool,
    /// The first line has been read (a byte-order mark is stripped from it only).
    started: bool,
    /// An oversized event is being skipped up to its terminating blank line.
    skipping: bool,
    /// While skipping: whether the current line has any bytes (only that matters).
    skipped_line_nonempty: bool,
    /// The last `id` field seen: what a client resuming the stream sends as `Last-Event-ID`.
    /// Unlike the other fields it outlives the event it came with.
    last_event_id: Option<String>,
    /// The reconnection delay the server asked for with `retry`.
    retry: Option<Duration>,
}

impl Decoder {
    /// Feeds one chunk; returns the events it completed, in order.
    fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        let mut rest = chunk;
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                rest = tail;
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&rest[..end]);
            let is_cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if is_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            self.end_line(&mut out);
        }
        self.extend_line(rest);
        out
    }

    fn extend_line(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.skipping {
            self.skipped_line_nonempty = true;
            return;
        }
        let pending = self.line.len() + self.data.len() + self.name.len();
        if pending.saturating_add(bytes.len()) > MAX_EVENT_BYTES {
            tracing::warn!(
                limit = MAX_EVENT_BYTES,
                "MCP SSE event exceeds the size limit; dropping it"
            );
            self.reset_event();
            self.line = Vec::new();
            self.skipping = true;
            self.skipped_line_nonempty = true;
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self, out: &mut Vec<Event>) {
        if self.skipping {
            // The blank line that ends the oversized event ends the skipping too.
            if !std::mem::take(&mut self.skipped_line_nonempty) {
                self.skipping = false;
            }
            return;
        }
        let raw = std::mem::take(&mut self.line);
        let mut line: &[u8] = &raw;
        if !self.started {
            self.started = true;
            if let Some(tail) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = tail;
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.first() == Some(&b':') {
            return; // a comment, often a keep-alive
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
                self.has_data = true;
            }
            b"event" => self.name = String::from_utf8_lossy(value).into_owned(),
            // A NUL makes the id invalid, and the field is then ignored (WHATWG).
            b"id" if !value.contains(&0) => {
                self.last_event_id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Some(millis) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    self.retry = Some(Duration::from_millis(millis));
                }
            }
            // Unknown fields are ignored (the spec says so).
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        if self.has_data {
            let mut data = std::mem::take(&mut self.data);
            data.pop(); // the `\n` after the last data line
            let name = match std::mem::take(&mut self.name) {
                name if name.is_empty() => "message".to_owned(),
                name => name,
            };
            out.push(Event { name, data });
        }
        self.reset_event();
    }

    fn reset_event(&mut self) {
        self.data = String::new();
        self.has_data = false;
        self.name = String::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut decoder = Decoder::default();
        chunks
            .iter()
            .flat_map(|chunk| decoder.push(chunk))
            .map(|e| (e.name, e.data))
            .collect()
    }

    fn ev(name: &str, data: &str) -> (String, String) {
        (name.to_owned(), data.to_owned())
    }

    #[test]
    fn endpoint_then_messages_with_default_name() {
        let stream = b"event: endpoint\ndata: /message?sessionId=abc\n\n\
                       event: message\ndata: {\"a\":1}\n\n\
                       data: {\"b\":2}\n\n";
        assert_eq!(
            events(&[stream]),
            vec![
                ev("endpoint", "/message?sessionId=abc"),
                ev("message", "{\"a\":1}"),
                ev("message", "{\"b\":2}"),
            ]
        );
    }

    #[test]
    fn every_line_ending_and_every_split_point() {
        let stream: &[u8] =
            b"event: endpoint\r\ndata: /m\r\n\r\ndata: x\rdata:y\r\r: c\n\ndata:\n\n";
        let expected = vec![
            ev("endpoint", "/m"),
            ev("message", "x\ny"),
            ev("message", ""),
        ];
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(events(&[a, b]), expected, "split at {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(events(&bytes), expected);
    }

    #[test]
    fn split_utf8_bom_comments_and_unknown_fields() {
        let stream =
            "\u{feff}: keep-alive\nid: 7\nretry: 10\nfoo: bar\nevent:message\ndata:  é€\n\n"
                .as_bytes();
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(
                events(&[a, b]),
                vec![ev("message", " é€")],
                "split at {split}"
            );
        }
    }

    #[test]
    fn events_without_data_or_unterminated_are_not_dispatched() {
        assert!(events(&[b"event: endpoint\n\n"]).is_empty());
        assert!(events(&[b"data: half an event"]).is_empty());
        // The name of a data-less event does not leak into the next one.
        assert_eq!(
            events(&[b"event: x\n\ndata: 1\n\n"]),
            vec![ev("message", "1")]
        );
        // A field without a colon is a field with an empty value.
        assert_eq!(events(&[b"data\n\n"]), vec![ev("message", "")]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            events(&[b"data: \xff\xfe\n\n"]),
            vec![ev("message", "\u{fffd}\u{fffd}")]
        );
    }

    #[test]
    fn oversized_event_is_dropped_and_the_stream_goes_on() {
        let mut decoder = Decoder::default();
        let big = vec![b'x'; 1024 * 1024];
        assert!(decoder.push(b"data: ").is_empty());
        for _ in 0..17 {
            assert!(decoder.push(&big).is_empty());
        }
        assert!(decoder.push(b"\ndata: more of the same event\n").is_empty());
        let after = decoder.push(b"\ndata: next\n\n");
        assert_eq!(
            after,
            vec![Event {
                name: "message".into(),
                data: "next".into()
            }]
        );
        assert!(decoder.line.capacity() < MAX_EVENT_BYTES);
    }

    #[test]
    fn ids_outlive_their_event_and_retry_needs_digits() {
        let mut source = EventSource::answer("s", futures_util::stream::empty());
        let stream: &[u8] = b"id: 1\nretry: 2500\ndata:\n\nretry: soon\ndata: {}\n\n\
                              id: 2\0\ndata: x\n\n";
        assert_eq!(source.decoder.push(stream).len(), 3);
        assert_eq!(
            source.last_event_id(),
            Some("1"),
            "an id with a NUL is ignored"
        );
        assert_eq!(source.retry(), Some(Duration::from_millis(2500)));
        source.decoder.push(b"id: 3\n\n");
        source.stop();
        assert_eq!(
            source.last_event_id(),
            Some("3"),
            "kept after the stream stopped"
        );
        // An empty id is an id: it resets what a resumption would send.
        source.decoder.push(b"id\n\n");
        assert_eq!(source.last_event_id(), Some(""));
    }
}
