-- MCP servers managed through `/v1/mcp/server` (LiteLLM's `LiteLLM_MCPServerTable`), and a
-- revision counter that replicas poll to pick up each other's changes.
--
-- Valid on BOTH SQLite and Postgres (embedded with `sqlx::migrate!`, run through `AnyPool`).
-- `definition` is the server's `mcp_servers` entry without its secrets, as a JSON object;
-- `credentials` holds the secrets (auth values, OAuth client, env, static headers), sealed
-- by the server before they reach the store: the database never sees them in clear.

CREATE TABLE IF NOT EXISTS junction_mcp_servers (
    server_id TEXT NOT NULL PRIMARY KEY,
    server_name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL DEFAULT '{}',
    credentials TEXT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NULL,
    created_at_micros BIGINT NOT NULL DEFAULT 0
);

-- One row per replicated collection; bumped in the transaction of every change to it.
CREATE TABLE IF NOT EXISTS junction_revisions (
    name TEXT NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL DEFAULT 0
);

INSERT INTO junction_revisions (name, revision) VALUES ('mcp_servers', 0);
