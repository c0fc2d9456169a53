//! `GET /metrics`: Prometheus text format. Needs the master key unless
//! `general_settings.require_auth_for_metrics_endpoint` is `false`.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::state::SharedState;

pub async fn handle(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        if state.metrics_need_auth {
            let principal = state.auth.authenticate(&headers).await?;
            log.caller = Some(principal.log_name());
            if !principal.is_admin() {
                return Err(ApiError::forbidden("/metrics needs the master key"));
            }
        }
        Ok((
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            state.metrics.render(),
        )
            .into_response())
    }
    .await;
    super::finish(result, log)
}
