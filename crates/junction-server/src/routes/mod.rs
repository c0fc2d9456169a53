//! HTTP handlers, one file per surface. Each handler authenticates through
//! [`crate::auth::Authenticator`] and reports what it learned in a [`crate::access_log::RequestLog`].
//!
//! Below the module list: what the management surfaces (`keys`, `teams`, `organizations`,
//! `users`) share, so they read bodies, name bad fields and merge `object_permission` the same
//! way.

pub mod chat;
pub mod health;
pub mod keys;
pub mod mcp;
pub mod mcp_rest;
pub mod mcp_servers;
pub mod mcp_sse;
pub mod metrics;
pub mod models;
pub mod organizations;
pub mod responses;
pub mod spend;
pub mod teams;
pub mod ui;
pub mod users;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use junction_store::{ObjectPermission, StoreError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

/// Attaches the request's log details to whatever the handler produced.
pub(crate) fn finish(result: Result<Response, ApiError>, log: RequestLog) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(log);
    response
}

/// Authenticates the caller and notes it in the log.
pub(crate) async fn caller(
    state: &SharedState,
    headers: &HeaderMap,
    log: &mut RequestLog,
) -> Result<Principal, ApiError> {
    let principal = state.auth.authenticate(headers).await?;
    log.caller = Some(principal.log_name());
    Ok(principal)
}

/// Authenticates the caller and requires the master key; `what` completes "… needs the
/// master key".
pub(crate) async fn admin(
    state: &SharedState,
    headers: &HeaderMap,
    log: &mut RequestLog,
    what: &str,
) -> Result<(), ApiError> {
    if caller(state, headers, log).await?.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("{what} needs the master key")))
    }
}

/// A request body that must be a JSON object.
pub(crate) async fn read_object(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, ApiError> {
    match crate::body::read_json(headers, body, state.body_limit).await? {
        Value::Object(fields) => Ok(fields),
        _ => Err(ApiError::bad_request("the body must be a JSON object")),
    }
}

/// A field of a management body: absent is `None`, `null` is `Some(None)` (cleared on an
/// update), a value is `Some(Some(_))`; a value of the wrong type is a 400 naming the field.
pub(crate) fn field<T: DeserializeOwned>(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Option<T>>, ApiError> {
    match fields.get(name) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => serde_json::from_value(v.clone())
            .map(|t| Some(Some(t)))
            .map_err(|e| ApiError::bad_request(format!("invalid `{name}`: {e}")).with_param(name)),
    }
}

/// A field where `null` and absence mean the same: not given.
pub(crate) fn optional<T: DeserializeOwned>(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<T>, ApiError> {
    Ok(field(fields, name)?.flatten())
}

/// A field that must be present, not `null`, and (for strings) not blank.
pub(crate) fn required_id(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<String, ApiError> {
    match optional::<String>(fields, name)? {
        Some(id) if !id.trim().is_empty() => Ok(id),
        _ => Err(ApiError::bad_request(format!("`{name}` is required")).with_param(name)),
    }
}

/// An id the client may choose; blank is refused, absence generates a UUID as LiteLLM does.
pub(crate) fn chosen_id(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<String, ApiError> {
    match optional::<String>(fields, name)? {
        Some(id) if id.trim().is_empty() => {
            Err(ApiError::bad_request(format!("`{name}` must not be empty")).with_param(name))
        }
        Some(id) => Ok(id),
        None => Ok(crate::ids::uuid_v4()),
    }
}

/// A budget or spend: finite and not negative.
pub(crate) fn amount(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Option<f64>>, ApiError> {
    let value = field::<f64>(fields, name)?;
    if let Some(Some(v)) = value
        && !(v.is_finite() && v >= 0.0)
    {
        return Err(
            ApiError::bad_request(format!("`{name}` must be a number of at least 0"))
                .with_param(name),
        );
    }
    Ok(value)
}

/// `object_permission` of a create request. LiteLLM reads `null` and `{}` as "no permission".
pub(crate) fn new_permission(
    fields: &Map<String, Value>,
) -> Result<Option<ObjectPermission>, ApiError> {
    let permission = optional::<ObjectPermission>(fields, "object_permission")?;
    Ok(permission.filter(|p| *p != ObjectPermission::default()))
}

/// `object_permission` of an update, merged as LiteLLM merges it: the fields sent replace the
/// stored ones, fields not sent are kept, a field sent as `null` is removed; `null` for the
/// whole object removes the permission.
pub(crate) fn permission_patch(
    fields: &Map<String, Value>,
    existing: Option<&ObjectPermission>,
) -> Result<Option<Option<ObjectPermission>>, ApiError> {
    const NAME: &str = "object_permission";
    let sent = match fields.get(NAME) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(Value::Object(sent)) => sent,
        Some(_) => {
            return Err(
                ApiError::bad_request("`object_permission` must be an object").with_param(NAME),
            );
        }
    };
    let mut merged = match existing.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    };
    for (name, value) in sent {
        if value.is_null() {
            merged.remove(name);
        } else {
            merged.insert(name.clone(), value.clone());
        }
    }
    let permission: ObjectPermission = serde_json::from_value(Value::Object(merged))
        .map_err(|e| ApiError::bad_request(format!("invalid `{NAME}`: {e}")).with_param(NAME))?;
    Ok(Some(
        Some(permission).filter(|p| *p != ObjectPermission::default()),
    ))
}

/// A store failure as the client sees it: a conflict (duplicate id, alias or email) answers
/// `conflict` naming `param`, a value the store refused answers 400, anything else is the
/// database's 503.
pub(crate) fn store_error(err: StoreError, conflict: StatusCode, param: &'static str) -> ApiError {
    match err {
        StoreError::Conflict(message) => {
            ApiError::new(conflict, "invalid_request_error", message).with_param(param)
        }
        StoreError::Invalid(message) => ApiError::bad_request(message),
        other => other.into(),
    }
}

/// `value` as a JSON object (the shape every record renders to).
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
