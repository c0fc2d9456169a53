//! The [`Store`]: portable SQL over `sqlx::AnyPool`s (`pools.rs`: one pool for Postgres, a
//! writer and readers for a SQLite file), so the gateway has a single persistence code path
//! whatever the deployment. Every query picks its pool: `pools.reader` for what only reads,
//! `pools.writer` for the rest.
//!
//! Portability notes (checked by the integration tests on both backends):
//! * placeholders are `$1`, `$2`, … (accepted by both; the spend log's multi-row insert
//!   gives SQLite `?` instead, see `spend.rs`);
//! * the `Any` driver cannot decode a SQLite column declared `BOOLEAN`, so
//!   `blocked` is read as `CASE WHEN blocked THEN 1 ELSE 0 END` (an integer on
//!   both backends) and written by binding a Rust `bool` (an integer on SQLite,
//!   a boolean on Postgres);
//! * JSON is stored as TEXT and decoded here; bad JSON yields
//!   [`StoreError::Corrupt`] (keys), [`StoreError::CorruptResponse`]
//!   (stored responses) or [`StoreError::CorruptRecord`] (teams, organisations,
//!   users: `directory.rs`, which shares this file's statement builders), never
//!   a panic;
//! * a stored response is written with one `INSERT … ON CONFLICT (id) DO
//!   UPDATE` (SQLite ≥ 3.24 and Postgres both accept it), so replacing a
//!   response is atomic without a transaction.

use std::sync::Once;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::location;
use crate::pools::Pools;
use crate::{KeyPatch, KeyRecord, NewKey, ObjectPermission, StoreError, StoredResponse};

/// Migrations embedded at compile time; portable SQL run on either backend.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Columns selected for a [`KeyRecord`], in `record_from_row` order.
const KEY_COLUMNS: &str = "token_hash, key_name, key_alias, models, metadata, max_budget, \
     spend, team_id, user_id, rpm_limit, tpm_limit, expires_at, \
     CASE WHEN blocked THEN 1 ELSE 0 END AS blocked, created_at, updated_at, \
     object_permission, organization_id";

/// Columns selected for a [`StoredResponse`], read by `response_from_row`.
const RESPONSE_COLUMNS: &str = "id, owner, model, status, previous_response_id, response, \
     input_items, conversation, created_at";

/// Inserts a response or replaces every column of the row with the same id.
const UPSERT_RESPONSE: &str = "INSERT INTO junction_responses \
     (id, owner, model, status, previous_response_id, response, input_items, conversation, \
     created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (id) DO UPDATE SET \
     owner = excluded.owner, model = excluded.model, status = excluded.status, \
     previous_response_id = excluded.previous_response_id, response = excluded.response, \
     input_items = excluded.input_items, conversation = excluded.conversation, \
     created_at = excluded.created_at, updated_at = excluded.updated_at";

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// Postgres server.
    Postgres,
}

/// Handle to the store. Cloning is cheap (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pools: Pools,
    backend: Backend,
}

/// A value bound to a dynamically built statement.
pub(crate) enum Bind {
    /// Written as a literal `NULL` in the SQL instead of a placeholder.
    Null,
    Text(String),
    OptText(Option<String>),
    F64(f64),
    OptI64(Option<i64>),
    I64(i64),
    Bool(bool),
}

impl Bind {
    /// A nullable DOUBLE PRECISION value. `None` becomes a literal `NULL`
    /// because sqlx 0.8's `Any` driver sends a NULL double to Postgres typed
    /// as `float4`; once cached, that prepared statement then rejects a real
    /// `f64` ("incorrect binary data format"). Distinct SQL text keeps the
    /// two shapes in distinct cached statements.
    pub(crate) fn opt_f64(value: Option<f64>) -> Bind {
        value.map_or(Bind::Null, Bind::F64)
    }
}

impl Store {
    /// Connects to `url` and applies the embedded migrations.
    ///
    /// `postgres://…` or `postgresql://…` selects Postgres; `sqlite:…` or a
    /// plain file path selects SQLite. A SQLite file (and its directory) is
    /// created if missing unless the URL sets another `mode`; the database is
    /// switched to WAL, every connection gets a busy timeout, and a background
    /// task (on the current runtime, until the last clone is dropped)
    /// checkpoints the WAL.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let resolved = location::resolve(url)?;
        let backend = resolved.backend;

        let pools = Pools::open(&resolved).await?;
        MIGRATOR.run(&pools.writer).await?;
        tracing::info!(backend = ?backend, "key store ready");
        Ok(Store { pools, backend })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pools.reader).await?;
        Ok(())
    }

    /// Inserts a key. Returns [`StoreError::Conflict`] if its `key_alias` is
    /// already used (or the same token hash exists), and
    /// [`StoreError::Invalid`] if `token_hash` is not a lowercase hex SHA-256
    /// (a guard against storing a raw key).
    pub async fn insert_key(&self, key: &NewKey) -> Result<KeyRecord, StoreError> {
        check_token_hash(&key.token_hash)?;
        if let Some(budget) = key.max_budget {
            check_finite("max_budget", budget)?;
        }
        let models = to_json("models", &key.models)?;
        let metadata = to_json("metadata", &key.metadata)?;
        let permission = permission_json(key.object_permission.as_ref())?;
        let micros = next_creation_micros();
        let now = micros.div_euclid(1_000_000);

        let values = vec![
            ("token_hash", Bind::Text(key.token_hash.clone())),
            ("key_name", Bind::Text(key.key_name.clone())),
            ("key_alias", Bind::OptText(key.key_alias.clone())),
            ("models", Bind::Text(models)),
            ("metadata", Bind::Text(metadata)),
            ("max_budget", Bind::opt_f64(key.max_budget)),
            ("spend", Bind::F64(0.0)),
            ("team_id", Bind::OptText(key.team_id.clone())),
            ("user_id", Bind::OptText(key.user_id.clone())),
            ("rpm_limit", Bind::OptI64(key.rpm_limit)),
            ("tpm_limit", Bind::OptI64(key.tpm_limit)),
            ("expires_at", Bind::OptI64(key.expires_at)),
            ("blocked", Bind::Bool(false)),
            ("created_at", Bind::I64(now)),
            ("updated_at", Bind::I64(now)),
            ("created_at_micros", Bind::I64(micros)),
            ("object_permission", Bind::OptText(permission)),
            (
                "organization_id",
                Bind::OptText(key.organization_id.clone()),
            ),
        ];
        let (sql, binds) = insert_sql("junction_keys", values, KEY_COLUMNS);
        let row = bind_all(sqlx::query(&sql), binds)
            .fetch_one(&self.pools.writer)
            .await
            .map_err(|e| conflict_or(e, key.key_alias.as_deref()))?;
        record_from_row(&row)
    }

    /// The key whose hash is `token_hash`, if any.
    pub async fn key_by_hash(&self, token_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM junction_keys WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pools.reader)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// The key with alias `alias`, if any.
    pub async fn key_by_alias(&self, alias: &str) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM junction_keys WHERE key_alias = $1");
        let row = sqlx::query(&sql)
            .bind(alias)
            .fetch_optional(&self.pools.reader)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// All keys, newest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM junction_keys \
             ORDER BY created_at_micros DESC, token_hash ASC"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pools.reader).await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Applies `patch` to the key `token_hash` and bumps `updated_at`.
    /// Returns `None` if there is no such key, [`StoreError::Conflict`] if the
    /// new alias is taken.
    pub async fn update_key(
        &self,
        token_hash: &str,
        patch: &KeyPatch,
    ) -> Result<Option<KeyRecord>, StoreError> {
        let mut sets: Vec<&'static str> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(alias) = &patch.key_alias {
            sets.push("key_alias");
            binds.push(Bind::OptText(alias.clone()));
        }
        if let Some(models) = &patch.models {
            sets.push("models");
            binds.push(Bind::Text(to_json("models", models)?));
        }
        if let Some(metadata) = &patch.metadata {
            sets.push("metadata");
            binds.push(Bind::Text(to_json("metadata", metadata)?));
        }
        if let Some(budget) = patch.max_budget {
            if let Some(value) = budget {
                check_finite("max_budget", value)?;
            }
            sets.push("max_budget");
            binds.push(Bind::opt_f64(budget));
        }
        if let Some(team) = &patch.team_id {
            sets.push("team_id");
            binds.push(Bind::OptText(team.clone()));
        }
        if let Some(user) = &patch.user_id {
            sets.push("user_id");
            binds.push(Bind::OptText(user.clone()));
        }
        if let Some(rpm) = patch.rpm_limit {
            sets.push("rpm_limit");
            binds.push(Bind::OptI64(rpm));
        }
        if let Some(tpm) = patch.tpm_limit {
            sets.push("tpm_limit");
            binds.push(Bind::OptI64(tpm));
        }
        if let Some(expires) = patch.expires_at {
            sets.push("expires_at");
            binds.push(Bind::OptI64(expires));
        }
        if let Some(blocked) = patch.blocked {
            sets.push("blocked");
            binds.push(Bind::Bool(blocked));
        }
        if let Some(spend) = patch.spend {
            check_finite("spend", spend)?;
            sets.push("spend");
            binds.push(Bind::F64(spend));
        }
        if let Some(permission) = &patch.object_permission {
            sets.push("object_permission");
            binds.push(Bind::OptText(permission_json(permission.as_ref())?));
        }
        if let Some(organization) = &patch.organization_id {
            sets.push("organization_id");
            binds.push(Bind::OptText(organization.clone()));
        }
        let (sql, binds) = update_sql(
            "junction_keys",
            sets,
            binds,
            ("token_hash", token_hash),
            KEY_COLUMNS,
        );
        let query = bind_all(sqlx::query(&sql), binds);
        let alias = patch.key_alias.clone().flatten();
        let row = query
            .fetch_optional(&self.pools.writer)
            .await
            .map_err(|e| conflict_or(e, alias.as_deref()))?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Deletes the given keys in one transaction and returns the hashes that
    /// existed (each once, in input order).
    pub async fn delete_keys(&self, token_hashes: &[String]) -> Result<Vec<String>, StoreError> {
        if token_hashes.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pools.writer.begin().await?;
        let mut deleted = Vec::new();
        for hash in token_hashes {
            let result = sqlx::query("DELETE FROM junction_keys WHERE token_hash = $1")
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            if result.rows_affected() > 0 {
                deleted.push(hash.clone());
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Atomically adds `amount` to the key's spend (`spend = spend + amount`).
    /// Unknown keys are ignored (the key may have been deleted meanwhile).
    pub async fn add_spend(&self, token_hash: &str, amount: f64) -> Result<(), StoreError> {
        check_finite("amount", amount)?;
        let result =
            sqlx::query("UPDATE junction_keys SET spend = spend + $1 WHERE token_hash = $2")
                .bind(amount)
                .bind(token_hash)
                .execute(&self.pools.writer)
                .await?;
        if result.rows_affected() == 0 {
            tracing::debug!("add_spend: no key with the given hash");
        }
        Ok(())
    }

    /// Stores a Responses-API response: inserts it, or replaces every column
    /// of the stored response with the same id (one atomic upsert).
    /// `updated_at` is set to now; `created_at` is taken from `r`.
    ///
    /// Returns [`StoreError::Invalid`] if `id` or `owner` is empty (or only
    /// whitespace) or `response` is not a JSON object; nothing is written
    /// then.
    pub async fn put_response(&self, r: &StoredResponse) -> Result<(), StoreError> {
        if r.id.trim().is_empty() {
            return Err(StoreError::Invalid("response id must not be empty".into()));
        }
        if r.owner.trim().is_empty() {
            return Err(StoreError::Invalid(
                "response owner must not be empty".into(),
            ));
        }
        if !r.response.is_object() {
            return Err(StoreError::Invalid("response must be a JSON object".into()));
        }
        let response = serde_json::to_string(&r.response)
            .map_err(|e| StoreError::Invalid(format!("response: {e}")))?;
        let input_items = serde_json::to_string(&r.input_items)
            .map_err(|e| StoreError::Invalid(format!("input_items: {e}")))?;
        let conversation = serde_json::to_string(&r.conversation)
            .map_err(|e| StoreError::Invalid(format!("conversation: {e}")))?;
        sqlx::query(UPSERT_RESPONSE)
            .bind(r.id.as_str())
            .bind(r.owner.as_str())
            .bind(r.model.as_str())
            .bind(r.status.as_str())
            .bind(r.previous_response_id.as_deref())
            .bind(response)
            .bind(input_items)
            .bind(conversation)
            .bind(r.created_at)
            .bind(unix_now())
            .execute(&self.pools.writer)
            .await?;
        Ok(())
    }

    /// The stored response with id `id`, if any. The caller checks
    /// [`StoredResponse::owner`] before handing it out. A row whose JSON
    /// cannot be decoded is [`StoreError::CorruptResponse`].
    pub async fn response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM junction_responses WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pools.reader)
            .await?;
        row.as_ref().map(response_from_row).transpose()
    }

    /// Deletes the stored response with id `id`. Returns `true` if it
    /// existed, `false` if there was nothing to delete.
    pub async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM junction_responses WHERE id = $1")
            .bind(id)
            .execute(&self.pools.writer)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Closes every connection; further calls fail.
    pub async fn close(&self) {
        self.pools.close().await;
    }
}

/// `INSERT INTO table (columns) VALUES (placeholders) RETURNING returning`, with the
/// binds in placeholder order.
pub(crate) fn insert_sql(
    table: &str,
    values: Vec<(&'static str, Bind)>,
    returning: &str,
) -> (String, Vec<Bind>) {
    let columns: Vec<&str> = values.iter().map(|(column, _)| *column).collect();
    let binds: Vec<Bind> = values.into_iter().map(|(_, bind)| bind).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({}) RETURNING {returning}",
        columns.join(", "),
        placeholders(&binds).join(", ")
    );
    (sql, binds)
}

/// `UPDATE table SET column = value, …, updated_at = now WHERE key = id RETURNING
/// returning`, with the binds in placeholder order.
pub(crate) fn update_sql(
    table: &str,
    mut sets: Vec<&'static str>,
    mut binds: Vec<Bind>,
    (key_column, id): (&str, &str),
    returning: &str,
) -> (String, Vec<Bind>) {
    sets.push("updated_at");
    binds.push(Bind::I64(unix_now()));
    let assignments: Vec<String> = sets
        .iter()
        .zip(placeholders(&binds))
        .map(|(column, value)| format!("{column} = {value}"))
        .collect();
    binds.push(Bind::Text(id.to_owned()));
    let sql = format!(
        "UPDATE {table} SET {} WHERE {key_column} = ${} RETURNING {returning}",
        assignments.join(", "),
        binds.iter().filter(|b| !matches!(b, Bind::Null)).count()
    );
    (sql, binds)
}

/// SQL for each bind: `$n` (numbered in order, skipping `Null`) or `NULL`.
fn placeholders(binds: &[Bind]) -> Vec<String> {
    let mut next = 0;
    binds
        .iter()
        .map(|bind| match bind {
            Bind::Null => "NULL".to_owned(),
            _ => {
                next += 1;
                format!("${next}")
            }
        })
        .collect()
}

pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    binds: Vec<Bind>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Null => query,
            Bind::Text(v) => query.bind(v),
            Bind::OptText(v) => query.bind(v),
            Bind::F64(v) => query.bind(v),
            Bind::OptI64(v) => query.bind(v),
            Bind::I64(v) => query.bind(v),
            Bind::Bool(v) => query.bind(v),
        };
    }
    query
}

/// Maps a unique violation to [`StoreError::Conflict`]; other errors pass.
fn conflict_or(err: sqlx::Error, alias: Option<&str>) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        let on_alias = db.constraint().is_some_and(|c| c.contains("key_alias"))
            || db.message().contains("key_alias");
        return StoreError::Conflict(match (on_alias, alias) {
            (true, Some(alias)) => format!("key_alias {alias:?} is already in use"),
            (true, None) => "key_alias is already in use".to_owned(),
            (false, _) => "a key with this token hash already exists".to_owned(),
        });
    }
    StoreError::Database(err)
}

fn check_token_hash(hash: &str) -> Result<(), StoreError> {
    let ok = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "token_hash must be the lowercase hex SHA-256 of the key (see hash_key)".into(),
        ))
    }
}

pub(crate) fn check_finite(field: &str, value: f64) -> Result<(), StoreError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{field} must be a finite number"
        )))
    }
}

/// `value` as JSON text for a TEXT column; `field` names it in the error.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(
    field: &str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(format!("{field}: {e}")))
}

/// The `object_permission` column: JSON text, or NULL when unset.
pub(crate) fn permission_json(
    permission: Option<&ObjectPermission>,
) -> Result<Option<String>, StoreError> {
    permission
        .map(|p| to_json("object_permission", p))
        .transpose()
}

/// Decodes a JSON TEXT column into `T`; the error says what was expected.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    expected: &str,
) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("expected {expected}: {e}"))
}

/// Decodes the nullable `object_permission` column.
pub(crate) fn permission_from(text: Option<String>) -> Result<Option<ObjectPermission>, String> {
    text.map(|t| from_json(&t, "an object_permission JSON object"))
        .transpose()
}

pub(crate) fn unix_now() -> i64 {
    unix_micros().div_euclid(1_000_000)
}

fn unix_micros() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

/// Current unix time in microseconds, strictly greater than any value this
/// process returned before (orders keys created within the same second).
pub(crate) fn next_creation_micros() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = unix_micros();
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        .unwrap_or(now);
    now.max(previous.saturating_add(1))
}

fn record_from_row(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    let token_hash: String = row.try_get("token_hash")?;
    let corrupt = |column: &'static str, reason: String| StoreError::Corrupt {
        token_hash_prefix: token_hash.chars().take(12).collect(),
        column,
        reason,
    };
    let models_json: String = row.try_get("models")?;
    let models: Vec<String> = from_json(&models_json, "a JSON array of strings")
        .map_err(|reason| corrupt("models", reason))?;
    let metadata_json: String = row.try_get("metadata")?;
    let metadata: Map<String, Value> =
        from_json(&metadata_json, "a JSON object").map_err(|reason| corrupt("metadata", reason))?;
    let object_permission = permission_from(row.try_get("object_permission")?)
        .map_err(|reason| corrupt("object_permission", reason))?;
    let blocked: i64 = row.try_get("blocked")?;
    Ok(KeyRecord {
        key_name: row.try_get("key_name")?,
        key_alias: row.try_get("key_alias")?,
        models,
        metadata,
        max_budget: row.try_get("max_budget")?,
        team_id: row.try_get("team_id")?,
        user_id: row.try_get("user_id")?,
        rpm_limit: row.try_get("rpm_limit")?,
        tpm_limit: row.try_get("tpm_limit")?,
        expires_at: row.try_get("expires_at")?,
        object_permission,
        organization_id: row.try_get("organization_id")?,
        spend: row.try_get("spend")?,
        blocked: blocked != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        token_hash,
    })
}

fn response_from_row(row: &AnyRow) -> Result<StoredResponse, StoreError> {
    let id: String = row.try_get("id")?;
    let corrupt = |column: &'static str, reason: String| StoreError::CorruptResponse {
        id: id.clone(),
        column,
        reason,
    };
    let response_json: String = row.try_get("response")?;
    let response: Map<String, Value> = serde_json::from_str(&response_json)
        .map_err(|e| corrupt("response", format!("expected a JSON object: {e}")))?;
    let input_items_json: String = row.try_get("input_items")?;
    let input_items: Vec<Value> = serde_json::from_str(&input_items_json)
        .map_err(|e| corrupt("input_items", format!("expected a JSON array: {e}")))?;
    let conversation_json: String = row.try_get("conversation")?;
    let conversation: Vec<Value> = serde_json::from_str(&conversation_json)
        .map_err(|e| corrupt("conversation", format!("expected a JSON array: {e}")))?;
    Ok(StoredResponse {
        owner: row.try_get("owner")?,
        model: row.try_get("model")?,
        status: row.try_get("status")?,
        previous_response_id: row.try_get("previous_response_id")?,
        response: Value::Object(response),
        input_items,
        conversation,
        created_at: row.try_get("created_at")?,
        id,
    })
}
