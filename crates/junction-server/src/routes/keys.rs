//! Virtual keys with LiteLLM's API: `/key/generate`, `/key/info`, `/key/update`, `/key/delete`,
//! `/key/list`.
//!
//! The raw key is shown once, in the answer to `/key/generate`; afterwards a key is named by its
//! SHA-256 (`token`), which `/key/info`, `/key/update` and `/key/delete` also accept in place of
//! the raw key. Only the master key may manage keys; any key may read its own info.
//!
//! A key may carry an `object_permission` (its MCP servers, access groups and tool lists) and
//! belong to a team and an organisation. Both must exist when set; a key of a team that is in
//! an organisation is in that organisation (it inherits it when none is given, and may not
//! name another). On `/key/update`, `object_permission` is merged into the stored one as
//! LiteLLM does (see [`super::permission_patch`]).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use junction_store::{KeyPatch, KeyRecord, NewKey, generate_key, hash_key, key_display_name};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{admin, field, new_permission, object, permission_patch};
use crate::access_log::RequestLog;
use crate::clock::{iso8601, parse_duration, unix_now};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

const MANAGING: &str = "managing keys";

pub async fn generate(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let req: GenerateRequest = serde_json::from_value(Value::Object(fields.clone()))
            .map_err(|e| ApiError::bad_request(format!("invalid /key/generate body: {e}")))?;
        let object_permission = new_permission(&fields)?;
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
            Some(d) => Some(expiry_after(duration_secs(d)?)),
            None => None,
        };
        let organization_id = settle_owner(
            &state,
            req.team_id.as_deref(),
            req.organization_id.as_deref(),
            Checks {
                team: true,
                organization: true,
            },
        )
        .await?;
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
            object_permission,
            organization_id,
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
        let principal = super::caller(&state, &headers, &mut log).await?;
        let hash = match (&query.key, &principal) {
            (Some(key), _) => token_hash_of(key),
            (None, Principal::Key(own)) => own.key.token_hash.clone(),
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
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let key = fields
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("`key` is required").with_param("key"))?;
        let hash = token_hash_of(key);
        let existing = state
            .store
            .key_by_hash(&hash)
            .await?
            .ok_or_else(|| ApiError::not_found("key not found"))?;
        let mut patch = patch_from(&fields, &existing)?;
        if patch.team_id.is_some() || patch.organization_id.is_some() {
            let team_id = patch.team_id.clone().unwrap_or(existing.team_id.clone());
            let own = patch
                .organization_id
                .clone()
                .unwrap_or(existing.organization_id.clone());
            let checks = Checks {
                team: patch.team_id.is_some(),
                organization: patch.organization_id.is_some(),
            };
            let settled = settle_owner(&state, team_id.as_deref(), own.as_deref(), checks).await?;
            if settled != own {
                patch.organization_id = Some(settled);
            }
        }
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
        admin(&state, &headers, &mut log, MANAGING).await?;
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

/// `/key/list` filters, as LiteLLM names them.
#[derive(Deserialize)]
pub struct ListQuery {
    /// `true`: whole key objects instead of tokens.
    return_full_object: Option<String>,
    team_id: Option<String>,
    user_id: Option<String>,
    organization_id: Option<String>,
    key_alias: Option<String>,
}

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let full = match query.return_full_object.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(
                    ApiError::bad_request("`return_full_object` must be true or false")
                        .with_param("return_full_object"),
                );
            }
        };
        let matches = |wanted: &Option<String>, value: &Option<String>| {
            wanted.is_none() || wanted.as_deref() == value.as_deref()
        };
        let keys: Vec<KeyRecord> = state
            .store
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| {
                matches(&query.team_id, &k.team_id)
                    && matches(&query.user_id, &k.user_id)
                    && matches(&query.organization_id, &k.organization_id)
                    && matches(&query.key_alias, &k.key_alias)
            })
            .collect();
        let listed: Vec<Value> = if full {
            keys.iter().map(|k| Value::Object(key_json(k))).collect()
        } else {
            keys.iter().map(|k| json!(k.token_hash)).collect()
        };
        Ok(axum::Json(json!({"keys": listed, "total_count": keys.len()})).into_response())
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
    organization_id: Option<String>,
    rpm_limit: Option<i64>,
    tpm_limit: Option<i64>,
    key: Option<String>,
}

/// Which of a key's owners were given in this request and must therefore exist.
#[derive(Clone, Copy)]
struct Checks {
    team: bool,
    organization: bool,
}

/// Checks a key's team and organisation and returns the organisation the key belongs to: its
/// own, else its team's. A dangling id already stored is tolerated (the auth layer reads it as
/// none); only ids given in this request must exist.
async fn settle_owner(
    state: &SharedState,
    team_id: Option<&str>,
    organization_id: Option<&str>,
    checks: Checks,
) -> Result<Option<String>, ApiError> {
    let team = match team_id {
        Some(id) => state.store.team(id).await?,
        None => None,
    };
    if let (true, Some(id), None) = (checks.team, team_id, &team) {
        return Err(
            ApiError::bad_request(format!("team_id {id:?} does not exist")).with_param("team_id"),
        );
    }
    if let (true, Some(id)) = (checks.organization, organization_id)
        && state.store.organization(id).await?.is_none()
    {
        return Err(
            ApiError::bad_request(format!("organization_id {id:?} does not exist"))
                .with_param("organization_id"),
        );
    }
    let team_org = team.and_then(|t| t.organization_id);
    match (organization_id, team_org) {
        (Some(own), Some(team_org)) if own != team_org => Err(ApiError::bad_request(format!(
            "organization_id {own:?} is not the organisation of the key's team ({team_org:?})"
        ))
        .with_param("organization_id")),
        (Some(own), _) => Ok(Some(own.to_owned())),
        (None, team_org) => Ok(team_org),
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

/// The expiry of a key that lives `secs` seconds from now. Expiries are whole seconds, and a
/// key is refused from its expiry second on: rounded down, a "1s" key made late in a second
/// would live a fraction of it, so the time is rounded up (a key lives `secs` to `secs + 1`).
fn expiry_after(secs: i64) -> i64 {
    unix_now().saturating_add(secs).saturating_add(1)
}

/// `/key/update` distinguishes an absent field (unchanged) from `null` (cleared).
fn patch_from(fields: &Map<String, Value>, existing: &KeyRecord) -> Result<KeyPatch, ApiError> {
    let expires_at = match field::<String>(fields, "duration")? {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => Some(Some(expiry_after(duration_secs(&d)?))),
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
        object_permission: permission_patch(fields, existing.object_permission.as_ref())?,
        organization_id: field(fields, "organization_id")?,
    })
}

/// LiteLLM's key object, without the raw key.
pub(crate) fn key_json(record: &KeyRecord) -> Map<String, Value> {
    object(json!({
        "token": record.token_hash,
        "key_name": record.key_name,
        "key_alias": record.key_alias,
        "models": record.models,
        "metadata": record.metadata,
        "max_budget": record.max_budget,
        "spend": record.spend,
        "team_id": record.team_id,
        "user_id": record.user_id,
        "organization_id": record.organization_id,
        "rpm_limit": record.rpm_limit,
        "tpm_limit": record.tpm_limit,
        "blocked": record.blocked,
        "object_permission": record.object_permission,
        "expires": record.expires_at.map(iso8601),
        "created_at": iso8601(record.created_at),
        "updated_at": iso8601(record.updated_at),
    }))
}
