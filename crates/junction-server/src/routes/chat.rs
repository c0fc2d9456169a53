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
use crate::meter::{Meter, Outcome};
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
    let started = std::time::SystemTime::now();
    let principal = state.auth.authenticate(headers).await?;
    log.caller = Some(principal.log_name());
    let bytes = crate::body::read_bytes(headers, body, state.body_limit).await?;
    let mut req = ChatRequest::from_slice(&bytes)?;
    // Every call is logged with its tokens (and charged when its model has prices).
    req.meter_usage = true;
    // The model becomes a metrics label: only configured names, or clients could grow the
    // registry without bound by inventing names.
    log.model = Some(if state.router.has_model(&req.model) {
        req.model.clone()
    } else {
        "(unknown)".to_owned()
    });
    authorize(state, &principal, &req.model)?;
    let meter = Meter::new(state, &principal);
    let call = Call {
        meter,
        model: req.model.clone(),
        started,
    };
    match state.router.chat(&req).await {
        Ok(completion) => Ok(respond(state, call, completion)),
        Err(error) => {
            call.finish(None, None, Some(error.to_string()));
            Err(error.into())
        }
    }
}

/// One chat call being metered: logged once, when its answer is done with.
struct Call {
    meter: Meter,
    model: String,
    started: std::time::SystemTime,
}

impl Call {
    fn finish(
        &self,
        usage: Option<junction_llm::Usage>,
        deployment: Option<&junction_llm::Deployment>,
        error: Option<String>,
    ) {
        let usage = usage.unwrap_or_default();
        let cost = deployment.map_or(0.0, |d| d.cost(usage));
        self.meter.model_call(
            crate::meter::CHAT,
            &self.model,
            Outcome {
                started: self.started,
                error,
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                cost,
            },
        );
    }
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
    if let Principal::Key(holder) = principal {
        state.auth.admit(holder)?;
    }
    Ok(())
}

fn respond(state: &SharedState, call: Call, completion: Completion) -> Response {
    let Completion { reply, deployment } = completion;
    match reply {
        ChatReply::Json { body, usage } => {
            call.finish(usage, Some(&deployment), None);
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        ChatReply::Stream { frames, usage } => {
            let in_flight = state.metrics.stream_started();
            let charge = ChargeOnDrop {
                call,
                deployment,
                usage,
            };
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

/// Logs and charges a streamed answer once its body is done with, from the usage the stream
/// reported.
struct ChargeOnDrop {
    call: Call,
    deployment: std::sync::Arc<junction_llm::Deployment>,
    usage: junction_llm::UsageSlot,
}

impl Drop for ChargeOnDrop {
    fn drop(&mut self) {
        self.call
            .finish(self.usage.get(), Some(&self.deployment), None);
    }
}
