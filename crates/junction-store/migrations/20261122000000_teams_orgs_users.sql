-- Teams, organisations and users (LiteLLM's `/team/*`, `/organization/*`, `/user/*`), and the
-- key columns that tie a key to them: its organisation and its MCP `object_permission`.
--
-- This file must stay valid on BOTH SQLite and Postgres: it is embedded with
-- `sqlx::migrate!` and run through `sqlx::AnyPool` against either backend.
-- Portable types only: TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN.
-- Timestamps are unix seconds (BIGINT); JSON documents are stored as TEXT.
-- `created_at_micros` (strictly increasing within one process) gives listings a stable
-- order when several rows are created within the same second; it is not exposed.
-- Membership is denormalised as LiteLLM keeps it: a team lists its members
-- (`members_with_roles`), a user lists its teams (`teams`); the server keeps both in step.

CREATE TABLE IF NOT EXISTS junction_organizations (
    organization_id TEXT NOT NULL PRIMARY KEY,
    -- Not unique: LiteLLM accepts two organisations with the same alias.
    organization_alias TEXT NULL,
    models TEXT NOT NULL DEFAULT '[]',
    max_budget DOUBLE PRECISION NULL,
    spend DOUBLE PRECISION NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    -- JSON object (`mcp_servers`, `mcp_access_groups`, `mcp_tool_permissions`) or NULL.
    object_permission TEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_at_micros BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS junction_teams (
    team_id TEXT NOT NULL PRIMARY KEY,
    team_alias TEXT NULL,
    -- Checked by the server, not by a foreign key: deleting an organisation deletes its
    -- teams through the API, and a foreign key would make the two backends differ.
    organization_id TEXT NULL,
    models TEXT NOT NULL DEFAULT '[]',
    max_budget DOUBLE PRECISION NULL,
    spend DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- JSON array of `{"user_id", "user_email", "role"}`.
    members_with_roles TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    object_permission TEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_at_micros BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT junction_teams_team_alias_unique UNIQUE (team_alias)
);

CREATE INDEX IF NOT EXISTS junction_teams_organization_id_idx
    ON junction_teams (organization_id);

CREATE TABLE IF NOT EXISTS junction_users (
    user_id TEXT NOT NULL PRIMARY KEY,
    user_email TEXT NULL,
    user_role TEXT NOT NULL DEFAULT 'internal_user',
    -- JSON array of team ids.
    teams TEXT NOT NULL DEFAULT '[]',
    models TEXT NOT NULL DEFAULT '[]',
    max_budget DOUBLE PRECISION NULL,
    spend DOUBLE PRECISION NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    object_permission TEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_at_micros BIGINT NOT NULL DEFAULT 0
);

-- LiteLLM refuses a second user with the same email whatever its case.
CREATE UNIQUE INDEX IF NOT EXISTS junction_users_user_email_unique
    ON junction_users (LOWER(user_email));

ALTER TABLE junction_keys ADD COLUMN object_permission TEXT NULL;

ALTER TABLE junction_keys ADD COLUMN organization_id TEXT NULL;
