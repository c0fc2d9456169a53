//! Users (LiteLLM's internal users) with LiteLLM's API: `/user/new`, `/user/info`,
//! `/user/update`, `/user/list`, `/user/delete`.
//!
//! Only the master key manages users; a key of a user may read that user's `/user/info`.
//! As in LiteLLM, `/user/new` also creates a key for the user unless `auto_create_key` is
//! false (the raw key is in the answer's `key`), joins the user to the `teams` given (which
//! must exist), and a duplicate `user_id` or `user_email` (compared without case) answers 409.
//! Deleting a user deletes its keys and takes it off its teams' members.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use junction_store::{
    NewKey, NewUser, StoreError, TeamMember, TeamRecord, UserPatch, UserRecord, generate_key,
    hash_key, key_display_name,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::keys::key_json;
use super::teams::{existing_team, id_list, is_member, same_person, set_members, team_json};
use super::{
    admin, amount, chosen_id, field, new_permission, object, optional, permission_patch,
    store_error,
};
use crate::access_log::RequestLog;
use crate::clock::{iso8601, parse_duration, unix_now};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

const MANAGING: &str = "managing users";

/// The roles `/user/new` and `/user/update` accept (LiteLLM's `NewUserRequest.user_role`).
const ROLES: [&str; 4] = [
    "proxy_admin",
    "proxy_admin_viewer",
    "internal_user",
    "internal_user_viewer",
];

pub async fn new(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let role = match optional::<String>(&fields, "user_role")? {
            Some(role) => checked_role(role)?,
            None => "internal_user".to_owned(),
        };
        let memberships = team_list(&fields)?;
        // The deprecated `team_id` also makes the auto-created key a team key.
        let key_team = optional::<String>(&fields, "team_id")?;
        let mut teams = Vec::with_capacity(memberships.len() + 1);
        for (team_id, team_role) in memberships
            .into_iter()
            .chain(key_team.clone().map(|t| (t, "user".to_owned())))
        {
            let param = if key_team.as_deref() == Some(team_id.as_str()) {
                "team_id"
            } else {
                "teams"
            };
            let team = existing_team(&state, &team_id).await.map_err(|_| {
                ApiError::bad_request(format!("team {team_id:?} does not exist")).with_param(param)
            })?;
            if !teams
                .iter()
                .any(|(t, _): &(TeamRecord, String)| t.team_id == team.team_id)
            {
                teams.push((team, team_role));
            }
        }
        let auto_key = optional::<bool>(&fields, "auto_create_key")?.unwrap_or(true);
        let key_alias = optional::<String>(&fields, "key_alias")?;
        let duration = optional::<String>(&fields, "duration")?;
        let expires_at = match &duration {
            Some(text) => Some(unix_now() + duration_secs(text)?),
            None => None,
        };
        let new = NewUser {
            user_id: chosen_id(&fields, "user_id")?,
            user_email: optional(&fields, "user_email")?,
            user_role: role,
            teams: teams.iter().map(|(t, _)| t.team_id.clone()).collect(),
            models: optional(&fields, "models")?.unwrap_or_default(),
            max_budget: amount(&fields, "max_budget")?.flatten(),
            metadata: optional(&fields, "metadata")?.unwrap_or_default(),
            object_permission: new_permission(&fields)?,
        };
        let user = state.store.insert_user(&new).await.map_err(user_conflict)?;

        let mut key = None;
        if auto_key {
            let raw = generate_key();
            let new_key = NewKey {
                token_hash: hash_key(&raw),
                key_name: key_display_name(&raw),
                key_alias: key_alias.clone(),
                models: user.models.clone(),
                metadata: Map::new(),
                max_budget: None,
                team_id: key_team.clone(),
                user_id: Some(user.user_id.clone()),
                rpm_limit: None,
                tpm_limit: None,
                expires_at,
                object_permission: None,
                organization_id: teams
                    .iter()
                    .find(|(t, _)| Some(&t.team_id) == key_team.as_ref())
                    .and_then(|(t, _)| t.organization_id.clone()),
            };
            match state.store.insert_key(&new_key).await {
                Ok(record) => key = Some((raw, record)),
                Err(err) => {
                    // Nothing of a failed request stays behind.
                    state
                        .store
                        .delete_users(std::slice::from_ref(&user.user_id))
                        .await?;
                    return Err(store_error(err, StatusCode::CONFLICT, "key_alias"));
                }
            }
        }
        for (team, team_role) in teams {
            let member = TeamMember {
                user_id: Some(user.user_id.clone()),
                user_email: user.user_email.clone(),
                role: team_role,
            };
            if !is_member(&team.members_with_roles, &member) {
                let mut members = team.members_with_roles.clone();
                members.push(member);
                set_members(&state, &team.team_id, members).await?;
            }
        }

        let mut body = user_json(&user);
        let (raw, record) = match key {
            Some((raw, record)) => (raw, Some(record)),
            None => (String::new(), None),
        };
        body.insert("key".into(), Value::String(raw));
        body.insert("key_alias".into(), json!(key_alias));
        body.insert("duration".into(), json!(duration));
        body.insert(
            "expires".into(),
            json!(record.as_ref().and_then(|r| r.expires_at).map(iso8601)),
        );
        body.insert("team_id".into(), json!(key_team));
        Ok(axum::Json(Value::Object(body)).into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
pub struct InfoQuery {
    user_id: Option<String>,
}

pub async fn info(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<InfoQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = super::caller(&state, &headers, &mut log).await?;
        let own_user = principal.key().and_then(|k| k.user_id.clone());
        let user_id = match (query.user_id.filter(|id| !id.is_empty()), &principal) {
            (Some(id), _) => id,
            (None, Principal::Key(_)) if own_user.is_some() => own_user.clone().unwrap_or_default(),
            (None, _) => return Err(ApiError::bad_request("pass ?user_id=").with_param("user_id")),
        };
        if !principal.is_admin() && own_user.as_deref() != Some(user_id.as_str()) {
            return Err(ApiError::forbidden(
                "a key may only read its own user's info; other users need the master key",
            ));
        }
        let user = existing(&state, &user_id).await?;
        let keys: Vec<Value> = state
            .store
            .list_keys()
            .await?
            .iter()
            .filter(|k| k.user_id.as_deref() == Some(user_id.as_str()))
            .map(|k| Value::Object(key_json(k)))
            .collect();
        let me = TeamMember {
            user_id: Some(user.user_id.clone()),
            user_email: None,
            role: String::new(),
        };
        let teams: Vec<Value> = state
            .store
            .list_teams(None)
            .await?
            .iter()
            .filter(|t| user.teams.contains(&t.team_id) || is_member(&t.members_with_roles, &me))
            .map(|t| Value::Object(team_json(t)))
            .collect();
        Ok(axum::Json(json!({
            "user_id": user.user_id,
            "user_info": user_json(&user),
            "keys": keys,
            "teams": teams,
        }))
        .into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn update(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let by_id = optional::<String>(&fields, "user_id")?.filter(|id| !id.is_empty());
        let by_email = optional::<String>(&fields, "user_email")?;
        let existing = match (&by_id, &by_email) {
            (Some(id), _) => existing(&state, id).await?,
            (None, Some(email)) => user_by_email(&state, email).await?.ok_or_else(|| {
                ApiError::not_found(format!("no user has the email {email:?}"))
                    .with_param("user_email")
            })?,
            (None, None) => {
                return Err(
                    ApiError::bad_request("pass `user_id` or `user_email`").with_param("user_id")
                );
            }
        };
        let patch = UserPatch {
            // Named by email, the email is the name, not a change.
            user_email: if by_id.is_some() {
                field(&fields, "user_email")?
            } else {
                None
            },
            user_role: optional::<String>(&fields, "user_role")?
                .map(checked_role)
                .transpose()?,
            teams: None,
            models: field::<Vec<String>>(&fields, "models")?.map(Option::unwrap_or_default),
            max_budget: amount(&fields, "max_budget")?,
            spend: amount(&fields, "spend")?.map(|s| s.unwrap_or(0.0)),
            metadata: field::<Map<String, Value>>(&fields, "metadata")?
                .map(Option::unwrap_or_default),
            object_permission: permission_patch(&fields, existing.object_permission.as_ref())?,
        };
        let user = state
            .store
            .update_user(&existing.user_id, &patch)
            .await
            .map_err(user_conflict)?
            .ok_or_else(|| not_found(&existing.user_id))?;
        Ok(axum::Json(json!({"user_id": user.user_id, "data": user_json(&user)})).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `/user/list` filters and paging, as LiteLLM names them.
#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    page_size: Option<String>,
    role: Option<String>,
    /// Comma-separated.
    user_ids: Option<String>,
    /// Users with this team in their `teams`.
    team: Option<String>,
}

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let page = page_number(query.page.as_deref(), "page", 1, 1_000_000)?;
        let page_size = page_number(query.page_size.as_deref(), "page_size", 25, 100)?;
        let wanted: Option<Vec<&str>> = query.user_ids.as_deref().map(|ids| {
            ids.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        });
        let users: Vec<UserRecord> = state
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| query.role.as_ref().is_none_or(|r| *r == u.user_role))
            .filter(|u| query.team.as_ref().is_none_or(|t| u.teams.contains(t)))
            .filter(|u| {
                wanted
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&u.user_id.as_str()))
            })
            .collect();
        let keys = state.store.list_keys().await?;
        let total = users.len();
        let listed: Vec<Value> = users
            .iter()
            .skip((page - 1).saturating_mul(page_size))
            .take(page_size)
            .map(|u| {
                let mut user = user_json(u);
                let count = keys
                    .iter()
                    .filter(|k| k.user_id.as_deref() == Some(u.user_id.as_str()))
                    .count();
                user.insert("key_count".into(), json!(count));
                Value::Object(user)
            })
            .collect();
        Ok(axum::Json(json!({
            "users": listed,
            "total": total,
            "page": page,
            "page_size": page_size,
            "total_pages": total.div_ceil(page_size),
        }))
        .into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn delete(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let ids = id_list(&fields, "user_ids")?;
        let mut users = Vec::with_capacity(ids.len());
        for id in &ids {
            users.push(existing(&state, id).await?);
        }
        // Off every team that lists them, by id or by email.
        for team in state.store.list_teams(None).await? {
            let members: Vec<TeamMember> = team
                .members_with_roles
                .iter()
                .filter(|m| !users.iter().any(|u| same_person(m, &as_member(u))))
                .cloned()
                .collect();
            if members.len() != team.members_with_roles.len() {
                set_members(&state, &team.team_id, members).await?;
            }
        }
        let keys: Vec<String> = state
            .store
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| k.user_id.as_ref().is_some_and(|u| ids.contains(u)))
            .map(|k| k.token_hash)
            .collect();
        for hash in state.store.delete_keys(&keys).await? {
            state.auth.forget(&hash);
        }
        let deleted = state.store.delete_users(&ids).await?;
        Ok(axum::Json(json!({"deleted_users": deleted})).into_response())
    }
    .await;
    super::finish(result, log)
}

/// LiteLLM's user object (`LiteLLM_UserTable`), with the fields Junction keeps.
pub(crate) fn user_json(user: &UserRecord) -> Map<String, Value> {
    object(json!({
        "user_id": user.user_id,
        "user_email": user.user_email,
        "user_role": user.user_role,
        "teams": user.teams,
        "models": user.models,
        "max_budget": user.max_budget,
        "spend": user.spend,
        "metadata": user.metadata,
        "object_permission": user.object_permission,
        "created_at": iso8601(user.created_at),
        "updated_at": iso8601(user.updated_at),
    }))
}

/// The user whose email is `email`, compared without case as the store's uniqueness does.
pub(crate) async fn user_by_email(
    state: &SharedState,
    email: &str,
) -> Result<Option<UserRecord>, ApiError> {
    Ok(state.store.list_users().await?.into_iter().find(|u| {
        u.user_email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }))
}

fn as_member(user: &UserRecord) -> TeamMember {
    TeamMember {
        user_id: Some(user.user_id.clone()),
        user_email: user.user_email.clone(),
        role: String::new(),
    }
}

/// `teams` of `/user/new`: team ids, or LiteLLM's `{"team_id", "user_role"}` objects.
fn team_list(fields: &Map<String, Value>) -> Result<Vec<(String, String)>, ApiError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Id(String),
        Team {
            team_id: String,
            #[serde(default)]
            user_role: Option<String>,
        },
    }
    let entries = optional::<Vec<Entry>>(fields, "teams")?.unwrap_or_default();
    entries
        .into_iter()
        .map(|entry| match entry {
            Entry::Id(id) => Ok((id, "user".to_owned())),
            Entry::Team { team_id, user_role } => {
                let role = user_role.unwrap_or_else(|| "user".to_owned());
                if role == "user" || role == "admin" {
                    Ok((team_id, role))
                } else {
                    Err(ApiError::bad_request(format!(
                        "a team's `user_role` must be \"admin\" or \"user\", not {role:?}"
                    ))
                    .with_param("teams"))
                }
            }
        })
        .collect()
}

fn checked_role(role: String) -> Result<String, ApiError> {
    if ROLES.contains(&role.as_str()) {
        Ok(role)
    } else {
        Err(ApiError::bad_request(format!(
            "`user_role` must be one of {}, not {role:?}",
            ROLES.join(", ")
        ))
        .with_param("user_role"))
    }
}

fn page_number(
    text: Option<&str>,
    name: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(default);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(
            ApiError::bad_request(format!("`{name}` must be a whole number from 1 to {max}"))
                .with_param(name),
        ),
    }
}

fn duration_secs(text: &str) -> Result<i64, ApiError> {
    parse_duration(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid duration {text:?}: expected a number followed by s, m, h, d, w or mo"
        ))
        .with_param("duration")
    })
}

async fn existing(state: &SharedState, id: &str) -> Result<UserRecord, ApiError> {
    state.store.user(id).await?.ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("user {id:?} not found")).with_param("user_id")
}

/// LiteLLM answers a duplicate user id or email with 409; the message says which.
fn user_conflict(err: StoreError) -> ApiError {
    let param = match &err {
        StoreError::Conflict(message) if message.contains("user_email") => "user_email",
        _ => "user_id",
    };
    store_error(err, StatusCode::CONFLICT, param)
}
