-- One row per LLM or MCP call (LiteLLM's `LiteLLM_SpendLogs`, read by `/spend/logs`).
--
-- This file must stay valid on BOTH SQLite and Postgres: it is embedded with
-- `sqlx::migrate!` and run through `sqlx::AnyPool` against either backend.
-- Portable types only: TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN.
-- JSON documents are stored as TEXT. Unlike the other tables, `start_time` and
-- `end_time` are unix MILLISECONDS: a call's duration is often well under a second.
-- The key is named by its SHA-256 hash, never the raw key.
CREATE TABLE IF NOT EXISTS junction_spend_logs (
    request_id TEXT NOT NULL PRIMARY KEY,
    -- LiteLLM's values: `acompletion`, `aresponses`, `call_mcp_tool`, …
    call_type TEXT NOT NULL,
    -- The key's hash; '' for the master key and anonymous callers.
    api_key TEXT NOT NULL DEFAULT '',
    key_alias TEXT NULL,
    team_id TEXT NULL,
    organization_id TEXT NULL,
    user_id TEXT NULL,
    -- LLM calls: the model name the client asked for; MCP calls: `MCP: <prefixed tool>`.
    model TEXT NOT NULL DEFAULT '',
    model_group TEXT NULL,
    api_base TEXT NULL,
    mcp_server TEXT NULL,
    -- The tool's own name upstream (without the server prefix).
    mcp_tool TEXT NULL,
    -- `success` or `failure`.
    status TEXT NOT NULL,
    error TEXT NULL,
    start_time BIGINT NOT NULL,
    end_time BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    spend DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- JSON object.
    metadata TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS junction_spend_logs_start_time_idx
    ON junction_spend_logs (start_time);

CREATE INDEX IF NOT EXISTS junction_spend_logs_api_key_idx
    ON junction_spend_logs (api_key);

CREATE INDEX IF NOT EXISTS junction_spend_logs_team_id_idx
    ON junction_spend_logs (team_id);
