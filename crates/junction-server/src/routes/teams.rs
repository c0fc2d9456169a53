//! Teams with LiteLLM's API: `/team/new`, `/team/update`, `/team/info`, `/team/list`,
//! `/team/delete`, `/team/member_add`, `/team/member_delete`.
//!
//! Only the master key manages teams; a key of a team may read that team's `/team/info`.
//! As in LiteLLM, membership is kept on both sides: a team's `members_with_roles` and each
//! member's user record (`teams`); adding a member who is not a user yet creates the user
//! (role `internal_user`), and deleting a team deletes its keys and takes it off its users.
//! Unknown ids answer 404; a team's organisation must exist (400 naming `organization_id`).
//! A change to a team drops the authenticator's cached keys, whose permissions and budgets
//! are read together with their team.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use junction_store::{NewTeam, NewUser, StoreError, TeamMember, TeamPatch, TeamRecord, UserRecord};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::keys::key_json;
use super::users::{user_by_email, user_json};
use super::{
    admin, amount, chosen_id, field, new_permission, object, optional, permission_patch,
    required_id, store_error,
};
use crate::access_log::RequestLog;
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

const MANAGING: &str = "managing teams";

pub async fn new(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let organization_id = optional::<String>(&fields, "organization_id")?;
        let members = match optional::<Vec<Value>>(&fields, "members_with_roles")? {
            Some(list) => list
                .iter()
                .map(|m| parse_member(m, "members_with_roles"))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let new = NewTeam {
            team_id: chosen_id(&fields, "team_id")?,
            team_alias: optional(&fields, "team_alias")?,
            organization_id,
            models: optional(&fields, "models")?.unwrap_or_default(),
            max_budget: amount(&fields, "max_budget")?.flatten(),
            members_with_roles: Vec::new(),
            metadata: optional(&fields, "metadata")?.unwrap_or_default(),
            blocked: optional(&fields, "blocked")?.unwrap_or(false),
            object_permission: new_permission(&fields)?,
        };
        if let Some(org) = &new.organization_id {
            organization_must_exist(&state, org).await?;
        }
        let team = state.store.insert_team(&new).await.map_err(team_conflict)?;
        let (team, _) = add_members(&state, team, members).await?;
        Ok(axum::Json(Value::Object(team_json(&team))).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn update(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let team_id = required_id(&fields, "team_id")?;
        let existing = existing_team(&state, &team_id).await?;
        let patch = TeamPatch {
            team_alias: field(&fields, "team_alias")?,
            organization_id: field(&fields, "organization_id")?,
            models: field::<Vec<String>>(&fields, "models")?.map(Option::unwrap_or_default),
            max_budget: amount(&fields, "max_budget")?,
            spend: None,
            members_with_roles: None,
            metadata: field::<Map<String, Value>>(&fields, "metadata")?
                .map(Option::unwrap_or_default),
            blocked: field::<bool>(&fields, "blocked")?.map(|b| b.unwrap_or(false)),
            object_permission: permission_patch(&fields, existing.object_permission.as_ref())?,
        };
        if let Some(Some(org)) = &patch.organization_id {
            organization_must_exist(&state, org).await?;
        }
        let team = state
            .store
            .update_team(&team_id, &patch)
            .await
            .map_err(team_conflict)?
            .ok_or_else(|| team_not_found(&team_id))?;
        state.auth.forget_all();
        Ok(axum::Json(json!({"team_id": team.team_id, "data": team_json(&team)})).into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
pub struct InfoQuery {
    team_id: Option<String>,
}

pub async fn info(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<InfoQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = super::caller(&state, &headers, &mut log).await?;
        let team_id = match (query.team_id, &principal) {
            (Some(id), _) => id,
            (None, Principal::Key(holder)) if holder.key.team_id.is_some() => {
                holder.key.team_id.clone().unwrap_or_default()
            }
            (None, _) => {
                return Err(ApiError::bad_request("pass ?team_id=").with_param("team_id"));
            }
        };
        let own = principal
            .key()
            .is_some_and(|k| k.team_id.as_deref() == Some(team_id.as_str()));
        if !principal.is_admin() && !own {
            return Err(ApiError::forbidden(
                "a key may only read its own team's info; other teams need the master key",
            ));
        }
        let team = existing_team(&state, &team_id).await?;
        let keys: Vec<Value> = state
            .store
            .list_keys()
            .await?
            .iter()
            .filter(|k| k.team_id.as_deref() == Some(team_id.as_str()))
            .map(|k| Value::Object(key_json(k)))
            .collect();
        Ok(axum::Json(json!({
            "team_id": team.team_id,
            "team_info": team_json(&team),
            "keys": keys,
            "team_memberships": [],
        }))
        .into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
pub struct ListQuery {
    organization_id: Option<String>,
    /// Only the teams this user is a member of.
    user_id: Option<String>,
}

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let teams = state
            .store
            .list_teams(query.organization_id.as_deref())
            .await?;
        let keys = state.store.list_keys().await?;
        let listed: Vec<Value> = teams
            .iter()
            .filter(|t| {
                query.user_id.as_deref().is_none_or(|user| {
                    t.members_with_roles
                        .iter()
                        .any(|m| m.user_id.as_deref() == Some(user))
                })
            })
            .map(|t| {
                let mut team = team_json(t);
                let own: Vec<Value> = keys
                    .iter()
                    .filter(|k| k.team_id.as_deref() == Some(t.team_id.as_str()))
                    .map(|k| Value::Object(key_json(k)))
                    .collect();
                team.insert("keys".into(), Value::Array(own));
                team.insert("team_memberships".into(), json!([]));
                Value::Object(team)
            })
            .collect();
        Ok(axum::Json(Value::Array(listed)).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn delete(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let ids = id_list(&fields, "team_ids")?;
        let mut teams = Vec::with_capacity(ids.len());
        for id in &ids {
            teams.push(existing_team(&state, id).await?);
        }
        let deleted = delete_cascade(&state, &teams).await?;
        Ok(axum::Json(json!({"deleted_teams": deleted})).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn member_add(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let team_id = required_id(&fields, "team_id")?;
        let members = match fields.get("member") {
            Some(Value::Array(list)) if !list.is_empty() => list
                .iter()
                .map(|m| parse_member(m, "member"))
                .collect::<Result<Vec<_>, _>>()?,
            Some(one @ Value::Object(_)) => vec![parse_member(one, "member")?],
            _ => {
                return Err(ApiError::bad_request(
                    "`member` is required: {\"role\", \"user_id\" or \"user_email\"} or a list of them",
                )
                .with_param("member"));
            }
        };
        let team = existing_team(&state, &team_id).await?;
        let already = members
            .iter()
            .filter(|m| is_member(&team.members_with_roles, m))
            .count();
        if already == members.len() {
            let message = if members.len() == 1 {
                "the user is already in the team"
            } else {
                "all the users are already in the team"
            };
            return Err(ApiError::bad_request(message).with_param("member"));
        }
        let (team, users) = add_members(&state, team, members).await?;
        let mut body = team_json(&team);
        body.insert(
            "updated_users".into(),
            Value::Array(users.iter().map(|u| Value::Object(user_json(u))).collect()),
        );
        body.insert("updated_team_memberships".into(), json!([]));
        Ok(axum::Json(Value::Object(body)).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn member_delete(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let team_id = required_id(&fields, "team_id")?;
        let user_id = optional::<String>(&fields, "user_id")?;
        let user_email = optional::<String>(&fields, "user_email")?;
        if user_id.is_none() && user_email.is_none() {
            return Err(
                ApiError::bad_request("pass `user_id` or `user_email`").with_param("user_id")
            );
        }
        let team = existing_team(&state, &team_id).await?;
        let gone = TeamMember {
            user_id: user_id.clone(),
            user_email: user_email.clone(),
            role: String::new(),
        };
        if !is_member(&team.members_with_roles, &gone) {
            return Err(ApiError::bad_request(format!(
                "the user is not a member of team {team_id:?}"
            ))
            .with_param(if user_id.is_some() {
                "user_id"
            } else {
                "user_email"
            }));
        }
        let members: Vec<TeamMember> = team
            .members_with_roles
            .iter()
            .filter(|m| !same_person(m, &gone))
            .cloned()
            .collect();
        let team = set_members(&state, &team.team_id, members).await?;
        // The user's side, found by id or by email like the member entry.
        let mut users = Vec::new();
        if let Some(id) = &user_id
            && let Some(user) = state.store.user(id).await?
        {
            users.push(user);
        }
        if let Some(email) = &user_email
            && let Some(user) = user_by_email(&state, email).await?
            && !users.iter().any(|u| u.user_id == user.user_id)
        {
            users.push(user);
        }
        for user in users {
            leave_teams(&state, &user, std::slice::from_ref(&team_id)).await?;
        }
        Ok(axum::Json(Value::Object(team_json(&team))).into_response())
    }
    .await;
    super::finish(result, log)
}

/// LiteLLM's team object (`LiteLLM_TeamTable`), with the fields Junction keeps.
pub(crate) fn team_json(team: &TeamRecord) -> Map<String, Value> {
    object(json!({
        "team_id": team.team_id,
        "team_alias": team.team_alias,
        "organization_id": team.organization_id,
        "models": team.models,
        "max_budget": team.max_budget,
        "spend": team.spend,
        "members_with_roles": team.members_with_roles,
        "metadata": team.metadata,
        "blocked": team.blocked,
        "object_permission": team.object_permission,
        "created_at": iso8601(team.created_at),
        "updated_at": iso8601(team.updated_at),
    }))
}

/// Deletes `teams` with what hangs on them, as LiteLLM does: their keys, and their ids in
/// users' `teams`. Returns the ids deleted.
pub(crate) async fn delete_cascade(
    state: &SharedState,
    teams: &[TeamRecord],
) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = teams.iter().map(|t| t.team_id.clone()).collect();
    if ids.is_empty() {
        return Ok(ids);
    }
    let keys: Vec<String> = state
        .store
        .list_keys()
        .await?
        .into_iter()
        .filter(|k| k.team_id.as_ref().is_some_and(|t| ids.contains(t)))
        .map(|k| k.token_hash)
        .collect();
    for hash in state.store.delete_keys(&keys).await? {
        state.auth.forget(&hash);
    }
    for user in state.store.list_users().await? {
        leave_teams(state, &user, &ids).await?;
    }
    let deleted = state.store.delete_teams(&ids).await?;
    state.auth.forget_all();
    Ok(deleted)
}

/// Adds `members` to `team`: each becomes a user if it is not one yet, gets the team in its
/// `teams`, and is appended to `members_with_roles` unless already there. Returns the team
/// and the users touched.
pub(crate) async fn add_members(
    state: &SharedState,
    team: TeamRecord,
    members: Vec<TeamMember>,
) -> Result<(TeamRecord, Vec<UserRecord>), ApiError> {
    if members.is_empty() {
        return Ok((team, Vec::new()));
    }
    let mut list = team.members_with_roles.clone();
    let mut users = Vec::with_capacity(members.len());
    for mut member in members {
        let user = join_team(state, &member, &team.team_id).await?;
        member.user_id = Some(user.user_id.clone());
        if !is_member(&list, &member) {
            list.push(member);
        }
        users.push(user);
    }
    let team = set_members(state, &team.team_id, list).await?;
    Ok((team, users))
}

/// Puts `team_id` in the `teams` of the user `member` names, creating the user if needed.
async fn join_team(
    state: &SharedState,
    member: &TeamMember,
    team_id: &str,
) -> Result<UserRecord, ApiError> {
    let mut found = match &member.user_id {
        Some(id) => state.store.user(id).await?,
        None => None,
    };
    if found.is_none()
        && let Some(email) = &member.user_email
    {
        found = user_by_email(state, email).await?;
    }
    let Some(user) = found else {
        let new = NewUser {
            user_id: match &member.user_id {
                Some(id) => id.clone(),
                None => crate::ids::uuid_v4(),
            },
            user_email: member.user_email.clone(),
            user_role: "internal_user".into(),
            teams: vec![team_id.to_owned()],
            models: Vec::new(),
            max_budget: None,
            metadata: Map::new(),
            object_permission: None,
        };
        return state
            .store
            .insert_user(&new)
            .await
            .map_err(|e| store_error(e, StatusCode::CONFLICT, "member"));
    };
    if user.teams.iter().any(|t| t == team_id) {
        return Ok(user);
    }
    let mut teams = user.teams.clone();
    teams.push(team_id.to_owned());
    let patch = junction_store::UserPatch {
        teams: Some(teams),
        ..Default::default()
    };
    Ok(state
        .store
        .update_user(&user.user_id, &patch)
        .await?
        .unwrap_or(user))
}

/// Takes `team_ids` out of the user's `teams`, if any are there.
pub(crate) async fn leave_teams(
    state: &SharedState,
    user: &UserRecord,
    team_ids: &[String],
) -> Result<(), ApiError> {
    if !user.teams.iter().any(|t| team_ids.contains(t)) {
        return Ok(());
    }
    let patch = junction_store::UserPatch {
        teams: Some(
            user.teams
                .iter()
                .filter(|t| !team_ids.contains(t))
                .cloned()
                .collect(),
        ),
        ..Default::default()
    };
    state.store.update_user(&user.user_id, &patch).await?;
    Ok(())
}

/// Replaces a team's member list.
pub(crate) async fn set_members(
    state: &SharedState,
    team_id: &str,
    members: Vec<TeamMember>,
) -> Result<TeamRecord, ApiError> {
    let patch = TeamPatch {
        members_with_roles: Some(members),
        ..TeamPatch::default()
    };
    let team = state
        .store
        .update_team(team_id, &patch)
        .await?
        .ok_or_else(|| team_not_found(team_id))?;
    state.auth.forget_all();
    Ok(team)
}

/// Whether `member` names the same user as one of `list` (by id, or by email).
pub(crate) fn is_member(list: &[TeamMember], member: &TeamMember) -> bool {
    list.iter().any(|m| same_person(m, member))
}

pub(crate) fn same_person(a: &TeamMember, b: &TeamMember) -> bool {
    let same = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    let same_email = match (&a.user_email, &b.user_email) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    };
    same(&a.user_id, &b.user_id) || same_email
}

/// A `Member`: `role` is `admin` or `user`, and `user_id` or `user_email` names the user.
fn parse_member(value: &Value, param: &'static str) -> Result<TeamMember, ApiError> {
    let bad = |message: String| ApiError::bad_request(message).with_param(param);
    let member: TeamMember = serde_json::from_value(value.clone())
        .map_err(|e| bad(format!("invalid `{param}` entry: {e}")))?;
    if member.role != "admin" && member.role != "user" {
        return Err(bad(format!(
            "a member's `role` must be \"admin\" or \"user\", not {:?}",
            member.role
        )));
    }
    let named = |s: &Option<String>| s.as_ref().is_some_and(|s| !s.trim().is_empty());
    if !named(&member.user_id) && !named(&member.user_email) {
        return Err(bad(
            "a member needs a `user_id` or a `user_email`".to_owned()
        ));
    }
    Ok(member)
}

/// A non-empty list of ids (`team_ids`, `user_ids`, `organization_ids`).
pub(crate) fn id_list(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<String>, ApiError> {
    match optional::<Vec<String>>(fields, name)? {
        Some(ids) if !ids.is_empty() => Ok(ids),
        _ => Err(
            ApiError::bad_request(format!("`{name}` is required: a list of ids")).with_param(name),
        ),
    }
}

pub(crate) async fn existing_team(
    state: &SharedState,
    team_id: &str,
) -> Result<TeamRecord, ApiError> {
    state
        .store
        .team(team_id)
        .await?
        .ok_or_else(|| team_not_found(team_id))
}

fn team_not_found(team_id: &str) -> ApiError {
    ApiError::not_found(format!("team {team_id:?} not found")).with_param("team_id")
}

async fn organization_must_exist(state: &SharedState, id: &str) -> Result<(), ApiError> {
    if state.store.organization(id).await?.is_some() {
        Ok(())
    } else {
        Err(
            ApiError::bad_request(format!("organization_id {id:?} does not exist"))
                .with_param("organization_id"),
        )
    }
}

/// LiteLLM answers a duplicate team id with 400; the message says which value is taken.
fn team_conflict(err: StoreError) -> ApiError {
    let param = match &err {
        StoreError::Conflict(message) if message.contains("team_alias") => "team_alias",
        _ => "team_id",
    };
    store_error(err, StatusCode::BAD_REQUEST, param)
}
