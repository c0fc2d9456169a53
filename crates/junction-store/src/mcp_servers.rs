//! MCP servers defined through the API (`/v1/mcp/server`) rather than `config.yaml`:
//! LiteLLM's `LiteLLM_MCPServerTable`, reduced to what the gateway needs to rebuild them.
//!
//! The store keeps a server as its `mcp_servers` entry without secrets (`definition`, a JSON
//! object) and its secrets already sealed (`credentials`, opaque text; see `secrets.rs`), so
//! nothing here ever handles a credential in clear. Every change also bumps the
//! `mcp_servers` revision in the same transaction: replicas poll that one number
//! ([`Store::mcp_servers_revision`]) and reload the table only when it moved.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::store::{from_json, next_creation_micros};
use crate::{Store, StoreError};

/// The name of the servers' row in `junction_revisions`.
const REVISION: &str = "mcp_servers";

const COLUMNS: &str = "server_id, server_name, definition, credentials, created_at, created_by, \
    updated_at, updated_by";

/// A stored MCP server.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServerRecord {
    pub server_id: String,
    /// Its name: the `mcp_servers` key it would have in a config file.
    pub server_name: String,
    /// The `mcp_servers` entry without its secrets.
    pub definition: Map<String, Value>,
    /// The secrets, sealed by the caller; `None` when it has none.
    pub credentials: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
    pub updated_by: Option<String>,
}

/// A server to insert, or the new state of one to replace.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMcpServer {
    pub server_id: String,
    pub server_name: String,
    pub definition: Map<String, Value>,
    pub credentials: Option<String>,
    /// Who makes the change (recorded as `created_by` / `updated_by`).
    pub by: Option<String>,
}

impl Store {
    /// Inserts a server. [`StoreError::Conflict`] if its id or name is taken.
    pub async fn insert_mcp_server(
        &self,
        server: &NewMcpServer,
    ) -> Result<McpServerRecord, StoreError> {
        check(server)?;
        let micros = next_creation_micros();
        let now = micros.div_euclid(1_000_000);
        let mut tx = self.pools.writer.begin().await?;
        let sql = format!(
            "INSERT INTO junction_mcp_servers (server_id, server_name, definition, credentials, \
             created_at, created_by, updated_at, updated_by, created_at_micros) \
             VALUES ($1, $2, $3, $4, $5, $6, $5, $6, $7) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&server.server_id)
            .bind(&server.server_name)
            .bind(Value::Object(server.definition.clone()).to_string())
            .bind(server.credentials.clone())
            .bind(now)
            .bind(server.by.clone())
            .bind(micros)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, server))?;
        bump_revision(&mut tx).await?;
        tx.commit().await?;
        record_from_row(&row)
    }

    /// Replaces the server `server.server_id` (name, definition, credentials), keeping its
    /// creation fields. `None` if there is no such server; [`StoreError::Conflict`] if the
    /// new name belongs to another server.
    pub async fn replace_mcp_server(
        &self,
        server: &NewMcpServer,
    ) -> Result<Option<McpServerRecord>, StoreError> {
        check(server)?;
        let mut tx = self.pools.writer.begin().await?;
        let sql = format!(
            "UPDATE junction_mcp_servers SET server_name = $1, definition = $2, \
             credentials = $3, updated_at = $4, updated_by = $5 WHERE server_id = $6 \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&server.server_name)
            .bind(Value::Object(server.definition.clone()).to_string())
            .bind(server.credentials.clone())
            .bind(crate::store::unix_now())
            .bind(server.by.clone())
            .bind(&server.server_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, server))?;
        if row.is_some() {
            bump_revision(&mut tx).await?;
        }
        tx.commit().await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Deletes a server; `false` if there was none.
    pub async fn delete_mcp_server(&self, server_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pools.writer.begin().await?;
        let deleted = sqlx::query("DELETE FROM junction_mcp_servers WHERE server_id = $1")
            .bind(server_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            bump_revision(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// The server `server_id`, if any.
    pub async fn mcp_server(&self, server_id: &str) -> Result<Option<McpServerRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM junction_mcp_servers WHERE server_id = $1");
        let row = sqlx::query(&sql)
            .bind(server_id)
            .fetch_optional(&self.pools.reader)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Every stored server, by name.
    pub async fn list_mcp_servers(&self) -> Result<Vec<McpServerRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM junction_mcp_servers ORDER BY server_name");
        let rows = sqlx::query(&sql).fetch_all(&self.pools.reader).await?;
        rows.iter().map(record_from_row).collect()
    }

    /// A number that changes with every insert, replacement or deletion of a server, in
    /// any process sharing the database.
    pub async fn mcp_servers_revision(&self) -> Result<i64, StoreError> {
        let revision: Option<i64> =
            sqlx::query_scalar("SELECT revision FROM junction_revisions WHERE name = $1")
                .bind(REVISION)
                .fetch_optional(&self.pools.reader)
                .await?;
        Ok(revision.unwrap_or(0))
    }
}

fn check(server: &NewMcpServer) -> Result<(), StoreError> {
    if server.server_id.trim().is_empty() {
        return Err(StoreError::Invalid(
            "server_id must not be empty".to_owned(),
        ));
    }
    if server.server_name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "server_name must not be empty".to_owned(),
        ));
    }
    Ok(())
}

async fn bump_revision(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE junction_revisions SET revision = revision + 1 WHERE name = $1")
        .bind(REVISION)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A unique violation names what is taken: the name, else the id.
fn conflict_or(err: sqlx::Error, server: &NewMcpServer) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        let on_name = db.constraint().is_some_and(|c| c.contains("server_name"))
            || db.message().contains("server_name");
        return StoreError::Conflict(if on_name {
            format!("server_name {:?} is already in use", server.server_name)
        } else {
            format!("server_id {:?} already exists", server.server_id)
        });
    }
    StoreError::Database(err)
}

fn record_from_row(row: &AnyRow) -> Result<McpServerRecord, StoreError> {
    let server_id: String = row.try_get("server_id")?;
    let definition: String = row.try_get("definition")?;
    let definition =
        from_json(&definition, "a JSON object").map_err(|reason| StoreError::CorruptRecord {
            table: "junction_mcp_servers",
            id: server_id.clone(),
            column: "definition",
            reason,
        })?;
    Ok(McpServerRecord {
        server_name: row.try_get("server_name")?,
        definition,
        credentials: row.try_get("credentials")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        updated_at: row.try_get("updated_at")?,
        updated_by: row.try_get("updated_by")?,
        server_id,
    })
}
