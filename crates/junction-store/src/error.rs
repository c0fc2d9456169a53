//! The error type of the store, so callers (the HTTP server) can tell a bad
//! configuration, a duplicate alias and a database failure apart.

/// Everything that can go wrong in [`crate::Store`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database driver reported an error (connection, SQL, decoding).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    /// Applying the embedded migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// The database URL could not be understood. The message never contains
    /// credentials.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),

    /// A uniqueness rule was violated: a duplicate `key_alias`, `team_alias` or
    /// `user_email`, or an id (key, team, organisation, user) inserted twice.
    #[error("conflict: {0}")]
    Conflict(String),

    /// A value given to the store was rejected before reaching the database
    /// (for example a token hash that is not a SHA-256 hex digest, or a
    /// non-finite amount).
    #[error("invalid input: {0}")]
    Invalid(String),

    /// A stored row could not be decoded (for example corrupt JSON in the
    /// `models` or `metadata` column).
    #[error("corrupt row (key {token_hash_prefix}…, column {column}): {reason}")]
    Corrupt {
        /// First characters of the row's token hash (never a raw key).
        token_hash_prefix: String,
        /// Column holding the bad value.
        column: &'static str,
        /// What was wrong with it.
        reason: String,
    },

    /// A stored response could not be decoded (corrupt JSON, or JSON of the
    /// wrong shape, in the `response`, `input_items` or `conversation`
    /// column).
    #[error("corrupt row (response {id}, column {column}): {reason}")]
    CorruptResponse {
        /// The response id of the row.
        id: String,
        /// Column holding the bad value.
        column: &'static str,
        /// What was wrong with it.
        reason: String,
    },

    /// A stored team, organisation or user could not be decoded (corrupt JSON, or
    /// JSON of the wrong shape, in one of its JSON columns).
    #[error("corrupt row ({table} {id:?}, column {column}): {reason}")]
    CorruptRecord {
        /// The table: `junction_teams`, `junction_organizations`, `junction_users` or
        /// `junction_mcp_servers`.
        table: &'static str,
        /// The row's id.
        id: String,
        /// Column holding the bad value.
        column: &'static str,
        /// What was wrong with it.
        reason: String,
    },

    /// Preparing the SQLite file location failed (creating its directory or
    /// resolving its path).
    #[error("cannot prepare SQLite database at {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The operating system's random number generator failed.
    #[error("operating system random number generator failed: {0}")]
    Random(String),
}
