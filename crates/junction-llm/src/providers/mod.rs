//! Provider adapters: one function per wire format that sends a [`ChatRequest`] (or, for
//! `responses`, a Responses API body) to one deployment and says whether a failure should make
//! the router try the next deployment.
//!
//! [`ChatRequest`]: crate::ChatRequest

pub(crate) mod anthropic;
pub(crate) mod mock;
pub(crate) mod openai;
pub(crate) mod responses;
pub(crate) mod usage_tap;

use crate::LlmError;
use crate::deployment::Deployment;

/// How a single attempt against one deployment failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The deployment is unreachable or broken (connect error, 5xx): another one may work.
    Failover {
        reason: &'static str,
        error: LlmError,
    },
    /// Another deployment would fail the same way (4xx, bad request) or the budget is spent
    /// (timeout): give this error to the client.
    Final {
        reason: &'static str,
        error: LlmError,
    },
}

/// The deployment's parsed upstream URL.
pub(crate) fn endpoint(deployment: &Deployment) -> Result<reqwest::Url, CallError> {
    deployment.endpoint().map_err(|error| CallError::Final {
        reason: "config",
        error,
    })
}

/// Sends a prepared upstream request. A complete answer must arrive within the deployment's
/// `timeout`; a stream must only start within `stream_timeout`, since it may rightly last
/// longer than any fixed bound.
pub(crate) async fn send(
    builder: reqwest::RequestBuilder,
    deployment: &Deployment,
    stream: bool,
) -> Result<reqwest::Response, CallError> {
    let label = deployment.upstream_label();
    if !stream {
        return builder
            .timeout(deployment.timeout)
            .send()
            .await
            .map_err(|e| send_error(&label, &e));
    }
    match tokio::time::timeout(deployment.stream_timeout, builder.send()).await {
        Ok(result) => result.map_err(|e| send_error(&label, &e)),
        Err(_) => Err(CallError::Final {
            reason: "timeout",
            error: LlmError::Timeout(format!("upstream {label} timed out")),
        }),
    }
}

/// Reads an upstream error body, bounded, for the message shown to the client.
pub(crate) async fn error_body(resp: reqwest::Response) -> Vec<u8> {
    const LIMIT: usize = 64 * 1024;
    let mut out = Vec::new();
    let mut resp = resp;
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = LIMIT.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= LIMIT {
            break;
        }
    }
    out
}

/// Classifies a transport-level failure of `send()`.
pub(crate) fn send_error(label: &str, err: &reqwest::Error) -> CallError {
    if err.is_timeout() {
        CallError::Final {
            reason: "timeout",
            error: LlmError::Timeout(format!("upstream {label} timed out")),
        }
    } else if err.is_connect() {
        CallError::Failover {
            reason: "connect",
            error: LlmError::Unavailable(format!("cannot connect to upstream {label}: {err}")),
        }
    } else {
        CallError::Failover {
            reason: "transport",
            error: LlmError::Unavailable(format!("upstream {label} failed: {err}")),
        }
    }
}

/// Classifies an upstream answer with a non-success status.
pub(crate) fn status_error(label: &str, status: u16, message: &str) -> CallError {
    let message = format!("upstream {label} returned HTTP {status}: {message}");
    if status >= 500 {
        CallError::Failover {
            reason: "status_5xx",
            error: LlmError::Unavailable(message),
        }
    } else {
        CallError::Final {
            reason: "status_4xx",
            error: LlmError::Upstream { status, message },
        }
    }
}

/// The request body with deployment defaults filled in where the client set nothing.
pub(crate) fn with_defaults(
    mut body: serde_json::Map<String, serde_json::Value>,
    defaults: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    for (k, v) in defaults {
        body.entry(k.clone()).or_insert_with(|| v.clone());
    }
    body.remove("mock_response");
    body
}
