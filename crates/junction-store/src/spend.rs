//! Spend logs: one row per LLM or MCP call (LiteLLM's `LiteLLM_SpendLogs`), and the running
//! `spend` totals of the key, team, organisation and user each call is charged to.
//!
//! Rows arrive in batches from the server's background recorder, so [`Store::record_spend`]
//! writes a whole batch in one transaction: the rows and the totals they add either all land
//! or none do, and a batch retried after an uncertain failure cannot count a call twice (a
//! request id already stored is skipped, and so is its spend).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::store::{Bind, bind_all, check_finite, from_json, to_json};
use crate::{Backend, Store, StoreError};

/// Rows returned by [`Store::spend_logs`] when the filter sets no limit.
pub const DEFAULT_SPEND_LOG_LIMIT: u32 = 1_000;
/// The most rows [`Store::spend_logs`] returns, whatever the filter asks.
pub const MAX_SPEND_LOG_LIMIT: u32 = 10_000;

const TABLE: &str = "junction_spend_logs";

/// Columns selected for a [`SpendLog`], read by `log_from_row`.
const COLUMNS: &str = "request_id, call_type, api_key, key_alias, team_id, organization_id, \
     user_id, model, model_group, api_base, mcp_server, mcp_tool, status, error, start_time, \
     end_time, prompt_tokens, completion_tokens, total_tokens, spend, metadata";

/// A request id stored before is skipped rather than failing the batch: the recorder retries
/// whole batches, and one of them may have been committed before its error was seen.
const INSERT_INTO: &str = "INSERT INTO junction_spend_logs (request_id, call_type, api_key, \
     key_alias, team_id, organization_id, user_id, model, model_group, api_base, mcp_server, \
     mcp_tool, status, error, start_time, end_time, prompt_tokens, completion_tokens, \
     total_tokens, spend, metadata) VALUES ";
/// Values per row of [`INSERT_INTO`].
const INSERT_COLUMNS: usize = 21;
/// Rows per `INSERT` statement: a batch is cut greedily into statements of these sizes, so
/// a batch of any size takes few statements (each one a round trip to the database, and for
/// SQLite two thread switches) while only four statement texts are ever prepared and cached.
const INSERT_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// The totals a call's spend is added to: table and id column, in the order they are updated.
/// A fixed order (and ids sorted within each) means two concurrent batches lock the same rows
/// in the same order, so Postgres never has to break a deadlock between them.
const TOTALS: [(&str, &str); 4] = [
    ("junction_keys", "token_hash"),
    ("junction_teams", "team_id"),
    ("junction_organizations", "organization_id"),
    ("junction_users", "user_id"),
];

/// One LLM or MCP call.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpendLog {
    /// Unique per call; a second row with the same id is ignored.
    pub request_id: String,
    /// LiteLLM's call type: `acompletion`, `aresponses`, `call_mcp_tool`, …
    pub call_type: String,
    /// The SHA-256 hash of the caller's key; empty for the master key and anonymous callers.
    pub api_key: String,
    pub key_alias: Option<String>,
    pub team_id: Option<String>,
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    /// LLM calls: the model name the client asked for; MCP calls: `MCP: <prefixed tool name>`.
    pub model: String,
    pub model_group: Option<String>,
    pub api_base: Option<String>,
    pub mcp_server: Option<String>,
    /// The tool's own name on its server (without the gateway's prefix).
    pub mcp_tool: Option<String>,
    /// `success` or `failure`.
    pub status: String,
    pub error: Option<String>,
    /// Unix milliseconds.
    pub start_time: i64,
    /// Unix milliseconds.
    pub end_time: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// Cost in USD; added to the totals of the key, team, organisation and user when above 0.
    pub spend: f64,
    /// A JSON object; `null` is stored (and read back) as `{}`.
    pub metadata: Value,
}

/// Which rows [`Store::spend_logs`] returns: every field set must match (`start_ms` and
/// `end_ms` bound `start_time`, both inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendLogFilter {
    pub api_key: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub request_id: Option<String>,
    pub call_type: Option<String>,
    pub mcp_server: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// [`DEFAULT_SPEND_LOG_LIMIT`] when unset; at most [`MAX_SPEND_LOG_LIMIT`].
    pub limit: Option<u32>,
}

impl Store {
    /// Writes `logs` in one transaction and adds each new row's `spend` (when above 0) to the
    /// key (by `api_key` hash), team, organisation and user it names, each total updated once
    /// per batch with `spend = spend + amount`. A row whose `request_id` is already stored
    /// (or repeated within `logs`) is skipped, spend included; totals of rows that do not
    /// exist (a deleted key) are ignored.
    ///
    /// [`StoreError::Invalid`] if a row has an empty `request_id`, a non-finite `spend` or a
    /// `metadata` that is neither an object nor `null`; nothing is written then.
    pub async fn record_spend(&self, logs: &[SpendLog]) -> Result<(), StoreError> {
        if logs.is_empty() {
            return Ok(());
        }
        let mut metadata = Vec::with_capacity(logs.len());
        for log in logs {
            metadata.push(check(log)?);
        }

        // Nearly always every row is new, and multi-row statements store the batch in a few
        // round trips. If one of them skips a row (stored by an earlier attempt of this
        // batch), the transaction is redone row by row, which tells which rows are new.
        let mut tx = self.pools.writer.begin().await?;
        let stored = match insert_in_chunks(&mut tx, self.backend(), logs, &metadata).await? {
            Some(stored) => stored,
            None => {
                tx.rollback().await?;
                tx = self.pools.writer.begin().await?;
                insert_one_by_one(&mut tx, self.backend(), logs, &metadata).await?
            }
        };
        // Only calls stored now add to the totals.
        let mut totals: [BTreeMap<&str, f64>; 4] = Default::default();
        for (log, stored) in logs.iter().zip(stored) {
            if !stored || log.spend <= 0.0 {
                continue;
            }
            let targets = [
                Some(log.api_key.as_str()),
                log.team_id.as_deref(),
                log.organization_id.as_deref(),
                log.user_id.as_deref(),
            ];
            for (sums, id) in totals.iter_mut().zip(targets) {
                if let Some(id) = id.filter(|id| !id.is_empty()) {
                    *sums.entry(id).or_insert(0.0) += log.spend;
                }
            }
        }
        for ((table, column), sums) in TOTALS.iter().zip(&totals) {
            let sql = format!("UPDATE {table} SET spend = spend + $1 WHERE {column} = $2");
            for (id, amount) in sums {
                // Many small finite amounts can still add up past f64's range.
                check_finite("spend", *amount)?;
                sqlx::query(&sql)
                    .bind(*amount)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The rows matching `filter`, newest first (`start_time` descending, then `request_id`).
    /// A row whose `metadata` cannot be decoded is [`StoreError::CorruptRecord`].
    pub async fn spend_logs(&self, filter: &SpendLogFilter) -> Result<Vec<SpendLog>, StoreError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let equal = [
            ("api_key", &filter.api_key),
            ("user_id", &filter.user_id),
            ("team_id", &filter.team_id),
            ("request_id", &filter.request_id),
            ("call_type", &filter.call_type),
            ("mcp_server", &filter.mcp_server),
        ];
        for (column, value) in equal {
            if let Some(value) = value {
                binds.push(Bind::Text(value.clone()));
                conditions.push(format!("{column} = ${}", binds.len()));
            }
        }
        if let Some(start) = filter.start_ms {
            binds.push(Bind::I64(start));
            conditions.push(format!("start_time >= ${}", binds.len()));
        }
        if let Some(end) = filter.end_ms {
            binds.push(Bind::I64(end));
            conditions.push(format!("start_time <= ${}", binds.len()));
        }
        let limit = filter
            .limit
            .unwrap_or(DEFAULT_SPEND_LOG_LIMIT)
            .min(MAX_SPEND_LOG_LIMIT);
        binds.push(Bind::I64(i64::from(limit)));
        let limit_placeholder = binds.len();
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM {TABLE}{condition} \
             ORDER BY start_time DESC, request_id ASC LIMIT ${limit_placeholder}"
        );
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(&self.pools.reader)
            .await?;
        rows.iter().map(log_from_row).collect()
    }
}

/// Checks one row before anything is written; returns its `metadata` as JSON text.
type Transaction<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// `INSERT` of `rows` spend logs; a request id already stored is skipped.
///
/// SQLite gets anonymous `?` placeholders: sqlx looks each numbered one up by name, and
/// SQLite finds a name by walking the statement's list of them, so binding a 64-row
/// statement's 1,344 `$n` cost a quadratic scan that showed in profiles of the gateway.
fn insert_sql(rows: usize, backend: Backend) -> String {
    let mut sql = String::from(INSERT_INTO);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..INSERT_COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * INSERT_COLUMNS + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (request_id) DO NOTHING");
    sql
}

/// Binds the values of one row of [`INSERT_INTO`].
fn bind_row<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    log: &'q SpendLog,
    metadata: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(log.request_id.as_str())
        .bind(log.call_type.as_str())
        .bind(log.api_key.as_str())
        .bind(log.key_alias.as_deref())
        .bind(log.team_id.as_deref())
        .bind(log.organization_id.as_deref())
        .bind(log.user_id.as_deref())
        .bind(log.model.as_str())
        .bind(log.model_group.as_deref())
        .bind(log.api_base.as_deref())
        .bind(log.mcp_server.as_deref())
        .bind(log.mcp_tool.as_deref())
        .bind(log.status.as_str())
        .bind(log.error.as_deref())
        .bind(log.start_time)
        .bind(log.end_time)
        .bind(log.prompt_tokens)
        .bind(log.completion_tokens)
        .bind(log.total_tokens)
        .bind(log.spend)
        .bind(metadata)
}

/// Inserts `logs` with multi-row statements and says which were stored: each one but the
/// repeats of a request id within the batch. `None` when a statement stored fewer rows than
/// that (some id was stored before): the transaction must then be rolled back.
async fn insert_in_chunks(
    tx: &mut Transaction<'_>,
    backend: Backend,
    logs: &[SpendLog],
    metadata: &[String],
) -> Result<Option<Vec<bool>>, StoreError> {
    let mut seen = std::collections::HashSet::with_capacity(logs.len());
    let stored: Vec<bool> = logs
        .iter()
        .map(|log| seen.insert(log.request_id.as_str()))
        .collect();
    let mut start = 0;
    while start < logs.len() {
        let left = logs.len() - start;
        let size = INSERT_CHUNKS
            .into_iter()
            .find(|size| *size <= left)
            .unwrap_or(1);
        let end = start + size;
        let sql = insert_sql(size, backend);
        let mut query = sqlx::query(&sql);
        for (log, metadata) in logs[start..end].iter().zip(&metadata[start..end]) {
            query = bind_row(query, log, metadata);
        }
        let expected = stored[start..end].iter().filter(|s| **s).count() as u64;
        if query.execute(&mut **tx).await?.rows_affected() != expected {
            return Ok(None);
        }
        start = end;
    }
    Ok(Some(stored))
}

/// Inserts `logs` one statement each and says which were stored.
async fn insert_one_by_one(
    tx: &mut Transaction<'_>,
    backend: Backend,
    logs: &[SpendLog],
    metadata: &[String],
) -> Result<Vec<bool>, StoreError> {
    let sql = insert_sql(1, backend);
    let mut stored = Vec::with_capacity(logs.len());
    for (log, metadata) in logs.iter().zip(metadata) {
        let query = bind_row(sqlx::query(&sql), log, metadata);
        stored.push(query.execute(&mut **tx).await?.rows_affected() > 0);
    }
    Ok(stored)
}

fn check(log: &SpendLog) -> Result<String, StoreError> {
    if log.request_id.trim().is_empty() {
        return Err(StoreError::Invalid(
            "spend log request_id must not be empty".into(),
        ));
    }
    check_finite("spend", log.spend)
        .map_err(|_| StoreError::Invalid(invalid_row(log, "spend must be a finite number")))?;
    match &log.metadata {
        Value::Null => Ok("{}".to_owned()),
        Value::Object(map) => to_json("metadata", map),
        _ => Err(StoreError::Invalid(invalid_row(
            log,
            "metadata must be a JSON object",
        ))),
    }
}

fn invalid_row(log: &SpendLog, reason: &str) -> String {
    format!("spend log {:?}: {reason}", log.request_id)
}

fn log_from_row(row: &AnyRow) -> Result<SpendLog, StoreError> {
    let request_id: String = row.try_get("request_id")?;
    let metadata_json: String = row.try_get("metadata")?;
    let metadata: Map<String, Value> =
        from_json(&metadata_json, "a JSON object").map_err(|reason| StoreError::CorruptRecord {
            table: TABLE,
            id: request_id.clone(),
            column: "metadata",
            reason,
        })?;
    Ok(SpendLog {
        call_type: row.try_get("call_type")?,
        api_key: row.try_get("api_key")?,
        key_alias: row.try_get("key_alias")?,
        team_id: row.try_get("team_id")?,
        organization_id: row.try_get("organization_id")?,
        user_id: row.try_get("user_id")?,
        model: row.try_get("model")?,
        model_group: row.try_get("model_group")?,
        api_base: row.try_get("api_base")?,
        mcp_server: row.try_get("mcp_server")?,
        mcp_tool: row.try_get("mcp_tool")?,
        status: row.try_get("status")?,
        error: row.try_get("error")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        prompt_tokens: row.try_get("prompt_tokens")?,
        completion_tokens: row.try_get("completion_tokens")?,
        total_tokens: row.try_get("total_tokens")?,
        spend: row.try_get("spend")?,
        metadata: Value::Object(metadata),
        request_id,
    })
}
