//! MCP servers defined through the API and kept in the database, beside those of
//! `config.yaml`: how an API body becomes a stored server (secrets sealed), how stored
//! servers reach the hub's [`Registry`], and how replicas stay in step.
//!
//! One path applies every change: [`StoredServers::reload`] reads the table and makes the
//! registry match it (adding, replacing, removing only what differs). The replica that
//! handles a change calls it at once; every replica also polls the table's revision
//! ([`StoredServers::spawn_sync`], every second) and reloads when another one moved it. So
//! a server added on one replica is served by all of them within about a second, on
//! SQLite (one file, several processes) and Postgres alike, and nothing depends on
//! delivery of a notification.
//!
//! A stored server is its `mcp_servers` entry. Its secrets (`auth_value`, `client_id`,
//! `client_secret`, `env`, `static_headers`) are sealed into one `credentials` column with
//! the salt key (env `LITELLM_SALT_KEY`, else `general_settings.salt_key`, else the master
//! key, as LiteLLM does), so the database holds no credential in clear, and the API only
//! ever shows them masked.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use junction_config::{GeneralSettings, McpServerConfig};
use junction_hub::{Registry, ServerOrigin, Upstream};
use junction_store::{McpServerRecord, NewMcpServer, Sealer, Store, StoreError};
use serde_json::{Map, Value};

/// How often each replica checks whether another changed the stored servers.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Keys of an `mcp_servers` entry that are secrets: sealed when stored, masked when shown.
const SECRET_KEYS: &[&str] = &[
    "auth_value",
    "client_id",
    "client_secret",
    "env",
    "static_headers",
];

/// Keys of an `mcp_servers` entry an API body may set (LiteLLM's names are mapped first).
const ENTRY_KEYS: &[&str] = &[
    "url",
    "transport",
    "command",
    "args",
    "env",
    "auth_type",
    "auth_value",
    "description",
    "alias",
    "spec_path",
    "allowed_tools",
    "disallowed_tools",
    "allowed_params",
    "extra_headers",
    "static_headers",
    "access_groups",
    "allow_all_keys",
    "mcp_info",
    "timeout",
    "client_id",
    "client_secret",
    "token_url",
    "scopes",
    "oauth2_flow",
];

/// Ids LiteLLM reserves for its permission sentinels.
const RESERVED_IDS: &[&str] = &["all-team-mcpservers", "all-proxy-mcpservers"];

/// Why a change to the stored servers was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoredServerError {
    #[error(
        "MCP servers are stored in the database only with general_settings.store_model_in_db: true (and supported_db_objects, when set, including \"mcp\")"
    )]
    Disabled,
    #[error(
        "this server has credentials, and there is no key to seal them with: set LITELLM_SALT_KEY (or general_settings.salt_key, or a master_key)"
    )]
    NoSealer,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("MCP Server not found, passed server_id={0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored servers of one gateway process, and what of them its registry serves.
pub struct StoredServers {
    store: Store,
    registry: Arc<Registry>,
    sealer: Option<Sealer>,
    enabled: bool,
    /// The `config.yaml` servers: their names are taken, and they are shown beside ours.
    config: BTreeMap<String, McpServerConfig>,
    /// Stored servers the registry serves now, by name, as last read.
    applied: tokio::sync::Mutex<BTreeMap<String, McpServerRecord>>,
    /// The table's revision when it was last read.
    seen: AtomicI64,
}

/// One server as the API shows it: its entry and, for stored ones, their record.
pub struct ServerView {
    pub name: String,
    pub entry: McpServerConfig,
    pub record: Option<McpServerRecord>,
}

impl StoredServers {
    pub fn new(
        store: Store,
        registry: Arc<Registry>,
        settings: &GeneralSettings,
        config: BTreeMap<String, McpServerConfig>,
    ) -> StoredServers {
        let env_on = std::env::var("STORE_MODEL_IN_DB")
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"));
        let objects_allow = settings
            .supported_db_objects
            .as_ref()
            .is_none_or(|kinds| kinds.iter().any(|k| k.eq_ignore_ascii_case("mcp")));
        let enabled = (settings.store_model_in_db == Some(true) || env_on) && objects_allow;
        let salt = std::env::var("LITELLM_SALT_KEY")
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| settings.salt_key.clone())
            .or_else(|| settings.master_key.clone());
        StoredServers {
            store,
            registry,
            sealer: salt.as_deref().and_then(Sealer::new),
            enabled,
            config,
            applied: tokio::sync::Mutex::default(),
            seen: AtomicI64::new(-1),
        }
    }

    /// Makes the registry serve exactly what the table holds now. A stored server that
    /// cannot be served (a name `config.yaml` already uses, credentials sealed under
    /// another key, an entry this version refuses) is logged and left out; the others
    /// are not held back by it.
    pub async fn reload(&self) -> Result<(), StoreError> {
        if !self.enabled {
            return Ok(());
        }
        let mut applied = self.applied.lock().await;
        // Read the revision first: a change landing between the two reads is seen again
        // at the next poll rather than missed.
        let revision = self.store.mcp_servers_revision().await?;
        let records = self.store.list_mcp_servers().await?;
        let mut now = BTreeMap::new();
        for record in records {
            let name = record.server_name.clone();
            if self.config.contains_key(&name) {
                tracing::warn!(
                    server = name,
                    "a stored MCP server has the name of a config.yaml server; the config one is served"
                );
                continue;
            }
            if applied.get(&name) == Some(&record) {
                now.insert(name, record);
                continue;
            }
            let added = match self.entry_of(&record) {
                Ok(entry) => self
                    .registry
                    .add_server(
                        &name,
                        Some(&record.server_id),
                        &entry,
                        ServerOrigin::Database,
                    )
                    .await
                    .map_err(|e| StoredServerError::Invalid(e.to_string())),
                Err(error) => Err(error),
            };
            match added {
                Ok(()) => {
                    tracing::info!(server = name, "serving a stored MCP server");
                    now.insert(name, record);
                }
                Err(error) => {
                    tracing::error!(server = name, %error, "a stored MCP server cannot be served");
                }
            }
        }
        for gone in applied.keys().filter(|name| !now.contains_key(*name)) {
            if self.registry.remove_server(gone) {
                tracing::info!(server = gone, "stopped serving a removed MCP server");
            }
        }
        *applied = now;
        self.seen.store(revision, Ordering::SeqCst);
        Ok(())
    }

    /// Polls the revision and reloads when another process changed the table, until the
    /// returned task is stopped or dropped.
    pub fn spawn_sync(self: &Arc<Self>, every: Duration) -> SyncTask {
        if !self.enabled {
            return SyncTask(None);
        }
        let this = Arc::clone(self);
        SyncTask(Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let moved = match this.store.mcp_servers_revision().await {
                    Ok(revision) => revision != this.seen.load(Ordering::SeqCst),
                    Err(error) => {
                        tracing::warn!(%error, "cannot check the stored MCP servers");
                        false
                    }
                };
                if moved && let Err(error) = this.reload().await {
                    tracing::warn!(%error, "cannot reload the stored MCP servers");
                }
            }
        })))
    }

    /// Stores a new server from a `POST /v1/mcp/server` body and serves it.
    pub async fn create(
        &self,
        body: Map<String, Value>,
        by: Option<String>,
    ) -> Result<ServerView, StoredServerError> {
        self.check_enabled()?;
        let server_id = text_field(&body, "server_id")?.unwrap_or_else(crate::ids::uuid_v4);
        if RESERVED_IDS.contains(&server_id.as_str()) {
            return Err(StoredServerError::Invalid(format!(
                "server_id {server_id:?} is reserved"
            )));
        }
        let name = self.name_of(&body, None)?;
        let entry = entry_from_body(&body, Map::new())?;
        let record = self
            .store_entry(&name, &server_id, entry, by, Write::Insert)
            .await?;
        self.view_of(record).await
    }

    /// Applies a `PUT /v1/mcp/server` body (`server_id` and the fields to change) and
    /// serves the result. Secrets not in the body are kept.
    pub async fn update(
        &self,
        body: Map<String, Value>,
        by: Option<String>,
    ) -> Result<ServerView, StoredServerError> {
        self.check_enabled()?;
        let server_id = text_field(&body, "server_id")?.ok_or_else(|| {
            StoredServerError::Invalid("server_id is required to update a server".to_owned())
        })?;
        let existing = self
            .store
            .mcp_server(&server_id)
            .await?
            .ok_or_else(|| StoredServerError::NotFound(server_id.clone()))?;
        let name = self.name_of(&body, Some(&existing.server_name))?;
        let entry = entry_from_body(&body, self.entry_map(&existing)?)?;
        let record = self
            .store_entry(&name, &server_id, entry, by, Write::Replace)
            .await?;
        self.view_of(record).await
    }

    /// Deletes a stored server and stops serving it.
    pub async fn delete(&self, server_id: &str) -> Result<(), StoredServerError> {
        self.check_enabled()?;
        if !self.store.delete_mcp_server(server_id).await? {
            return Err(StoredServerError::NotFound(server_id.to_owned()));
        }
        self.reload().await?;
        Ok(())
    }

    /// Every server the registry serves (config and stored), by name.
    pub async fn list(&self) -> Vec<ServerView> {
        let applied = self.applied.lock().await.clone();
        self.registry
            .servers()
            .iter()
            .filter_map(|info| self.view_named(&info.name, &applied))
            .collect()
    }

    /// A server by id, name or alias.
    pub async fn find(&self, wanted: &str) -> Option<ServerView> {
        let info = self.registry.server_named(wanted)?;
        let applied = self.applied.lock().await.clone();
        self.view_named(&info.name, &applied)
    }

    fn view_named(
        &self,
        name: &str,
        applied: &BTreeMap<String, McpServerRecord>,
    ) -> Option<ServerView> {
        if let Some(entry) = self.config.get(name) {
            return Some(ServerView {
                name: name.to_owned(),
                entry: entry.clone(),
                record: None,
            });
        }
        let record = applied.get(name)?;
        let entry = self.entry_of(record).ok()?;
        Some(ServerView {
            name: name.to_owned(),
            entry,
            record: Some(record.clone()),
        })
    }

    async fn view_of(&self, record: McpServerRecord) -> Result<ServerView, StoredServerError> {
        Ok(ServerView {
            name: record.server_name.clone(),
            entry: self.entry_of(&record)?,
            record: Some(record),
        })
    }

    fn check_enabled(&self) -> Result<(), StoredServerError> {
        if self.enabled {
            Ok(())
        } else {
            Err(StoredServerError::Disabled)
        }
    }

    /// The server's name from the body (`server_name`, else `alias`), checked as LiteLLM
    /// does: no separator in it, only `[A-Za-z0-9_-]`, and not a `config.yaml` server's.
    fn name_of(
        &self,
        body: &Map<String, Value>,
        current: Option<&str>,
    ) -> Result<String, StoredServerError> {
        let given = match text_field(body, "server_name")? {
            Some(name) => Some(name),
            None => text_field(body, "alias")?.map(|alias| alias.replace(' ', "_")),
        };
        let Some(name) = given.or_else(|| current.map(str::to_owned)) else {
            return Err(StoredServerError::Invalid(
                "server_name is required".to_owned(),
            ));
        };
        let separator = self.registry.separator();
        if !separator.is_empty() && name.contains(separator) {
            return Err(StoredServerError::Invalid(format!(
                "Server name cannot contain '{separator}'. Use an alternative character instead Found: {name}"
            )));
        }
        if name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(StoredServerError::Invalid(format!(
                "Server name must be 1 to 64 of the characters A-Z, a-z, 0-9, _ and -. Found: {name}"
            )));
        }
        if self.config.contains_key(&name) {
            return Err(StoredServerError::Conflict(format!(
                "server_name {name:?} is a config.yaml server"
            )));
        }
        Ok(name)
    }

    /// Checks an entry, seals its secrets, writes it, and serves the table's new state.
    async fn store_entry(
        &self,
        name: &str,
        server_id: &str,
        entry: Map<String, Value>,
        by: Option<String>,
        write: Write,
    ) -> Result<McpServerRecord, StoredServerError> {
        let config = config_of(entry.clone())?;
        match junction_hub::upstream_config::upstream(name, &config).await {
            Ok(Upstream::Mcp(_)) => {}
            Ok(Upstream::Unsupported(reason)) => {
                return Err(StoredServerError::Invalid(format!(
                    "this server cannot be served: {reason}"
                )));
            }
            Err(error) => return Err(StoredServerError::Invalid(error.message)),
        }
        let (definition, secrets) = split_secrets(entry);
        let credentials = if secrets.is_empty() {
            None
        } else {
            let sealer = self.sealer.as_ref().ok_or(StoredServerError::NoSealer)?;
            let sealed = sealer
                .seal(Value::Object(secrets).to_string().as_bytes())
                .map_err(|e| StoredServerError::Invalid(e.to_string()))?;
            Some(sealed)
        };
        let new = NewMcpServer {
            server_id: server_id.to_owned(),
            server_name: name.to_owned(),
            definition,
            credentials,
            by,
        };
        let record = match write {
            Write::Insert => self.store.insert_mcp_server(&new).await,
            Write::Replace => self.store.replace_mcp_server(&new).await.and_then(|r| {
                r.ok_or_else(|| StoreError::Invalid(format!("MCP server {server_id} vanished")))
            }),
        }
        .map_err(|error| match error {
            StoreError::Conflict(message) => StoredServerError::Conflict(message),
            other => StoredServerError::Store(other),
        })?;
        self.reload().await?;
        Ok(record)
    }

    /// A stored server's whole entry, secrets opened.
    fn entry_map(&self, record: &McpServerRecord) -> Result<Map<String, Value>, StoredServerError> {
        let mut entry = record.definition.clone();
        if let Some(sealed) = &record.credentials {
            let sealer = self.sealer.as_ref().ok_or(StoredServerError::NoSealer)?;
            let plain = sealer
                .open(sealed)
                .map_err(|e| StoredServerError::Invalid(e.to_string()))?;
            let secrets: Map<String, Value> = serde_json::from_slice(&plain).map_err(|e| {
                StoredServerError::Invalid(format!("sealed credentials are not JSON: {e}"))
            })?;
            entry.extend(secrets);
        }
        Ok(entry)
    }

    fn entry_of(&self, record: &McpServerRecord) -> Result<McpServerConfig, StoredServerError> {
        config_of(self.entry_map(record)?)
    }
}

/// The replica sync of [`StoredServers::spawn_sync`]; it holds the servers, so it is
/// stopped explicitly (at shutdown) or when dropped.
pub struct SyncTask(Option<tokio::task::JoinHandle<()>>);

impl SyncTask {
    pub fn stop(&self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

impl Drop for SyncTask {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Write {
    Insert,
    Replace,
}

fn config_of(entry: Map<String, Value>) -> Result<McpServerConfig, StoredServerError> {
    serde_json::from_value(Value::Object(entry))
        .map_err(|e| StoredServerError::Invalid(format!("invalid MCP server: {e}")))
}

/// `(definition, secrets)` of an entry.
fn split_secrets(entry: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    entry
        .into_iter()
        .partition(|(key, _)| !SECRET_KEYS.contains(&key.as_str()))
}

/// `base` with the fields of an API body applied: LiteLLM's names mapped to the entry's
/// (`mcp_access_groups`, `credentials.*`, `authentication_token`), `null` or `""`
/// clearing a field, unknown fields (the UI sends many) ignored.
fn entry_from_body(
    body: &Map<String, Value>,
    mut base: Map<String, Value>,
) -> Result<Map<String, Value>, StoredServerError> {
    let mut given: Vec<(String, Value)> = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "mcp_access_groups" => given.push(("access_groups".to_owned(), value.clone())),
            "authentication_token" => given.push(("auth_value".to_owned(), value.clone())),
            "credentials" => match value {
                Value::Object(credentials) => {
                    for (k, v) in credentials {
                        if ENTRY_KEYS.contains(&k.as_str()) {
                            given.push((k.clone(), v.clone()));
                        }
                    }
                }
                Value::Null => {
                    for k in ["auth_value", "client_id", "client_secret"] {
                        given.push((k.to_owned(), Value::Null));
                    }
                }
                _ => {
                    return Err(StoredServerError::Invalid(
                        "credentials must be an object".to_owned(),
                    ));
                }
            },
            k if ENTRY_KEYS.contains(&k) => given.push((key.clone(), value.clone())),
            _ => {}
        }
    }
    for (key, value) in given {
        match value {
            Value::Null => {
                base.remove(&key);
            }
            Value::String(s) if s.is_empty() => {
                base.remove(&key);
            }
            value => {
                base.insert(key, value);
            }
        }
    }
    Ok(base)
}

fn text_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, StoredServerError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(StoredServerError::Invalid(format!(
            "{key} must be a string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn litellm_fields_map_to_an_entry_and_secrets_split_off() {
        let body = object(json!({
            "server_name": "wiki",
            "url": "https://wiki.example/mcp",
            "transport": "http",
            "auth_type": "bearer_token",
            "credentials": {"auth_value": "tok", "scopes": ["read"]},
            "mcp_access_groups": ["docs"],
            "static_headers": {"X-Tenant": "t1"},
            "teams": ["ignored"],
        }));
        let entry = entry_from_body(&body, Map::new()).unwrap();
        assert_eq!(entry["access_groups"], json!(["docs"]));
        assert_eq!(entry["scopes"], json!(["read"]));
        assert!(!entry.contains_key("teams"));
        let (definition, secrets) = split_secrets(entry);
        assert_eq!(
            secrets.keys().collect::<Vec<_>>(),
            ["auth_value", "static_headers"]
        );
        assert!(definition.contains_key("url") && !definition.contains_key("auth_value"));
    }

    #[test]
    fn an_update_keeps_what_it_does_not_name_and_clears_nulls() {
        let base = object(json!({"url": "https://a/mcp", "auth_value": "old", "description": "d"}));
        let body = object(json!({"server_id": "x", "description": null, "url": "https://b/mcp"}));
        let entry = entry_from_body(&body, base).unwrap();
        assert_eq!(entry["url"], "https://b/mcp");
        assert_eq!(entry["auth_value"], "old");
        assert!(!entry.contains_key("description"));
    }
}
