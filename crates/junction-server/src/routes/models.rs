//! `GET /v1/models`: the models this caller may use, in OpenAI's list format.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::access_log::RequestLog;
use crate::state::SharedState;

/// LiteLLM reports this fixed `created` for configured models; clients only display it.
const CREATED: u64 = 1_677_610_602;

pub async fn handle(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let data: Vec<_> = state
            .router
            .model_names()
            .iter()
            .filter(|name| principal.may_use_model(name))
            .map(|name| {
                let owner = state
                    .router
                    .deployments_of(name)
                    .first()
                    .and_then(|(label, _)| label.split('/').next().map(str::to_owned))
                    .unwrap_or_else(|| "openai".to_owned());
                json!({"id": name, "object": "model", "created": CREATED, "owned_by": owner})
            })
            .collect();
        Ok(axum::Json(json!({"object": "list", "data": data})).into_response())
    }
    .await;
    super::finish(result, log)
}
