//! The records exchanged with the store. Keys: what is inserted ([`NewKey`]),
//! what is read back ([`KeyRecord`]) and partial updates ([`KeyPatch`]);
//! field names follow LiteLLM's `LiteLLM_VerificationToken` so the server can
//! expose them unchanged. Responses-API responses kept with `store: true`:
//! [`StoredResponse`], written and read back whole.

use serde_json::{Map, Value};

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
