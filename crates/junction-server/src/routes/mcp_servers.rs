//! LiteLLM's MCP server management API: `POST /v1/mcp/server` (201), `PUT /v1/mcp/server`
//! (202), `DELETE /v1/mcp/server/{id}` (202), `GET /v1/mcp/server`, `GET
//! /v1/mcp/server/{id}`.
//!
//! Changes need the master key and `store_model_in_db` (`stored_mcp_servers.rs` does the
//! work). Reading is open to every key for the servers it may use, as LiteLLM's
//! `restricted` mode: the master key sees each server's whole definition, other keys see
//! no connection details (URL, command, headers, environment). Secrets are never shown,
//! only which ones are set (`"****"`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use junction_hub::ServerHealth;
use serde_json::{Map, Value, json};

use crate::access_log::RequestLog;
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::state::SharedState;
use crate::stored_mcp_servers::{ServerView, StoredServerError};

/// What a secret shows as.
const MASK: &str = "****";

/// `POST /v1/mcp/server`.
pub async fn create(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        super::admin(&state, &headers, &mut log, "creating an MCP server").await?;
        let body = super::read_object(&state, &headers, body).await?;
        let view = state
            .stored_mcp
            .create(body, Some("master_key".to_owned()))
            .await
            .map_err(api_error)?;
        let shown = show(&state, &view, true);
        Ok((StatusCode::CREATED, axum::Json(shown)).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `PUT /v1/mcp/server`.
pub async fn update(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        super::admin(&state, &headers, &mut log, "updating an MCP server").await?;
        let body = super::read_object(&state, &headers, body).await?;
        let view = state
            .stored_mcp
            .update(body, Some("master_key".to_owned()))
            .await
            .map_err(api_error)?;
        let shown = show(&state, &view, true);
        Ok((StatusCode::ACCEPTED, axum::Json(shown)).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `DELETE /v1/mcp/server/{server_id}`: 202 with an empty body.
pub async fn delete(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(server_id): Path<String>,
) -> Response {
    let mut log = RequestLog::default();
    let result =
        async {
            super::admin(&state, &headers, &mut log, "deleting an MCP server").await?;
            if state.mcp.find_server(&server_id).is_some_and(|s| {
                s.origin == junction_hub::ServerOrigin::Config && s.id == server_id
            }) {
                return Err(ApiError::bad_request(format!(
                    "MCP server {server_id} is defined in config.yaml; remove it there"
                )));
            }
            state
                .stored_mcp
                .delete(&server_id)
                .await
                .map_err(api_error)?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        .await;
    super::finish(result, log)
}

/// `GET /v1/mcp/server`: the servers the caller may use.
pub async fn list(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = super::caller(&state, &headers, &mut log).await?;
        let grant = crate::mcp_access::grant(&principal, &state.mcp);
        let full = principal.is_admin();
        let health = state.mcp.health();
        let shown: Vec<Value> = state
            .stored_mcp
            .list()
            .await
            .iter()
            .filter(|view| grant.contains(&view.name))
            .map(|view| show_with(&state, view, full, &health))
            .collect();
        Ok(axum::Json(Value::Array(shown)).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `GET /v1/mcp/server/{server_id}` (an id, name or alias): 404 unknown, 403 not permitted.
pub async fn get(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(server_id): Path<String>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = super::caller(&state, &headers, &mut log).await?;
        let view = state
            .stored_mcp
            .find(&server_id)
            .await
            .ok_or_else(|| api_error(StoredServerError::NotFound(server_id.clone())))?;
        let grant = crate::mcp_access::grant(&principal, &state.mcp);
        if !grant.contains(&view.name) {
            return Err(ApiError::forbidden(format!(
                "This key may not use the MCP server '{}'",
                view.name
            )));
        }
        Ok(axum::Json(show(&state, &view, principal.is_admin())).into_response())
    }
    .await;
    super::finish(result, log)
}

fn api_error(error: StoredServerError) -> ApiError {
    match &error {
        StoredServerError::NotFound(_) => ApiError::not_found(error.to_string()),
        StoredServerError::Invalid(_)
        | StoredServerError::Disabled
        | StoredServerError::NoSealer
        | StoredServerError::Conflict(_) => ApiError::bad_request(error.to_string()),
        StoredServerError::Store(store) => {
            tracing::error!(error = %store, "MCP server storage failed");
            ApiError::internal("the MCP server could not be stored")
        }
    }
}

/// A server in LiteLLM's `LiteLLM_MCPServerTable` shape, with its health. `full`: the
/// connection details too (for the master key).
fn show(state: &SharedState, view: &ServerView, full: bool) -> Value {
    show_with(state, view, full, &state.mcp.health())
}

/// [`show`] with every server's health, read once for a whole list.
fn show_with(state: &SharedState, view: &ServerView, full: bool, health: &[ServerHealth]) -> Value {
    let info = state.mcp.find_server(&view.name);
    let health = health.iter().find(|h| h.server_name == view.name);
    let entry = &view.entry;
    let masked = |map: &std::collections::BTreeMap<String, String>| -> Value {
        Value::Object(
            map.keys()
                .map(|k| (k.clone(), Value::String(MASK.to_owned())))
                .collect(),
        )
    };
    let mut credentials = Map::new();
    for (key, set) in [
        ("auth_value", entry.auth_value.is_some()),
        ("client_id", entry.client_id.is_some()),
        ("client_secret", entry.client_secret.is_some()),
    ] {
        if set {
            credentials.insert(key.to_owned(), Value::String(MASK.to_owned()));
        }
    }
    if !entry.scopes.is_empty() {
        credentials.insert("scopes".to_owned(), json!(entry.scopes));
    }
    let connection = |value: Value| if full { value } else { Value::Null };
    let record = view.record.as_ref();
    json!({
        "server_id": info.as_ref().map(|i| i.id.clone()),
        "server_name": view.name,
        "alias": info.as_ref().and_then(|i| i.alias.clone()),
        "description": info.as_ref().and_then(|i| i.description.clone()),
        "url": connection(json!(entry.url)),
        "spec_path": connection(json!(entry.spec_path)),
        "transport": entry.transport.clone().unwrap_or_else(|| {
            if entry.command.is_some() { "stdio" } else { "http" }.to_owned()
        }),
        "auth_type": entry.auth_type,
        "credentials": if credentials.is_empty() { Value::Null } else { Value::Object(credentials) },
        "mcp_info": entry.mcp_info,
        "mcp_access_groups": entry.access_groups,
        "allowed_tools": entry.allowed_tools,
        "disallowed_tools": entry.disallowed_tools,
        "allowed_params": entry.allowed_params,
        "extra_headers": connection(json!(entry.extra_headers)),
        "static_headers": connection(masked(&entry.static_headers)),
        "command": connection(json!(entry.command)),
        "args": connection(json!(entry.args)),
        "env": connection(masked(&entry.env)),
        "token_url": connection(json!(entry.token_url)),
        "allow_all_keys": entry.allow_all_keys == Some(true),
        "source": if record.is_some() { "db" } else { "config" },
        "created_at": record.map(|r| iso8601(r.created_at)),
        "created_by": record.and_then(|r| r.created_by.clone()),
        "updated_at": record.map(|r| iso8601(r.updated_at)),
        "updated_by": record.and_then(|r| r.updated_by.clone()),
        "status": health.map(|h| h.status.as_str()),
        "last_health_check": health.and_then(|h| h.last_health_check).map(|t| iso8601(t as i64)),
        "health_check_error": health.and_then(|h| h.error.clone()),
        "tools_count": health.map(|h| h.tools_count),
    })
}
