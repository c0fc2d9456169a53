//! `/v1/responses` (and `/responses`): create, read, delete, list input items.
//!
//! Everything about the Responses API lives in `junction-responses`; this file authenticates,
//! checks the model like `/v1/chat/completions` does, decides who owns what is stored, and
//! renders the engine's answer: a JSON body, or an SSE stream that the engine writes into.
//!
//! Ownership: a response belongs to the team of the key that created it, else to the key;
//! another key (or team) gets the same 404 as for an id that does not exist, so ids cannot
//! be probed. The master key reads everything (as LiteLLM's proxy admins do), and
//! `general_settings.disable_responses_id_security` turns the check off.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use junction_responses::{CreateRequest, Invocation, ItemsPage, Owner, Reply, ResponsesError};
use serde::Deserialize;

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

/// `POST /v1/responses`.
pub async fn create(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = create_inner(&state, &headers, body, &mut log).await;
    super::finish(result, log)
}

async fn create_inner(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let principal = state.auth.authenticate(headers).await?;
    log.caller = Some(principal.log_name());
    let bytes = crate::body::read_bytes(headers, body, state.body_limit).await?;
    let request = CreateRequest::from_slice(&bytes).map_err(api_error)?;
    log.model = Some(if state.router.has_model(&request.model) {
        request.model.clone()
    } else {
        "(unknown)".to_owned()
    });
    super::chat::authorize(state, &principal, &request.model)?;
    let caller = crate::upstream_headers::caller_with(headers, &request.gateway_mcp_headers());
    let invocation = Invocation {
        owner: owner_of(&principal),
        caller,
        mcp_access: crate::mcp_access::grant(&principal, &state.mcp),
        meter: Some(std::sync::Arc::new(crate::meter::Meter::new(
            state, &principal,
        ))),
    };
    match state
        .responses
        .create(request, invocation)
        .await
        .map_err(api_error)?
    {
        Reply::Json(response) => Ok(json(StatusCode::OK, &response)),
        Reply::Stream(events) => {
            let in_flight = state.metrics.stream_started();
            let frames = futures_util::stream::unfold(
                (events, in_flight),
                |(mut events, guard)| async move {
                    let frame = events.recv().await?;
                    Some((Ok::<_, std::convert::Infallible>(frame), (events, guard)))
                },
            );
            Ok((
                [
                    (header::CONTENT_TYPE, "text/event-stream"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                Body::from_stream(frames),
            )
                .into_response())
        }
    }
}

/// `GET /v1/responses/{id}`.
pub async fn get(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let owner = authenticate(&state, &headers, &mut log).await?;
        let response = state.responses.get(&id, &owner).await.map_err(api_error)?;
        Ok(json(StatusCode::OK, &response))
    }
    .await;
    super::finish(result, log)
}

/// `DELETE /v1/responses/{id}`.
pub async fn delete(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let owner = authenticate(&state, &headers, &mut log).await?;
        let deleted = state
            .responses
            .delete(&id, &owner)
            .await
            .map_err(api_error)?;
        Ok(json(StatusCode::OK, &deleted))
    }
    .await;
    super::finish(result, log)
}

#[derive(Debug, Deserialize)]
pub struct ItemsQuery {
    limit: Option<usize>,
    order: Option<String>,
    after: Option<String>,
}

/// `GET /v1/responses/{id}/input_items`.
pub async fn input_items(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ItemsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let owner = authenticate(&state, &headers, &mut log).await?;
        let Ok(Query(query)) = query else {
            return Err(ApiError::bad_request(
                "invalid query: limit is a number, order is asc or desc, after is an item id",
            ));
        };
        let ascending = match query.order.as_deref() {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "order must be asc or desc, not {other:?}"
                )));
            }
        };
        let page = ItemsPage {
            limit: query.limit.unwrap_or(20),
            ascending,
            after: query.after,
        };
        let items = state
            .responses
            .input_items(&id, &owner, &page)
            .await
            .map_err(api_error)?;
        Ok(json(StatusCode::OK, &items))
    }
    .await;
    super::finish(result, log)
}

async fn authenticate(
    state: &SharedState,
    headers: &HeaderMap,
    log: &mut RequestLog,
) -> Result<Owner, ApiError> {
    let principal = state.auth.authenticate(headers).await?;
    log.caller = Some(principal.log_name());
    Ok(owner_of(&principal))
}

fn owner_of(principal: &Principal) -> Owner {
    match principal {
        Principal::Admin => Owner {
            id: "admin".to_owned(),
            admin: true,
        },
        Principal::Anonymous => Owner {
            id: "anonymous".to_owned(),
            admin: false,
        },
        Principal::Key(holder) => Owner {
            id: match &holder.key.team_id {
                Some(team) => format!("team:{team}"),
                None => format!("key:{}", holder.key.token_hash),
            },
            admin: false,
        },
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn api_error(error: ResponsesError) -> ApiError {
    ApiError {
        status: StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_GATEWAY),
        kind: error.kind,
        message: error.message,
        param: error.param,
    }
}
