-- Responses stored by the OpenAI Responses API (`POST /v1/responses` with
-- `store: true`), so a client can read one back (`GET /v1/responses/{id}`),
-- delete it, or continue from it with `previous_response_id`.
--
-- This file must stay valid on BOTH SQLite and Postgres: it is embedded with
-- `sqlx::migrate!` and run through `sqlx::AnyPool` against either backend.
-- Portable types only: TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN.
-- Timestamps are unix seconds (BIGINT); JSON documents are stored as TEXT.
CREATE TABLE IF NOT EXISTS junction_responses (
    -- The response id returned to the client (`resp_…`).
    id TEXT NOT NULL PRIMARY KEY,
    -- Who may read the response: an opaque string chosen by the caller
    -- (for example `key:<hash>` or `team:<id>`). Never a raw key.
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    -- The Response's `status` (`completed`, `incomplete`, `failed`, …).
    status TEXT NOT NULL,
    previous_response_id TEXT NULL,
    -- The full Response JSON object.
    response TEXT NOT NULL,
    -- JSON array: this request's input items, each with its id.
    input_items TEXT NOT NULL,
    -- JSON array: every item needed to continue the conversation from this
    -- response (earlier turns, this input, this output).
    conversation TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS junction_responses_owner_idx
    ON junction_responses (owner);
