//! Virtual keys with LiteLLM's API: `/key/generate`, `/key/info`, `/key/update`, `/key/delete`,
//! `/key/list`.
//!
//! The raw key is shown once, in the answer to `/key/generate`; afterwards a key is named by its
//! SHA-256 (`token`), which `/key/info`, `/key/update` and `/key/delete` also accept in place of
//! the raw key. Only the master key may manage keys; any key may read its own info.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use junction_store::{KeyPatch, KeyRecord, NewKey, generate_key, hash_key, key_display_name};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::access_log::RequestLog;
use crate::clock::{iso8601, parse_duration, unix_now};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

pub async fn generate(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log).await?;
        let json = crate::body::read_json(&headers, body, state.body_limit).await?;
        let req: GenerateRequest = serde_json::from_value(json)
            .map_err(|e| ApiError::bad_request(format!("invalid /key/generate body: {e}")))?;
        let raw = match req.key {
            Some(custom) if custom.starts_with("sk-") && custom.len() >= 12 => custom,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "a custom `key` must start with 'sk-' and be at least 12 characters",
                )
                .with_param("key"));
            }
            None => generate_key(),
        };
        let expires_at = match &req.duration {
            Some(d) => Some(unix_now() + duration_secs(d)?),
            None => None,
        };
        let new = NewKey {
            token_hash: hash_key(&raw),
            key_name: key_display_name(&raw),
            key_alias: req.key_alias,
            models: req.models.unwrap_or_default(),
            metadata: req.metadata.unwrap_or_default(),
            max_budget: req.max_budget,
            team_id: req.team_id,
            user_id: req.user_id,
            rpm_limit: req.rpm_limit,
            tpm_limit: req.tpm_limit,
            expires_at,
        };
        let record = state.store.insert_key(&new).await?;
        let mut body = key_json(&record);
        body.insert("key".into(), Value::String(raw));
        body.insert("duration".into(), json!(req.duration));
        Ok(axum::Json(Value::Object(body)).into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
pub struct InfoQuery {
    key: Option<String>,
}

pub async fn info(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<InfoQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let hash = match (&query.key, &principal) {
            (Some(key), _) => token_hash_of(key),
            (None, Principal::Key(own)) => own.token_hash.clone(),
            (None, _) => {
                return Err(ApiError::bad_request("pass ?key=<key or token>").with_param("key"));
            }
        };
        let own = principal.key().is_some_and(|k| k.token_hash == hash);
        if !principal.is_admin() && !own {
            return Err(ApiError::forbidden(
                "a key may only read its own info; managing other keys needs the master key",
            ));
        }
        let record = state
            .store
            .key_by_hash(&hash)
            .await?
            .ok_or_else(|| ApiError::not_found("key not found"))?;
        Ok(
            axum::Json(json!({"key": query.key.unwrap_or(hash), "info": key_json(&record)}))
                .into_response(),
        )
    }
    .await;
    super::finish(result, log)
}

pub async fn update(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log).await?;
        let json = crate::body::read_json(&headers, body, state.body_limit).await?;
        let Value::Object(fields) = json else {
            return Err(ApiError::bad_request("body must be a JSON object"));
        };
        let key = fields
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("`key` is required").with_param("key"))?;
        let hash = token_hash_of(key);
        let patch = patch_from(&fields)?;
        let record = state
            .store
            .update_key(&hash, &patch)
            .await?
            .ok_or_else(|| ApiError::not_found("key not found"))?;
        state.auth.forget(&hash);
        Ok(axum::Json(Value::Object(key_json(&record))).into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
struct DeleteRequest {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    key_aliases: Vec<String>,
}

pub async fn delete(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log).await?;
        let json = crate::body::read_json(&headers, body, state.body_limit).await?;
        let req: DeleteRequest = serde_json::from_value(json)
            .map_err(|e| ApiError::bad_request(format!("invalid /key/delete body: {e}")))?;
        if req.keys.is_empty() && req.key_aliases.is_empty() {
            return Err(ApiError::bad_request("pass `keys` or `key_aliases`").with_param("keys"));
        }
        // Remember how the caller named each key, to answer in the same terms.
        let mut wanted: Vec<(String, String)> = req
            .keys
            .iter()
            .map(|k| (token_hash_of(k), k.clone()))
            .collect();
        for alias in &req.key_aliases {
            if let Some(record) = state.store.key_by_alias(alias).await? {
                wanted.push((record.token_hash, alias.clone()));
            }
        }
        let hashes: Vec<String> = wanted.iter().map(|(h, _)| h.clone()).collect();
        let deleted = state.store.delete_keys(&hashes).await?;
        for hash in &deleted {
            state.auth.forget(hash);
        }
        if deleted.is_empty() {
            return Err(ApiError::not_found("none of the given keys exist"));
        }
        let names: Vec<&String> = wanted
            .iter()
            .filter(|(h, _)| deleted.contains(h))
            .map(|(_, name)| name)
            .collect();
        Ok(axum::Json(json!({"deleted_keys": names})).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn list(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log).await?;
        let keys = state.store.list_keys().await?;
        let tokens: Vec<&str> = keys.iter().map(|k| k.token_hash.as_str()).collect();
        Ok(axum::Json(json!({"keys": tokens, "total_count": keys.len()})).into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
struct GenerateRequest {
    models: Option<Vec<String>>,
    key_alias: Option<String>,
    metadata: Option<Map<String, Value>>,
    duration: Option<String>,
    max_budget: Option<f64>,
    team_id: Option<String>,
    user_id: Option<String>,
    rpm_limit: Option<i64>,
    tpm_limit: Option<i64>,
    key: Option<String>,
}

async fn admin(
    state: &SharedState,
    headers: &HeaderMap,
    log: &mut RequestLog,
) -> Result<(), ApiError> {
    let principal = state.auth.authenticate(headers).await?;
    log.caller = Some(principal.log_name());
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("managing keys needs the master key"))
    }
}

/// A raw key is hashed; a 64-hex-digit string is already a token (hash).
fn token_hash_of(key: &str) -> String {
    if key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        key.to_owned()
    } else {
        hash_key(key)
    }
}

fn duration_secs(text: &str) -> Result<i64, ApiError> {
    parse_duration(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid duration {text:?}: expected a number followed by s, m, h, d, w or mo (e.g. \"30d\")"
        ))
        .with_param("duration")
    })
}

/// `/key/update` distinguishes an absent field (unchanged) from `null` (cleared).
fn patch_from(fields: &Map<String, Value>) -> Result<KeyPatch, ApiError> {
    fn field<T: serde::de::DeserializeOwned>(
        fields: &Map<String, Value>,
        name: &'static str,
    ) -> Result<Option<Option<T>>, ApiError> {
        match fields.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => serde_json::from_value(v.clone())
                .map(|t| Some(Some(t)))
                .map_err(|e| {
                    ApiError::bad_request(format!("invalid `{name}`: {e}")).with_param(name)
                }),
        }
    }
    let expires_at = match field::<String>(fields, "duration")? {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => Some(Some(unix_now() + duration_secs(&d)?)),
    };
    Ok(KeyPatch {
        key_alias: field(fields, "key_alias")?,
        models: field::<Vec<String>>(fields, "models")?.map(Option::unwrap_or_default),
        metadata: field::<Map<String, Value>>(fields, "metadata")?.map(Option::unwrap_or_default),
        max_budget: field(fields, "max_budget")?,
        team_id: field(fields, "team_id")?,
        user_id: field(fields, "user_id")?,
        rpm_limit: field(fields, "rpm_limit")?,
        tpm_limit: field(fields, "tpm_limit")?,
        expires_at,
        blocked: field::<bool>(fields, "blocked")?.map(|b| b.unwrap_or(false)),
        spend: field::<f64>(fields, "spend")?.map(|s| s.unwrap_or(0.0)),
    })
}

/// LiteLLM's key object, without the raw key.
fn key_json(record: &KeyRecord) -> Map<String, Value> {
    let json = json!({
        "token": record.token_hash,
        "key_name": record.key_name,
        "key_alias": record.key_alias,
        "models": record.models,
        "metadata": record.metadata,
        "max_budget": record.max_budget,
        "spend": record.spend,
        "team_id": record.team_id,
        "user_id": record.user_id,
        "rpm_limit": record.rpm_limit,
        "tpm_limit": record.tpm_limit,
        "blocked": record.blocked,
        "expires": record.expires_at.map(iso8601),
        "created_at": iso8601(record.created_at),
        "updated_at": iso8601(record.updated_at),
    });
    match json {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
