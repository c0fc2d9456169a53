//! Per-server shared state: options, the request sequence number and the
//! record of received requests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderMap;
use serde_json::Value;

use crate::MockOptions;

/// One request as it arrived at the mock.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Request path, without the query string.
    pub path: String,
    /// Headers, grouped by name in order of first arrival; names are
    /// lowercase, values lossily decoded.
    pub headers: Vec<(String, String)>,
    /// The parsed JSON body; `Null` for an empty body, and a JSON string with
    /// the raw (lossily decoded) text when the body is not JSON.
    pub body: Value,
}

impl RecordedRequest {
    /// The first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// State shared by all handlers of one scripted server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) opts: MockOptions,
    seq: AtomicU64,
    records: Mutex<Vec<RecordedRequest>>,
}

impl Shared {
    pub(crate) fn new(opts: MockOptions) -> Shared {
        Shared {
            opts,
            seq: AtomicU64::new(0),
            records: Mutex::new(Vec::new()),
        }
    }

    /// Counts (and, when recording, records) an incoming request; returns its
    /// 1-based sequence number, used in response ids.
    pub(crate) fn accept(
        &self,
        path: &str,
        headers: &HeaderMap,
        raw: &[u8],
        parsed: Option<&Value>,
    ) -> u64 {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        if self.opts.record {
            let body = match parsed {
                Some(v) => v.clone(),
                None if raw.is_empty() => Value::Null,
                None => Value::String(String::from_utf8_lossy(raw).into_owned()),
            };
            let headers = headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let record = RecordedRequest {
                path: path.to_owned(),
                headers,
                body,
            };
            self.lock().push(record);
        }
        n
    }

    /// Waits for the configured [`MockOptions::latency`].
    pub(crate) async fn latency(&self) {
        if !self.opts.latency.is_zero() {
            tokio::time::sleep(self.opts.latency).await;
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    pub(crate) fn count(&self) -> usize {
        usize::try_from(self.seq.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        // A panicking test thread must not hide the requests from others.
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
