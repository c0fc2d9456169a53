//! Helpers shared by the HTTP tests: a client, request shortcuts and SSE
//! parsing.

use std::sync::Once;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A plain-HTTP client (a rustls provider is installed because reqwest
/// builds its TLS configuration eagerly).
pub fn client() -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A finished response.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// POSTs `body` (raw text) with `headers`.
pub async fn post_raw(url: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// POSTs the JSON `body` with `headers`.
pub async fn post(url: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
    post_raw(url, &body.to_string(), headers).await
}

/// Splits an SSE body into `(event name, data)` pairs.
pub fn sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            (name, data)
        })
        .collect()
}

/// The JSON chunks of an OpenAI stream, checking it ends with `[DONE]`.
pub fn openai_chunks(text: &str) -> Vec<Value> {
    let mut events = sse(text);
    let (name, last) = events.pop().expect("empty stream");
    assert_eq!((name, last.as_str()), (None, "[DONE]"));
    events
        .into_iter()
        .map(|(name, data)| {
            assert!(name.is_none());
            serde_json::from_str(&data).unwrap()
        })
        .collect()
}

/// The `(event name, JSON data)` pairs of an Anthropic stream, checking that
/// each data's `type` matches its event name.
pub fn anthropic_events(text: &str) -> Vec<(String, Value)> {
    sse(text)
        .into_iter()
        .map(|(name, data)| {
            let name = name.expect("Anthropic events are named");
            let data: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

/// The `(event name, JSON data)` pairs of a Responses API stream, checking
/// that each data's `type` matches its event name and that
/// `sequence_number`s count up from 0.
pub fn responses_events(text: &str) -> Vec<(String, Value)> {
    sse(text)
        .into_iter()
        .enumerate()
        .map(|(i, (name, data))| {
            let name = name.expect("Responses events are named");
            assert_ne!(data, "[DONE]");
            let data: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(data["type"], name.as_str());
            assert_eq!(data["sequence_number"], i as u64, "{name}");
            (name, data)
        })
        .collect()
}
