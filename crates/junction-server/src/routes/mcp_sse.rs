//! `/mcp` over the legacy HTTP+SSE transport (MCP 2024-11-05), for clients that predate
//! streamable HTTP, such as the Python SDK's `sse_client` that LiteLLM's docs point at
//! `http://localhost:4000/mcp/`.
//!
//! - A `GET` on any `/mcp` path (`/mcp`, `/mcp/`, `/mcp/<servers>`, `/<server>/mcp`) without
//!   an `Mcp-Session-Id` and with `Accept: text/event-stream`, or any `GET /mcp/sse` (LiteLLM's
//!   explicit path) without one, opens a session ([`is_legacy_open`]; `routes/mcp.rs` admits
//!   it first with the same Origin and key checks as streamable HTTP, and resolves its scope).
//!   A `GET` *with* a session id is streamable HTTP's notification stream and goes to rmcp.
//! - The stream's first event names `/mcp/message?session_id=<uuid>`; every message the client
//!   `POST`s there is answered `202` at once, and the answer comes on the stream.
//!
//! Every `POST` needs a key too, as LiteLLM requires one on every request, and it must be the
//! key (or the master key) that opened the session: a session id seen in a log is not enough
//! to act in someone else's session. The session keeps the scope its stream was opened with
//! (path or `x-mcp-servers`); a `POST`'s own path and headers do not change it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use rmcp::model::ClientJsonRpcMessage;

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::mcp_server::{CatalogServer, Scope};
use crate::principal::Principal;
use crate::state::SharedState;

/// Where a session's messages are posted; the stream's `endpoint` event names it.
pub const MESSAGE_PATH: &str = "/mcp/message";

/// Whether a request that passed admission opens a legacy session: a `GET` without a session
/// id that asks for an event stream (or comes to `/mcp/sse`, which only means that).
pub(crate) fn is_legacy_open(head: &Parts, sse_path: bool) -> bool {
    head.method == Method::GET
        && !head.headers.contains_key("mcp-session-id")
        && (sse_path || accepts_event_stream(&head.headers))
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}

/// Who a session belongs to: the master key, one virtual key, or anonymous callers.
fn owner(principal: &Principal) -> String {
    match principal {
        Principal::Admin => "master_key".to_owned(),
        Principal::Anonymous => "anonymous".to_owned(),
        Principal::Key(holder) => format!("key:{}", holder.key.token_hash),
    }
}

/// Opens a session for an admitted `GET`: `200 text/event-stream`, `endpoint` first.
pub(crate) fn open(state: &SharedState, principal: &Principal, scope: Scope) -> Response {
    let handler = CatalogServer::legacy(state.mcp.clone(), state.mcp_drain.clone());
    let (id, events) = state.mcp_legacy.open(
        handler,
        state.mcp_drain.streams(),
        scope,
        owner(principal),
        |id| format!("{MESSAGE_PATH}?session_id={id}"),
        crate::mcp_legacy_sse::KEEP_ALIVE,
    );
    tracing::debug!(session = %id, caller = %principal.log_name(), "legacy MCP session opened");
    let mut response = Body::from_stream(events).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx and similar buffer responses unless told not to, which would hold the events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// `POST /mcp/message?session_id=…`: one client message into its session; `202`, empty body.
pub async fn message(State(state): State<SharedState>, request: Request) -> Response {
    let mut log = RequestLog::default();
    let (mut head, body) = request.into_parts();
    let delivered = async {
        if !super::mcp::origin_allowed(&head.headers, &state.mcp_allowed_origins) {
            return Err(ApiError::forbidden(
                "Forbidden: this Origin may not use the MCP endpoint",
            ));
        }
        let principal = state.auth.authenticate(&head.headers).await?;
        log.caller = Some(principal.log_name());
        let Some(id) = session_id(head.uri.query()) else {
            return Err(ApiError::bad_request("session_id is required"));
        };
        let Some(session) = state.mcp_legacy.get(&id) else {
            return Err(ApiError::not_found(format!(
                "MCP session {id} not found; open a new one with GET /mcp"
            )));
        };
        if session.owner != owner(&principal) {
            return Err(ApiError::forbidden(
                "this MCP session was opened with another key",
            ));
        }
        let bytes = crate::body::read_bytes(&head.headers, body, state.body_limit).await?;
        let mut message: ClientJsonRpcMessage = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(format!("request body is not a JSON-RPC message: {e}"))
        })?;
        // The handler reads the scope from the request's HTTP parts, as rmcp's streamable
        // service provides them; here it is the session's.
        head.extensions.insert(session.scope.clone());
        head.extensions
            .insert(crate::meter::Meter::new(&state, &principal));
        head.extensions
            .insert(crate::upstream_headers::caller_of(&head.headers));
        message.insert_extension(head);
        session.inbound.send(message).await.map_err(|_| {
            ApiError::not_found(format!("MCP session {id} has ended; open a new one"))
        })?;
        Ok(StatusCode::ACCEPTED.into_response())
    }
    .await;
    let response = delivered.unwrap_or_else(super::mcp::refusal);
    super::finish(Ok(response), log)
}

/// `session_id` (the Python SDK's name) or `sessionId` (the TypeScript SDK's) from a query.
fn session_id(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "session_id" || *name == "sessionId")
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: Method, headers: &[(&str, &str)]) -> Parts {
        let mut request = axum::http::Request::builder().method(method).uri("/mcp/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_a_sessionless_event_stream_get_opens_a_legacy_session() {
        let sse = [("accept", "text/event-stream")];
        assert!(is_legacy_open(&head(Method::GET, &sse), false));
        assert!(is_legacy_open(
            &head(
                Method::GET,
                &[("accept", "application/json, Text/Event-Stream; q=1")]
            ),
            false
        ));
        // streamable HTTP's notification stream
        assert!(!is_legacy_open(
            &head(
                Method::GET,
                &[("accept", "text/event-stream"), ("mcp-session-id", "x")]
            ),
            false
        ));
        assert!(!is_legacy_open(&head(Method::POST, &sse), false));
        assert!(!is_legacy_open(&head(Method::GET, &[]), false));
        assert!(is_legacy_open(&head(Method::GET, &[]), true));
    }

    #[test]
    fn the_session_id_comes_from_either_sdks_query_name() {
        assert_eq!(session_id(Some("session_id=abc")).as_deref(), Some("abc"));
        assert_eq!(
            session_id(Some("x=1&sessionId=abc")).as_deref(),
            Some("abc")
        );
        assert_eq!(session_id(Some("session_id=")), None);
        assert_eq!(session_id(Some("other=1")), None);
        assert_eq!(session_id(None), None);
    }
}
