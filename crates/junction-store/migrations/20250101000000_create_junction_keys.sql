-- Virtual API keys issued by Junction (LiteLLM-compatible `/key/*` endpoints).
--
-- This file must stay valid on BOTH SQLite and Postgres: it is embedded with
-- `sqlx::migrate!` and run through `sqlx::AnyPool` against either backend.
-- Portable types only: TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN.
-- Timestamps are unix seconds (BIGINT); JSON documents are stored as TEXT.
-- Only the SHA-256 hash of a key is stored, never the raw key.
CREATE TABLE IF NOT EXISTS junction_keys (
    token_hash TEXT NOT NULL PRIMARY KEY,
    key_name TEXT NOT NULL,
    key_alias TEXT NULL,
    models TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    max_budget DOUBLE PRECISION NULL,
    spend DOUBLE PRECISION NOT NULL DEFAULT 0,
    team_id TEXT NULL,
    user_id TEXT NULL,
    rpm_limit BIGINT NULL,
    tpm_limit BIGINT NULL,
    expires_at BIGINT NULL,
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Creation time in unix microseconds, strictly increasing within one
    -- process: gives `list_keys` a stable newest-first order even when several
    -- keys are created within the same second. Not part of the public record.
    created_at_micros BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT junction_keys_key_alias_unique UNIQUE (key_alias)
);

CREATE INDEX IF NOT EXISTS junction_keys_created_at_micros_idx
    ON junction_keys (created_at_micros);
