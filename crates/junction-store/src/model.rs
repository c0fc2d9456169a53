//! The records exchanged with the store. Keys: what is inserted ([`NewKey`]),
//! what is read back ([`KeyRecord`]) and partial updates ([`KeyPatch`]);
//! field names follow LiteLLM's `LiteLLM_VerificationToken` so the server can
//! expose them unchanged. Teams, organisations and users (LiteLLM's
//! `LiteLLM_TeamTable`, `LiteLLM_OrganizationTable`, `LiteLLM_UserTable`) follow
//! the same new / record / patch pattern. Responses-API responses kept with
//! `store: true`: [`StoredResponse`], written and read back whole.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// LiteLLM's `object_permission` of a key, team or organisation: which MCP servers it may
/// reach. Server references are names, aliases or LiteLLM ids as the admin wrote them; the
/// server resolves them. `None` means "not set" (the level does not restrict), an empty
/// list means "nothing". In `mcp_tool_permissions`, a server's list of bare (unprefixed)
/// tool names limits that server's tools; `[]` allows none.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObjectPermission {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_access_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_tool_permissions: Option<BTreeMap<String, Vec<String>>>,
}

impl ObjectPermission {
    /// Whether this permission names any server, group or tool list at all.
    pub fn is_set(&self) -> bool {
        self.mcp_servers.as_ref().is_some_and(|s| !s.is_empty())
            || self
                .mcp_access_groups
                .as_ref()
                .is_some_and(|g| !g.is_empty())
            || self
                .mcp_tool_permissions
                .as_ref()
                .is_some_and(|t| !t.is_empty())
    }
}

/// A key to insert. `token_hash` is [`crate::hash_key`] of the raw key; the
/// raw key itself is never given to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKey {
    /// Lowercase hex SHA-256 of the raw key (64 characters).
    pub token_hash: String,
    /// Display name, normally [`crate::key_display_name`] of the raw key.
    pub key_name: String,
    /// Optional human-chosen name; unique across keys.
    pub key_alias: Option<String>,
    /// Models the key may use (empty = all).
    pub models: Vec<String>,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// Maximum spend in USD.
    pub max_budget: Option<f64>,
    /// Owning team.
    pub team_id: Option<String>,
    /// Owning user.
    pub user_id: Option<String>,
    /// Requests per minute limit.
    pub rpm_limit: Option<i64>,
    /// Tokens per minute limit.
    pub tpm_limit: Option<i64>,
    /// Expiry time, unix seconds.
    pub expires_at: Option<i64>,
    /// Which MCP servers and tools the key may reach (`None`: not restricted at this level).
    pub object_permission: Option<ObjectPermission>,
    /// Owning organisation.
    pub organization_id: Option<String>,
}

/// A stored key: every [`NewKey`] field plus the store-managed ones.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KeyRecord {
    /// Lowercase hex SHA-256 of the raw key.
    pub token_hash: String,
    /// Display name (`sk-...abcd`).
    pub key_name: String,
    /// Optional unique alias.
    pub key_alias: Option<String>,
    /// Models the key may use (empty = all).
    pub models: Vec<String>,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// Maximum spend in USD.
    pub max_budget: Option<f64>,
    /// Owning team.
    pub team_id: Option<String>,
    /// Owning user.
    pub user_id: Option<String>,
    /// Requests per minute limit.
    pub rpm_limit: Option<i64>,
    /// Tokens per minute limit.
    pub tpm_limit: Option<i64>,
    /// Expiry time, unix seconds.
    pub expires_at: Option<i64>,
    /// Which MCP servers and tools the key may reach.
    pub object_permission: Option<ObjectPermission>,
    /// Owning organisation.
    pub organization_id: Option<String>,
    /// Accumulated spend in USD.
    pub spend: f64,
    /// Whether the key is blocked.
    pub blocked: bool,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

/// A partial update. `None` leaves a field unchanged; for nullable columns
/// `Some(None)` clears the value and `Some(Some(v))` sets it.
#[derive(Debug, Clone, Default)]
pub struct KeyPatch {
    /// New alias, or `Some(None)` to remove it.
    pub key_alias: Option<Option<String>>,
    /// New model list.
    pub models: Option<Vec<String>>,
    /// New metadata (replaces the whole object).
    pub metadata: Option<Map<String, Value>>,
    /// New budget, or `Some(None)` to remove it.
    pub max_budget: Option<Option<f64>>,
    /// New team, or `Some(None)` to remove it.
    pub team_id: Option<Option<String>>,
    /// New user, or `Some(None)` to remove it.
    pub user_id: Option<Option<String>>,
    /// New rpm limit, or `Some(None)` to remove it.
    pub rpm_limit: Option<Option<i64>>,
    /// New tpm limit, or `Some(None)` to remove it.
    pub tpm_limit: Option<Option<i64>>,
    /// New expiry, or `Some(None)` to remove it.
    pub expires_at: Option<Option<i64>>,
    /// Block or unblock the key.
    pub blocked: Option<bool>,
    /// Overwrite the accumulated spend (e.g. reset to 0).
    pub spend: Option<f64>,
    /// New MCP permission (replaces the whole object), or `Some(None)` to remove it.
    pub object_permission: Option<Option<ObjectPermission>>,
    /// New organisation, or `Some(None)` to remove it.
    pub organization_id: Option<Option<String>>,
}

/// One entry of a team's `members_with_roles` (LiteLLM's `Member`): a user named by id,
/// by email, or both, and their role in the team (`"admin"` or `"user"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamMember {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    pub role: String,
}

/// A team to insert. `team_id` is chosen by the caller (LiteLLM generates a UUID when the
/// client gives none).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTeam {
    pub team_id: String,
    /// Optional human-chosen name; unique across teams.
    pub team_alias: Option<String>,
    /// Owning organisation.
    pub organization_id: Option<String>,
    /// Models the team may use (empty = all).
    pub models: Vec<String>,
    /// Maximum spend in USD.
    pub max_budget: Option<f64>,
    pub members_with_roles: Vec<TeamMember>,
    pub metadata: Map<String, Value>,
    /// Whether every key of the team is refused.
    pub blocked: bool,
    /// Which MCP servers and tools the team's keys may reach.
    pub object_permission: Option<ObjectPermission>,
}

/// A stored team: every [`NewTeam`] field plus the store-managed ones.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TeamRecord {
    pub team_id: String,
    pub team_alias: Option<String>,
    pub organization_id: Option<String>,
    pub models: Vec<String>,
    pub max_budget: Option<f64>,
    /// Accumulated spend in USD.
    pub spend: f64,
    pub members_with_roles: Vec<TeamMember>,
    pub metadata: Map<String, Value>,
    pub blocked: bool,
    pub object_permission: Option<ObjectPermission>,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

/// A partial update of a team, with [`KeyPatch`]'s convention: `None` leaves a field
/// unchanged, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct TeamPatch {
    pub team_alias: Option<Option<String>>,
    pub organization_id: Option<Option<String>>,
    pub models: Option<Vec<String>>,
    pub max_budget: Option<Option<f64>>,
    /// Overwrite the accumulated spend.
    pub spend: Option<f64>,
    /// Replaces the whole member list.
    pub members_with_roles: Option<Vec<TeamMember>>,
    /// Replaces the whole object.
    pub metadata: Option<Map<String, Value>>,
    pub blocked: Option<bool>,
    /// Replaces the whole object, or `Some(None)` removes it.
    pub object_permission: Option<Option<ObjectPermission>>,
}

/// An organisation to insert. `organization_id` is chosen by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrganization {
    pub organization_id: String,
    /// Display name; not unique (LiteLLM allows two organisations with one alias).
    pub organization_alias: Option<String>,
    /// Models the organisation's teams and keys may use (empty = all).
    pub models: Vec<String>,
    pub max_budget: Option<f64>,
    pub metadata: Map<String, Value>,
    /// The MCP ceiling of everything in the organisation.
    pub object_permission: Option<ObjectPermission>,
}

/// A stored organisation: every [`NewOrganization`] field plus the store-managed ones.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrganizationRecord {
    pub organization_id: String,
    pub organization_alias: Option<String>,
    pub models: Vec<String>,
    pub max_budget: Option<f64>,
    /// Accumulated spend in USD.
    pub spend: f64,
    pub metadata: Map<String, Value>,
    pub object_permission: Option<ObjectPermission>,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

/// A partial update of an organisation ([`KeyPatch`]'s convention).
#[derive(Debug, Clone, Default)]
pub struct OrganizationPatch {
    pub organization_alias: Option<Option<String>>,
    pub models: Option<Vec<String>>,
    pub max_budget: Option<Option<f64>>,
    pub spend: Option<f64>,
    pub metadata: Option<Map<String, Value>>,
    pub object_permission: Option<Option<ObjectPermission>>,
}

/// A user to insert (LiteLLM's internal user). `user_id` is chosen by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub user_id: String,
    /// Unique across users, compared without regard to case.
    pub user_email: Option<String>,
    /// LiteLLM's role: `proxy_admin`, `proxy_admin_viewer`, `internal_user`,
    /// `internal_user_viewer`, … (the server defaults it to `internal_user`).
    pub user_role: String,
    /// Ids of the teams the user belongs to.
    pub teams: Vec<String>,
    pub models: Vec<String>,
    pub max_budget: Option<f64>,
    pub metadata: Map<String, Value>,
    /// Which MCP servers and tools the user may reach (LiteLLM accepts it on `/user/new`).
    pub object_permission: Option<ObjectPermission>,
}

/// A stored user: every [`NewUser`] field plus the store-managed ones.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserRecord {
    pub user_id: String,
    pub user_email: Option<String>,
    pub user_role: String,
    pub teams: Vec<String>,
    pub models: Vec<String>,
    pub max_budget: Option<f64>,
    /// Accumulated spend in USD.
    pub spend: f64,
    pub metadata: Map<String, Value>,
    pub object_permission: Option<ObjectPermission>,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

/// A partial update of a user ([`KeyPatch`]'s convention).
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub user_email: Option<Option<String>>,
    pub user_role: Option<String>,
    /// Replaces the whole team list.
    pub teams: Option<Vec<String>>,
    pub models: Option<Vec<String>>,
    pub max_budget: Option<Option<f64>>,
    pub spend: Option<f64>,
    pub metadata: Option<Map<String, Value>>,
    pub object_permission: Option<Option<ObjectPermission>>,
}

/// A response of the OpenAI Responses API kept with `store: true`: what
/// [`crate::Store::put_response`] writes and [`crate::Store::response`]
/// reads back. The store keeps the JSON documents as given and does not
/// interpret them; it does not check `owner` either (the caller compares it
/// with the requester before returning the record).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// The response id (`resp_…`). Must not be empty.
    pub id: String,
    /// Who may read the response: an opaque string chosen by the caller,
    /// such as `key:<hash>` or `team:<id>`. Must not be empty.
    pub owner: String,
    /// The model that produced the response.
    pub model: String,
    /// The response's `status` (`completed`, `incomplete`, `failed`, …).
    pub status: String,
    /// The response this one continues, if any.
    pub previous_response_id: Option<String>,
    /// The full Response JSON object.
    pub response: Value,
    /// This request's input items, with their ids.
    pub input_items: Vec<Value>,
    /// Every item needed to continue the conversation from this response.
    pub conversation: Vec<Value>,
    /// Creation time, unix seconds.
    pub created_at: i64,
}
