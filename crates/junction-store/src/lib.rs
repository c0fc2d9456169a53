//! Persistence for Junction: virtual API keys (and their spend), the teams,
//! organisations and users they belong to, stored Responses-API responses, and MCP
//! servers defined through the API (their secrets sealed, `secrets.rs`), kept through
//! `sqlx`.
//!
//! Why this crate exists: the gateway needs durable, LiteLLM-compatible key
//! management without forcing operators to run a database server. SQLite is the
//! embedded default (a file created on first start); Postgres is used when the
//! URL is `postgres://` or `postgresql://`, so several replicas can share state.
//! Both go through one code path (`sqlx::AnyPool`) with portable SQL and
//! embedded migrations.
//!
//! Raw keys are never stored: callers hash them with [`hash_key`] and persist
//! only the hash plus the display name from [`key_display_name`].

mod directory;
mod error;
mod keygen;
mod location;
mod mcp_servers;
mod model;
mod pools;
mod secrets;
mod spend;
mod store;

pub use error::StoreError;
pub use keygen::{generate_key, hash_key, key_display_name, try_generate_key};
pub use mcp_servers::{McpServerRecord, NewMcpServer};
pub use model::{
    KeyPatch, KeyRecord, NewKey, NewOrganization, NewTeam, NewUser, ObjectPermission,
    OrganizationPatch, OrganizationRecord, StoredResponse, TeamMember, TeamPatch, TeamRecord,
    UserPatch, UserRecord,
};
pub use secrets::{SealError, Sealer};
pub use spend::{DEFAULT_SPEND_LOG_LIMIT, MAX_SPEND_LOG_LIMIT, SpendLog, SpendLogFilter};
pub use store::{Backend, Store};
