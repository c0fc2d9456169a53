//! `POST /v1/chat/completions`: authenticate, check the model is allowed, route, relay.
//!
//! Streams are relayed frame by frame as the provider adapter yields them; if the upstream
//! breaks mid-stream, the client gets a final `data: {"error": …}` event instead of a silent cut.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use junction_llm::{ChatReply, ChatRequest, Completion};

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

pub async fn handle(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = chat(&state, &headers, body, &mut log).await;
    super::finish(result, log)
}

async fn chat(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let principal = state.auth.authenticate(headers).await?;
    log.caller = Some(principal.log_name());
    let bytes = crate::body::read_bytes(headers, body, state.body_limit).await?;
    let mut req = ChatRequest::from_slice(&bytes)?;
    req.meter_usage = principal.key().is_some();
    // The model becomes a metrics label: only configured names, or clients could grow the
    // registry without bound by inventing names.
    log.model = Some(if state.router.has_model(&req.model) {
        req.model.clone()
    } else {
        "(unknown)".to_owned()
    });
    authorize(state, &principal, &req.model)?;
    let completion = state.router.chat(&req).await?;
    Ok(respond(state, &principal, completion))
}

/// Model existence first (404), then the key's model list (403), then budget and rate (400/429).
pub(crate) fn authorize(
    state: &SharedState,
    principal: &Principal,
    model: &str,
) -> Result<(), ApiError> {
    if !state.router.has_model(model) {
        return Err(ApiError::not_found(format!(
            "model '{model}' is not served by this gateway; GET /v1/models lists the models you can use"
        ))
        .with_param("model"));
    }
    if !principal.may_use_model(model) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "key_model_access_denied",
            format!(
                "key not allowed to access model '{model}'; the key can access: {}",
                principal
                    .key()
                    .map(|k| k.models.join(", "))
                    .unwrap_or_default()
            ),
        )
        .with_param("model"));
    }
    if let Some(key) = principal.key() {
        state.auth.admit(key)?;
    }
    Ok(())
}

fn respond(state: &SharedState, principal: &Principal, completion: Completion) -> Response {
    let Completion { reply, deployment } = completion;
    match reply {
        ChatReply::Json { body, usage } => {
            if let (Some(usage), Some(key)) = (usage, principal.key()) {
                let cost = deployment.cost(usage);
                if cost > 0.0 {
                    record_spend(state, &key.token_hash, cost);
                }
            }
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        ChatReply::Stream { frames, usage } => {
            let in_flight = state.metrics.stream_started();
            let charge = principal.key().map(|key| ChargeOnDrop {
                state: state.clone(),
                token_hash: key.token_hash.clone(),
                deployment: deployment.clone(),
                usage,
            });
            let frames = frames.map(move |frame| {
                // Both guards live as long as the body stream: dropped when the relay ends,
                // finished or cut by the client.
                let _ = (&in_flight, &charge);
                Ok::<Bytes, Infallible>(match frame {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        tracing::warn!(%error, "upstream stream failed mid-way");
                        let body = ApiError::from(error).body();
                        junction_llm::sse::encode_data(&body.to_string())
                    }
                })
            });
            (
                [
                    (header::CONTENT_TYPE, "text/event-stream"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                Body::from_stream(frames),
            )
                .into_response()
        }
    }
}

/// Charges a streamed answer once its body is done with, from the usage the stream reported.
struct ChargeOnDrop {
    state: SharedState,
    token_hash: String,
    deployment: std::sync::Arc<junction_llm::Deployment>,
    usage: junction_llm::UsageSlot,
}

impl Drop for ChargeOnDrop {
    fn drop(&mut self) {
        if let Some(usage) = self.usage.get() {
            let cost = self.deployment.cost(usage);
            if cost > 0.0 {
                record_spend(&self.state, &self.token_hash, cost);
            }
        }
    }
}

/// Spend is written in the background: the client does not wait for the database.
pub(crate) fn record_spend(state: &SharedState, token_hash: &str, cost: f64) {
    state.auth.note_spend(token_hash, cost);
    let store = state.store.clone();
    let hash = token_hash.to_owned();
    tokio::spawn(async move {
        if let Err(error) = store.add_spend(&hash, cost).await {
            tracing::error!(%error, "could not record spend");
        }
    });
}
