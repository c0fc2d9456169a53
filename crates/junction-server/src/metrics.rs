//! Prometheus metrics, rendered in the text exposition format at `GET /metrics`.
//!
//! A handful of fixed series, so a small registry here beats a metrics framework: request
//! counts and latency histograms by route, model and status; upstream failures by model,
//! upstream and reason; and the number of streams being relayed right now.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    upstream_errors: Mutex<BTreeMap<(String, String, String), u64>>,
    streams_in_flight: AtomicI64,
}

impl Metrics {
    pub fn observe_request(&self, route: &str, model: &str, status: u16, latency: Duration) {
        let secs = latency.as_secs_f64();
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let h = requests
            .entry((route.to_owned(), model.to_owned(), status))
            .or_default();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            h.counts[i] += 1;
        }
        h.sum += secs;
        h.total += 1;
    }

    pub fn upstream_error(&self, model: &str, upstream: &str, reason: &str) {
        let mut errors = self
            .upstream_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *errors
            .entry((model.to_owned(), upstream.to_owned(), reason.to_owned()))
            .or_default() += 1;
    }

    /// Counts a stream as in flight until the returned guard is dropped.
    pub fn stream_started(self: &std::sync::Arc<Self>) -> StreamGuard {
        self.streams_in_flight.fetch_add(1, Ordering::Relaxed);
        StreamGuard(self.clone())
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP junction_requests_total Requests handled, by route, model and status.\n",
        );
        out.push_str("# TYPE junction_requests_total counter\n");
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        for ((route, model, status), h) in requests.iter() {
            let _ = writeln!(
                out,
                "junction_requests_total{{route=\"{}\",model=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                escape(model),
                h.total
            );
        }
        out.push_str("# HELP junction_request_duration_seconds Time to the response headers.\n");
        out.push_str("# TYPE junction_request_duration_seconds histogram\n");
        for ((route, model, status), h) in requests.iter() {
            let labels = format!(
                "route=\"{}\",model=\"{}\",status=\"{status}\"",
                escape(route),
                escape(model)
            );
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "junction_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "junction_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.total
            );
            let _ = writeln!(
                out,
                "junction_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "junction_request_duration_seconds_count{{{labels}}} {}",
                h.total
            );
        }
        drop(requests);
        out.push_str(
            "# HELP junction_upstream_errors_total Failed upstream attempts, failovers included.\n",
        );
        out.push_str("# TYPE junction_upstream_errors_total counter\n");
        let errors = self
            .upstream_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for ((model, upstream, reason), n) in errors.iter() {
            let _ = writeln!(
                out,
                "junction_upstream_errors_total{{model=\"{}\",upstream=\"{}\",reason=\"{}\"}} {n}",
                escape(model),
                escape(upstream),
                escape(reason)
            );
        }
        drop(errors);
        out.push_str("# HELP junction_streams_in_flight Streaming responses being relayed now.\n");
        out.push_str("# TYPE junction_streams_in_flight gauge\n");
        let _ = writeln!(
            out,
            "junction_streams_in_flight {}",
            self.streams_in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

/// Decrements the in-flight stream gauge when the stream body is dropped (finished or not).
pub struct StreamGuard(std::sync::Arc<Metrics>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.streams_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_escapes_labels() {
        let m = std::sync::Arc::new(Metrics::default());
        m.observe_request(
            "/v1/chat/completions",
            "a\"b",
            200,
            Duration::from_millis(3),
        );
        m.observe_request(
            "/v1/chat/completions",
            "a\"b",
            200,
            Duration::from_secs(100),
        );
        m.upstream_error("m", "openai/x", "connect");
        let guard = m.stream_started();
        let text = m.render();
        assert!(text.contains("junction_requests_total{route=\"/v1/chat/completions\",model=\"a\\\"b\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1\n"));
        assert!(text.contains("le=\"60\"} 1\n"));
        assert!(text.contains("le=\"+Inf\"} 2\n"));
        assert!(text.contains(
            "junction_upstream_errors_total{model=\"m\",upstream=\"openai/x\",reason=\"connect\"} 1"
        ));
        assert!(text.contains("junction_streams_in_flight 1"));
        drop(guard);
        assert!(m.render().contains("junction_streams_in_flight 0"));
    }
}
