//! Server-sent-event responses whose events are separate body frames,
//! optionally delayed from one another.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::Value;

/// One OpenAI-style event: `data: <json>`.
pub(crate) fn data(json: &Value) -> Bytes {
    Bytes::from(format!("data: {json}\n\n"))
}

/// One named event: `event: <name>` then `data: <json>`.
pub(crate) fn event(name: &str, json: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// An SSE response sending `events` in order, the first at once and each
/// following one `gap` after the previous.
pub(crate) fn response(events: Vec<Bytes>, gap: Duration) -> Response {
    let frames = stream::unfold(
        (events.into_iter(), true),
        move |(mut rest, first)| async move {
            let frame = rest.next()?;
            if !first && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            Some((Ok::<_, Infallible>(frame), (rest, false)))
        },
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(frames),
    )
        .into_response()
}
