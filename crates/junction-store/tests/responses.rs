//! Integration tests for stored Responses-API responses (`put_response`,
//! `response`, `delete_response`). Like `keys.rs`, every test function in
//! `both_backends!` runs once against a fresh SQLite file and once against a
//! fresh Postgres database, to prove the one `sqlx::Any` code path (and the
//! portable upsert) works on both.
//!
//! Postgres: admin URL from `JUNCTION_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each test creates its own
//! `junction_test_<hex>` database and drops it afterwards. An unreachable
//! server makes the Postgres tests FAIL, on purpose: skipping would hide that
//! half of the storage layer went untested.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use junction_store::{Backend, Store, StoreError, StoredResponse};
use serde_json::{Value, json};
use sqlx::Row;

#[macro_use]
mod common;

use common::{Ctx, Kind, random_hex, with_db};

both_backends!(
    migrations_are_idempotent,
    round_trip_every_field,
    large_json_round_trips,
    upsert_replaces_every_column,
    concurrent_upserts_of_one_id,
    missing_id_is_none,
    delete_is_true_then_false,
    data_survives_reconnect,
    corrupt_json_is_an_error,
    invalid_input_is_rejected,
);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Version of the migration that creates `junction_responses`.
const RESPONSES_MIGRATION: i64 = 20_261_121_000_000;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn new_id() -> String {
    format!("resp_{}", random_hex(16))
}

/// Number of migration files shipped with the crate.
fn migration_files() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let count = std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|ext| ext == "sql")
        })
        .count();
    i64::try_from(count).unwrap()
}

fn message(id: &str, role: &str, text: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "role": role,
        "content": [{"type": if role == "user" { "input_text" } else { "output_text" }, "text": text}],
    })
}

/// A response with every field set (a continuation of `previous`).
fn sample(id: &str, previous: Option<&str>) -> StoredResponse {
    let input = vec![
        message("msg_in_1", "user", "What is the weather in Zürich? ☀️"),
        json!({"type": "function_call_output", "id": "fco_1", "call_id": "call_1",
               "output": "{\"temp\": 21.5}"}),
    ];
    let output = vec![message("msg_out_1", "assistant", "It is sunny, 21.5 °C.")];
    let mut conversation = vec![
        message("msg_old_1", "user", "Hello"),
        message("msg_old_2", "assistant", "Hi! How can I help?"),
    ];
    conversation.extend(input.iter().cloned());
    conversation.extend(output.iter().cloned());
    StoredResponse {
        id: id.to_owned(),
        owner: "key:88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b".into(),
        model: "gpt-4o-mini".into(),
        status: "completed".into(),
        previous_response_id: previous.map(str::to_owned),
        response: json!({
            "id": id,
            "object": "response",
            "created_at": 1_763_683_200,
            "status": "completed",
            "model": "gpt-4o-mini",
            "previous_response_id": previous,
            "output": output,
            "usage": {"input_tokens": 42, "output_tokens": 7, "total_tokens": 49},
            "metadata": {"nested": {"list": [true, false, null, 0.5, -1.25, i64::MIN, u64::MAX]}},
            "instructions": null,
            "text": "quotes \" backslash \\ newline \n tab \t NUL \u{0} emoji 🚀",
        }),
        input_items: input,
        conversation,
        created_at: 1_763_683_200,
    }
}

/// A conversation whose JSON is at least `min_bytes` long.
fn big_conversation(min_bytes: usize) -> Vec<Value> {
    let chunk = "Grüße, 世界! \"quoted\" \\ line\nbreak \u{1} 🚀 ".repeat(16);
    let mut items = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < min_bytes {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        let item = message(&format!("msg_{i:06}"), role, &format!("{i}: {chunk}"));
        size += serde_json::to_string(&item).unwrap().len();
        items.push(item);
        i += 1;
    }
    items
}

/// `(created_at, updated_at)` of a row, read behind the store's back.
async fn timestamps(ctx: &Ctx, id: &str) -> (i64, i64) {
    let raw = ctx.raw().await;
    let row = sqlx::query("SELECT created_at, updated_at FROM junction_responses WHERE id = $1")
        .bind(id)
        .fetch_one(&raw)
        .await
        .unwrap();
    let out = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    raw.close().await;
    out
}

async fn count_rows(ctx: &Ctx) -> i64 {
    let raw = ctx.raw().await;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM junction_responses")
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    raw.close().await;
    n
}

async fn owner_index_exists(ctx: &Ctx) -> bool {
    let sql = match ctx.kind {
        Kind::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master \
             WHERE type = 'index' AND name = 'junction_responses_owner_idx'"
        }
        Kind::Postgres => {
            "SELECT COUNT(*) AS n FROM pg_indexes \
             WHERE tablename = 'junction_responses' \
             AND indexname = 'junction_responses_owner_idx'"
        }
    };
    let raw = ctx.raw().await;
    let n: i64 = sqlx::query(sql)
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    raw.close().await;
    n == 1
}

// ---------------------------------------------------------------------------
// Tests run on both backends
// ---------------------------------------------------------------------------

async fn migrations_are_idempotent(ctx: Ctx) {
    let store = ctx.store().await;
    let stored = sample(&new_id(), None);
    store.put_response(&stored).await.unwrap();
    store.close().await;

    // Second and third start on the same database: migrations already applied.
    let (a, b) = tokio::join!(Store::connect(&ctx.url), Store::connect(&ctx.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.response(&stored.id).await.unwrap().unwrap(), stored);
    assert_eq!(b.response(&stored.id).await.unwrap().unwrap(), stored);
    a.close().await;
    b.close().await;

    let raw = ctx.raw().await;
    let applied: i64 = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations")
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(applied, migration_files());
    assert!(applied >= 2);
    let ours: i64 = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations WHERE version = $1")
        .bind(RESPONSES_MIGRATION)
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(ours, 1);
    assert!(owner_index_exists(&ctx).await);

    // A database from before this migration (keys only) is upgraded on the
    // next start.
    sqlx::query("DROP TABLE junction_responses")
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(RESPONSES_MIGRATION)
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let store = ctx.store().await;
    assert!(store.response(&stored.id).await.unwrap().is_none());
    store.put_response(&stored).await.unwrap();
    assert_eq!(store.response(&stored.id).await.unwrap().unwrap(), stored);
    assert!(owner_index_exists(&ctx).await);
    store.close().await;
}

async fn round_trip_every_field(ctx: Ctx) {
    let store = ctx.store().await;
    let first = sample(&new_id(), None);
    let second = sample(&new_id(), Some(&first.id));
    let before = now();
    store.put_response(&first).await.unwrap();
    store.put_response(&second).await.unwrap();

    let got = store.response(&first.id).await.unwrap().unwrap();
    assert_eq!(got, first);
    assert_eq!(got.previous_response_id, None);
    let got = store.response(&second.id).await.unwrap().unwrap();
    assert_eq!(got.id, second.id);
    assert_eq!(got.owner, second.owner);
    assert_eq!(got.model, second.model);
    assert_eq!(got.status, second.status);
    assert_eq!(got.previous_response_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(got.response, second.response);
    assert_eq!(got.input_items, second.input_items);
    assert_eq!(got.conversation, second.conversation);
    assert_eq!(got.created_at, second.created_at);
    assert_eq!(got, second);
    assert_eq!(
        got.response["text"],
        "quotes \" backslash \\ newline \n tab \t NUL \u{0} emoji 🚀"
    );
    assert_eq!(got.response["metadata"]["nested"]["list"][6], u64::MAX);

    // created_at is the caller's; updated_at is the store's clock.
    let (created_at, updated_at) = timestamps(&ctx, &second.id).await;
    assert_eq!(created_at, second.created_at);
    assert!(
        updated_at >= before && updated_at <= now() + 1,
        "{updated_at}"
    );

    // Empty arrays and a minimal object are fine too.
    let minimal = StoredResponse {
        id: new_id(),
        owner: "team:t-1".into(),
        model: String::new(),
        status: "in_progress".into(),
        previous_response_id: None,
        response: json!({}),
        input_items: Vec::new(),
        conversation: Vec::new(),
        created_at: 0,
    };
    store.put_response(&minimal).await.unwrap();
    assert_eq!(store.response(&minimal.id).await.unwrap().unwrap(), minimal);
    store.close().await;
}

async fn large_json_round_trips(ctx: Ctx) {
    let store = ctx.store().await;
    let mut stored = sample(&new_id(), Some("resp_earlier"));
    stored.conversation = big_conversation(1024 * 1024 + 1);
    stored.input_items = big_conversation(256 * 1024);
    stored.response["output"] = Value::Array(big_conversation(256 * 1024));
    let conversation_len = serde_json::to_string(&stored.conversation).unwrap().len();
    assert!(conversation_len > 1024 * 1024, "{conversation_len}");

    store.put_response(&stored).await.unwrap();
    let got = store.response(&stored.id).await.unwrap().unwrap();
    assert_eq!(got.conversation.len(), stored.conversation.len());
    assert_eq!(got, stored);

    // Growing it again (the next turn of a long conversation) replaces it.
    stored.conversation.extend(big_conversation(512 * 1024));
    store.put_response(&stored).await.unwrap();
    assert_eq!(store.response(&stored.id).await.unwrap().unwrap(), stored);
    store.close().await;
}

async fn upsert_replaces_every_column(ctx: Ctx) {
    let store = ctx.store().await;
    let id = new_id();
    let original = sample(&id, Some("resp_parent"));
    store.put_response(&original).await.unwrap();
    let other = sample(&new_id(), None);
    store.put_response(&other).await.unwrap();

    // Make the stored updated_at old so the bump is visible.
    let raw = ctx.raw().await;
    sqlx::query("UPDATE junction_responses SET updated_at = 1 WHERE id = $1")
        .bind(&id)
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;

    let replacement = StoredResponse {
        id: id.clone(),
        owner: "team:other".into(),
        model: "claude-3-5-sonnet".into(),
        status: "incomplete".into(),
        previous_response_id: None,
        response: json!({"id": id, "object": "response", "status": "incomplete"}),
        input_items: vec![message("msg_x", "user", "replaced")],
        conversation: vec![json!({"only": "this"})],
        created_at: 1_800_000_000,
    };
    store.put_response(&replacement).await.unwrap();
    assert_eq!(store.response(&id).await.unwrap().unwrap(), replacement);
    let (created_at, updated_at) = timestamps(&ctx, &id).await;
    assert_eq!(created_at, 1_800_000_000);
    assert!(
        updated_at >= now() - 5,
        "updated_at not bumped: {updated_at}"
    );

    // And back: NULL → value for previous_response_id.
    store.put_response(&original).await.unwrap();
    assert_eq!(store.response(&id).await.unwrap().unwrap(), original);

    // One row per id; the other response is untouched.
    assert_eq!(count_rows(&ctx).await, 2);
    assert_eq!(store.response(&other.id).await.unwrap().unwrap(), other);
    store.close().await;
}

async fn concurrent_upserts_of_one_id(ctx: Ctx) {
    let store = ctx.store().await;
    let id = new_id();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let mut stored = sample(&id, None);
            stored.status = format!("status-{i}");
            tokio::spawn(async move {
                store.put_response(&stored).await.unwrap();
                stored
            })
        })
        .collect();
    let mut written = Vec::new();
    for task in tasks {
        written.push(task.await.unwrap());
    }
    let got = store.response(&id).await.unwrap().unwrap();
    assert!(written.contains(&got), "{:?}", got.status);
    assert_eq!(count_rows(&ctx).await, 1);
    store.close().await;
}

async fn missing_id_is_none(ctx: Ctx) {
    let store = ctx.store().await;
    assert!(store.response("resp_missing").await.unwrap().is_none());
    store.put_response(&sample(&new_id(), None)).await.unwrap();
    assert!(store.response("resp_missing").await.unwrap().is_none());
    assert!(store.response("").await.unwrap().is_none());
    store.close().await;
}

async fn delete_is_true_then_false(ctx: Ctx) {
    let store = ctx.store().await;
    let doomed = sample(&new_id(), None);
    let kept = sample(&new_id(), Some(&doomed.id));
    store.put_response(&doomed).await.unwrap();
    store.put_response(&kept).await.unwrap();

    assert!(store.delete_response(&doomed.id).await.unwrap());
    assert!(store.response(&doomed.id).await.unwrap().is_none());
    assert!(!store.delete_response(&doomed.id).await.unwrap());
    assert!(!store.delete_response("resp_never").await.unwrap());
    assert!(!store.delete_response("").await.unwrap());
    // Deleting a parent leaves its continuation (and its reference) alone.
    assert_eq!(store.response(&kept.id).await.unwrap().unwrap(), kept);

    // The id can be stored again after deletion.
    store.put_response(&doomed).await.unwrap();
    assert_eq!(store.response(&doomed.id).await.unwrap().unwrap(), doomed);
    store.close().await;
}

async fn data_survives_reconnect(ctx: Ctx) {
    let store = ctx.store().await;
    let mut stored = sample(&new_id(), Some("resp_parent"));
    stored.conversation = big_conversation(64 * 1024);
    store.put_response(&stored).await.unwrap();
    let deleted = sample(&new_id(), None);
    store.put_response(&deleted).await.unwrap();
    assert!(store.delete_response(&deleted.id).await.unwrap());
    store.close().await;
    drop(store);

    let store = ctx.store().await;
    assert_eq!(store.response(&stored.id).await.unwrap().unwrap(), stored);
    assert!(store.response(&deleted.id).await.unwrap().is_none());
    store.close().await;
}

async fn corrupt_json_is_an_error(ctx: Ctx) {
    let store = ctx.store().await;
    let good = sample(&new_id(), None);
    let bad = sample(&new_id(), None);
    store.put_response(&good).await.unwrap();
    store.put_response(&bad).await.unwrap();
    let raw = ctx.raw().await;

    for (column, value) in [
        ("response", "not json"),
        ("response", "{\"truncated\": "),
        ("response", "[\"an array\"]"),
        ("response", "null"),
        ("input_items", "[{\"a\": 1}"),
        ("input_items", "{\"an\": \"object\"}"),
        ("input_items", ""),
        ("conversation", "oops"),
        ("conversation", "\"a string\""),
        ("conversation", "42"),
    ] {
        sqlx::query(
            "UPDATE junction_responses SET response = '{}', input_items = '[]', \
             conversation = '[]' WHERE id = $1",
        )
        .bind(&bad.id)
        .execute(&raw)
        .await
        .unwrap();
        assert!(store.response(&bad.id).await.is_ok());
        sqlx::query(&format!(
            "UPDATE junction_responses SET {column} = $1 WHERE id = $2"
        ))
        .bind(value)
        .bind(&bad.id)
        .execute(&raw)
        .await
        .unwrap();
        let err = store.response(&bad.id).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::CorruptResponse { id, column: c, .. }
                if *c == column && *id == bad.id),
            "{column}={value:?}: {err:?}"
        );
        assert!(err.to_string().contains(column), "{err}");
        // Other rows are unaffected.
        assert_eq!(store.response(&good.id).await.unwrap().unwrap(), good);
    }
    raw.close().await;

    // A corrupt row can still be replaced or deleted.
    store.put_response(&bad).await.unwrap();
    assert_eq!(store.response(&bad.id).await.unwrap().unwrap(), bad);
    assert!(store.delete_response(&bad.id).await.unwrap());
    store.close().await;
}

async fn invalid_input_is_rejected(ctx: Ctx) {
    let store = ctx.store().await;
    let valid = sample(&new_id(), None);

    let mut cases = Vec::new();
    for id in ["", "  "] {
        let mut r = valid.clone();
        r.id = id.into();
        cases.push(r);
    }
    for owner in ["", " \t"] {
        let mut r = valid.clone();
        r.owner = owner.into();
        cases.push(r);
    }
    for response in [json!([]), json!("text"), Value::Null] {
        let mut r = valid.clone();
        r.response = response;
        cases.push(r);
    }
    for r in &cases {
        let err = store.put_response(r).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{r:?}: {err:?}");
    }
    assert_eq!(count_rows(&ctx).await, 0);

    // Rejected updates leave an existing row alone.
    store.put_response(&valid).await.unwrap();
    let mut no_owner = valid.clone();
    no_owner.owner = String::new();
    no_owner.status = "failed".into();
    assert!(matches!(
        store.put_response(&no_owner).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
    assert_eq!(store.response(&valid.id).await.unwrap().unwrap(), valid);
    store.close().await;
}

// ---------------------------------------------------------------------------
// Backend-independent tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_plain_path_keeps_responses_across_restarts() {
    let dir = std::env::temp_dir().join(format!("junction_test_dir_{}", random_hex(8)));
    let path = dir.join("junction.db");
    let store = Store::connect(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    let stored = sample(&new_id(), None);
    store.put_response(&stored).await.unwrap();
    store.close().await;

    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.response(&stored.id).await.unwrap().unwrap(), stored);
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sqlite_in_memory_stores_responses() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let stored = sample(&new_id(), None);
    store.put_response(&stored).await.unwrap();
    assert_eq!(store.response(&stored.id).await.unwrap().unwrap(), stored);
    assert!(store.delete_response(&stored.id).await.unwrap());
    store.close().await;
}
