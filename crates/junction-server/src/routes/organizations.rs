//! Organisations with LiteLLM's API: `/organization/new`, `/organization/update` (PATCH, and
//! POST), `/organization/info` (GET `?organization_id=`, and LiteLLM's older POST
//! `{"organizations": [...]}`), `/organization/list`, `/organization/delete` (DELETE, and POST).
//!
//! Only the master key manages organisations. An organisation's `object_permission` is the MCP
//! ceiling of its teams and keys. Answers have LiteLLM's shape: the budget is also under
//! `litellm_budget_table`, and info, list, update and delete carry the organisation's `teams`
//! (`members` is always empty: organisation membership is not kept). Deleting an organisation
//! deletes its teams (with their keys) and its keys, as LiteLLM does.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use junction_store::{NewOrganization, OrganizationPatch, OrganizationRecord, TeamRecord};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::teams::{delete_cascade, id_list, team_json};
use super::{
    admin, amount, chosen_id, field, new_permission, object, optional, permission_patch,
    required_id, store_error,
};
use crate::access_log::RequestLog;
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::state::SharedState;

const MANAGING: &str = "managing organizations";

pub async fn new(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let alias = required_id(&fields, "organization_alias")?;
        let new = NewOrganization {
            organization_id: chosen_id(&fields, "organization_id")?,
            organization_alias: Some(alias),
            models: optional(&fields, "models")?.unwrap_or_default(),
            max_budget: amount(&fields, "max_budget")?.flatten(),
            metadata: optional(&fields, "metadata")?.unwrap_or_default(),
            object_permission: new_permission(&fields)?,
        };
        let org = state
            .store
            .insert_organization(&new)
            .await
            .map_err(|e| store_error(e, StatusCode::BAD_REQUEST, "organization_id"))?;
        Ok(axum::Json(Value::Object(organization_json(&org, None))).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn update(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let id = required_id(&fields, "organization_id")?;
        let existing = existing(&state, &id).await?;
        let patch = OrganizationPatch {
            organization_alias: field(&fields, "organization_alias")?,
            models: field::<Vec<String>>(&fields, "models")?.map(Option::unwrap_or_default),
            max_budget: amount(&fields, "max_budget")?,
            spend: amount(&fields, "spend")?.map(|s| s.unwrap_or(0.0)),
            metadata: field::<Map<String, Value>>(&fields, "metadata")?
                .map(Option::unwrap_or_default),
            object_permission: permission_patch(&fields, existing.object_permission.as_ref())?,
        };
        let org = state
            .store
            .update_organization(&id, &patch)
            .await?
            .ok_or_else(|| not_found(&id))?;
        state.auth.forget_all();
        let teams = state.store.list_teams(Some(&id)).await?;
        Ok(axum::Json(Value::Object(organization_json(&org, Some(&teams)))).into_response())
    }
    .await;
    super::finish(result, log)
}

#[derive(Deserialize)]
pub struct InfoQuery {
    organization_id: Option<String>,
}

pub async fn info(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<InfoQuery>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let Some(id) = query.organization_id.filter(|id| !id.is_empty()) else {
            return Err(
                ApiError::bad_request("pass ?organization_id=").with_param("organization_id")
            );
        };
        let org = existing(&state, &id).await?;
        let teams = state.store.list_teams(Some(&id)).await?;
        Ok(axum::Json(Value::Object(organization_json(&org, Some(&teams)))).into_response())
    }
    .await;
    super::finish(result, log)
}

/// LiteLLM's deprecated `POST /organization/info`: several organisations at once; unknown ids
/// are left out of the answer.
pub async fn info_many(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let fields = super::read_object(&state, &headers, body).await?;
        let ids = id_list(&fields, "organizations")?;
        let mut found = Vec::new();
        for id in &ids {
            if let Some(org) = state.store.organization(id).await? {
                let teams = state.store.list_teams(Some(id)).await?;
                found.push(Value::Object(organization_json(&org, Some(&teams))));
            }
        }
        Ok(axum::Json(Value::Array(found)).into_response())
    }
    .await;
    super::finish(result, log)
}

pub async fn list(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        admin(&state, &headers, &mut log, MANAGING).await?;
        let orgs = state.store.list_organizations().await?;
        let teams = state.store.list_teams(None).await?;
        let listed: Vec<Value> = orgs
            .iter()
            .map(|org| {
                let own: Vec<TeamRecord> = teams
                    .iter()
                    .filter(|t| t.organization_id.as_ref() == Some(&org.organization_id))
                    .cloned()
                    .collect();
                Value::Object(organization_json(org, Some(&own)))
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
        let ids = id_list(&fields, "organization_ids")?;
        // Every id must exist before anything is deleted.
        let mut orgs = Vec::with_capacity(ids.len());
        for id in &ids {
            let org = existing(&state, id).await?;
            let teams = state.store.list_teams(Some(id)).await?;
            orgs.push((org, teams));
        }
        let mut answer = Vec::with_capacity(orgs.len());
        for (org, teams) in &orgs {
            delete_cascade(&state, teams).await?;
            answer.push(Value::Object(organization_json(org, Some(teams))));
        }
        let keys: Vec<String> = state
            .store
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| k.organization_id.as_ref().is_some_and(|o| ids.contains(o)))
            .map(|k| k.token_hash)
            .collect();
        for hash in state.store.delete_keys(&keys).await? {
            state.auth.forget(&hash);
        }
        state.store.delete_organizations(&ids).await?;
        state.auth.forget_all();
        Ok(axum::Json(Value::Array(answer)).into_response())
    }
    .await;
    super::finish(result, log)
}

/// LiteLLM's organisation object; with `teams`, the `…WithMembers` form.
fn organization_json(org: &OrganizationRecord, teams: Option<&[TeamRecord]>) -> Map<String, Value> {
    let mut body = object(json!({
        "organization_id": org.organization_id,
        "organization_alias": org.organization_alias,
        "models": org.models,
        "max_budget": org.max_budget,
        "spend": org.spend,
        "metadata": org.metadata,
        "object_permission": org.object_permission,
        "litellm_budget_table": {"max_budget": org.max_budget},
        "created_at": iso8601(org.created_at),
        "updated_at": iso8601(org.updated_at),
    }));
    if let Some(teams) = teams {
        body.insert("members".into(), json!([]));
        body.insert(
            "teams".into(),
            Value::Array(teams.iter().map(|t| Value::Object(team_json(t))).collect()),
        );
    }
    body
}

async fn existing(state: &SharedState, id: &str) -> Result<OrganizationRecord, ApiError> {
    state
        .store
        .organization(id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("organization {id:?} not found")).with_param("organization_id")
}
