//! Integration tests for the key store. They exist to prove the single
//! `sqlx::Any` code path really works on BOTH backends: every test function in
//! `both_backends!` runs once against a fresh SQLite file and once against a
//! fresh Postgres database.
//!
//! Postgres: admin URL from `JUNCTION_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each test creates its own
//! `junction_test_<hex>` database and drops it afterwards. An unreachable
//! server makes the Postgres tests FAIL, on purpose: skipping would hide that
//! half of the storage layer went untested.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use junction_store::{
    Backend, KeyPatch, KeyRecord, NewKey, Store, StoreError, generate_key, hash_key,
    key_display_name,
};
use serde_json::{Map, json};
use sqlx::{AnyPool, Row};

#[macro_use]
mod common;

use common::{Ctx, Kind, random_hex, redact, with_database, with_db};

both_backends!(
    migrations_are_idempotent,
    insert_and_get_by_hash_and_alias,
    alias_conflict_is_reported,
    update_sets_and_clears_every_field,
    update_missing_key_returns_none,
    delete_returns_only_existing_keys,
    add_spend_is_atomic_under_concurrency,
    list_is_newest_first,
    ping_works_until_close,
    raw_key_is_never_stored,
    booleans_round_trip,
    corrupt_json_is_an_error,
    invalid_input_is_rejected,
    nullable_doubles_alternate,
);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A minimal key for a fresh raw key; returns (raw, key).
fn new_key() -> (String, NewKey) {
    let raw = generate_key();
    let key = common::minimal_key(&raw);
    (raw, key)
}

fn full_key(alias: &str) -> (String, NewKey) {
    let (raw, mut key) = new_key();
    key.key_alias = Some(alias.to_owned());
    key.models = vec!["gpt-4o".into(), "claude-3-5-sonnet".into()];
    key.metadata = json!({"env": "test", "nested": {"n": 1, "list": [true, null]}})
        .as_object()
        .unwrap()
        .clone();
    key.max_budget = Some(12.5);
    key.team_id = Some("team-1".into());
    key.user_id = Some("user-1".into());
    key.rpm_limit = Some(60);
    key.tpm_limit = Some(100_000);
    key.expires_at = Some(4_102_444_800); // 2100-01-01
    (raw, key)
}

fn assert_matches_new(record: &KeyRecord, key: &NewKey) {
    assert_eq!(record.token_hash, key.token_hash);
    assert_eq!(record.key_name, key.key_name);
    assert_eq!(record.key_alias, key.key_alias);
    assert_eq!(record.models, key.models);
    assert_eq!(record.metadata, key.metadata);
    assert_eq!(record.max_budget, key.max_budget);
    assert_eq!(record.team_id, key.team_id);
    assert_eq!(record.user_id, key.user_id);
    assert_eq!(record.rpm_limit, key.rpm_limit);
    assert_eq!(record.tpm_limit, key.tpm_limit);
    assert_eq!(record.expires_at, key.expires_at);
}

async fn force_updated_at(ctx: &Ctx, token_hash: &str, value: i64) {
    let raw = ctx.raw().await;
    sqlx::query("UPDATE junction_keys SET updated_at = $1 WHERE token_hash = $2")
        .bind(value)
        .bind(token_hash)
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
}

// ---------------------------------------------------------------------------
// Tests run on both backends
// ---------------------------------------------------------------------------

async fn migrations_are_idempotent(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, key) = full_key("persisted");
    store.insert_key(&key).await.unwrap();
    store.close().await;

    // Second and third start on the same database: migrations already applied.
    let (a, b) = tokio::join!(Store::connect(&ctx.url), Store::connect(&ctx.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    let again = a.key_by_hash(&key.token_hash).await.unwrap().unwrap();
    assert_matches_new(&again, &key);
    assert_eq!(b.list_keys().await.unwrap().len(), 1);
    a.close().await;
    b.close().await;

    let raw = ctx.raw().await;
    let applied: i64 = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations")
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    // One row per migration file: each applied once, however many starts.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
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
    assert_eq!(applied, i64::try_from(files).unwrap());
    raw.close().await;
}

async fn insert_and_get_by_hash_and_alias(ctx: Ctx) {
    let store = ctx.store().await;
    let before = now();
    let (_, key) = full_key("my-alias");
    let inserted = store.insert_key(&key).await.unwrap();
    assert_matches_new(&inserted, &key);
    assert_eq!(inserted.spend, 0.0);
    assert!(!inserted.blocked);
    assert!(inserted.created_at >= before && inserted.created_at <= now() + 1);
    assert_eq!(inserted.created_at, inserted.updated_at);

    let by_hash = store.key_by_hash(&key.token_hash).await.unwrap().unwrap();
    assert_eq!(by_hash, inserted);
    let by_alias = store.key_by_alias("my-alias").await.unwrap().unwrap();
    assert_eq!(by_alias, inserted);

    // Keys without alias: several NULL aliases are allowed.
    let (_, plain1) = new_key();
    let (_, plain2) = new_key();
    let r1 = store.insert_key(&plain1).await.unwrap();
    store.insert_key(&plain2).await.unwrap();
    assert_matches_new(&r1, &plain1);
    assert_eq!(r1.max_budget, None);
    assert!(r1.models.is_empty() && r1.metadata.is_empty());

    assert!(
        store
            .key_by_hash(&hash_key("sk-absent"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.key_by_alias("absent").await.unwrap().is_none());
    store.close().await;
}

async fn alias_conflict_is_reported(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, first) = full_key("shared");
    store.insert_key(&first).await.unwrap();

    let (_, mut second) = new_key();
    second.key_alias = Some("shared".into());
    let err = store.insert_key(&second).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(msg) if msg.contains("shared")),
        "{err:?}"
    );
    assert!(
        store
            .key_by_hash(&second.token_hash)
            .await
            .unwrap()
            .is_none()
    );

    // Renaming another key onto a used alias conflicts too.
    second.key_alias = Some("other".into());
    store.insert_key(&second).await.unwrap();
    let patch = KeyPatch {
        key_alias: Some(Some("shared".into())),
        ..KeyPatch::default()
    };
    let err = store
        .update_key(&second.token_hash, &patch)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let unchanged = store
        .key_by_hash(&second.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.key_alias.as_deref(), Some("other"));

    // The same key twice is a conflict as well.
    let mut dup = first.clone();
    dup.key_alias = None;
    let err = store.insert_key(&dup).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    store.close().await;
}

async fn update_sets_and_clears_every_field(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, key) = full_key("before");
    let hash = key.token_hash.clone();
    store.insert_key(&key).await.unwrap();

    // Empty patch: nothing changes but updated_at is bumped.
    force_updated_at(&ctx, &hash, 1).await;
    let same = store
        .update_key(&hash, &KeyPatch::default())
        .await
        .unwrap()
        .unwrap();
    assert_matches_new(&same, &key);
    assert!(same.updated_at >= now() - 5, "updated_at not bumped");

    force_updated_at(&ctx, &hash, 1).await;
    let new_metadata = json!({"replaced": true}).as_object().unwrap().clone();
    let set = KeyPatch {
        key_alias: Some(Some("after".into())),
        models: Some(vec!["only-this".into()]),
        metadata: Some(new_metadata.clone()),
        max_budget: Some(Some(99.25)),
        team_id: Some(Some("team-2".into())),
        user_id: Some(Some("user-2".into())),
        rpm_limit: Some(Some(7)),
        tpm_limit: Some(Some(8)),
        expires_at: Some(Some(1_900_000_000)),
        blocked: Some(true),
        spend: Some(3.75),
        object_permission: None,
        organization_id: None,
    };
    let updated = store.update_key(&hash, &set).await.unwrap().unwrap();
    assert_eq!(updated.key_alias.as_deref(), Some("after"));
    assert_eq!(updated.models, vec!["only-this".to_owned()]);
    assert_eq!(updated.metadata, new_metadata);
    assert_eq!(updated.max_budget, Some(99.25));
    assert_eq!(updated.team_id.as_deref(), Some("team-2"));
    assert_eq!(updated.user_id.as_deref(), Some("user-2"));
    assert_eq!(updated.rpm_limit, Some(7));
    assert_eq!(updated.tpm_limit, Some(8));
    assert_eq!(updated.expires_at, Some(1_900_000_000));
    assert!(updated.blocked);
    assert_eq!(updated.spend, 3.75);
    assert!(updated.updated_at >= now() - 5);
    assert_eq!(updated.created_at, same.created_at);
    assert_eq!(updated.token_hash, hash);
    assert_eq!(updated.key_name, key.key_name);
    // The returned record is what is stored.
    assert_eq!(store.key_by_hash(&hash).await.unwrap().unwrap(), updated);
    assert!(store.key_by_alias("before").await.unwrap().is_none());
    assert_eq!(
        store
            .key_by_alias("after")
            .await
            .unwrap()
            .unwrap()
            .token_hash,
        hash
    );

    // Clear every nullable field, unblock, reset spend.
    let clear = KeyPatch {
        key_alias: Some(None),
        models: Some(Vec::new()),
        metadata: Some(Map::new()),
        max_budget: Some(None),
        team_id: Some(None),
        user_id: Some(None),
        rpm_limit: Some(None),
        tpm_limit: Some(None),
        expires_at: Some(None),
        blocked: Some(false),
        spend: Some(0.0),
        object_permission: None,
        organization_id: None,
    };
    let cleared = store.update_key(&hash, &clear).await.unwrap().unwrap();
    assert_eq!(cleared.key_alias, None);
    assert!(cleared.models.is_empty());
    assert!(cleared.metadata.is_empty());
    assert_eq!(cleared.max_budget, None);
    assert_eq!(cleared.team_id, None);
    assert_eq!(cleared.user_id, None);
    assert_eq!(cleared.rpm_limit, None);
    assert_eq!(cleared.tpm_limit, None);
    assert_eq!(cleared.expires_at, None);
    assert!(!cleared.blocked);
    assert_eq!(cleared.spend, 0.0);
    assert_eq!(store.key_by_hash(&hash).await.unwrap().unwrap(), cleared);

    // One field at a time leaves the others alone.
    let only_rpm = KeyPatch {
        rpm_limit: Some(Some(42)),
        ..KeyPatch::default()
    };
    let r = store.update_key(&hash, &only_rpm).await.unwrap().unwrap();
    assert_eq!(
        r,
        KeyRecord {
            rpm_limit: Some(42),
            updated_at: r.updated_at,
            ..cleared
        }
    );
    store.close().await;
}

async fn update_missing_key_returns_none(ctx: Ctx) {
    let store = ctx.store().await;
    let patch = KeyPatch {
        blocked: Some(true),
        ..KeyPatch::default()
    };
    assert!(
        store
            .update_key(&hash_key("sk-missing"), &patch)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .update_key(&hash_key("sk-missing"), &KeyPatch::default())
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

async fn delete_returns_only_existing_keys(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, a) = new_key();
    let (_, b) = new_key();
    let (_, c) = full_key("c-alias");
    for key in [&a, &b, &c] {
        store.insert_key(key).await.unwrap();
    }
    let missing = hash_key("sk-never-inserted");
    let deleted = store
        .delete_keys(&[
            a.token_hash.clone(),
            missing.clone(),
            c.token_hash.clone(),
            a.token_hash.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(deleted, vec![a.token_hash.clone(), c.token_hash.clone()]);
    let left: Vec<String> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.token_hash)
        .collect();
    assert_eq!(left, vec![b.token_hash.clone()]);
    assert!(store.key_by_alias("c-alias").await.unwrap().is_none());
    assert!(store.delete_keys(&[]).await.unwrap().is_empty());
    assert!(store.delete_keys(&[missing]).await.unwrap().is_empty());
    // The alias of a deleted key can be reused.
    let (_, mut c2) = new_key();
    c2.key_alias = Some("c-alias".into());
    store.insert_key(&c2).await.unwrap();
    store.close().await;
}

async fn add_spend_is_atomic_under_concurrency(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, key) = new_key();
    store.insert_key(&key).await.unwrap();

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let hash = key.token_hash.clone();
            tokio::spawn(async move { store.add_spend(&hash, 0.5).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let record = store.key_by_hash(&key.token_hash).await.unwrap().unwrap();
    assert_eq!(record.spend, 10.0);

    store.add_spend(&key.token_hash, 0.25).await.unwrap();
    let record = store.key_by_hash(&key.token_hash).await.unwrap().unwrap();
    assert_eq!(record.spend, 10.25);

    // Unknown key: no error, nothing created.
    store.add_spend(&hash_key("sk-ghost"), 1.0).await.unwrap();
    assert_eq!(store.list_keys().await.unwrap().len(), 1);
    store.close().await;
}

async fn list_is_newest_first(ctx: Ctx) {
    let store = ctx.store().await;
    assert!(store.list_keys().await.unwrap().is_empty());
    let mut hashes = Vec::new();
    for i in 0..5 {
        let (_, key) = full_key(&format!("alias-{i}"));
        store.insert_key(&key).await.unwrap();
        hashes.push(key.token_hash);
    }
    hashes.reverse();
    let listed: Vec<String> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.token_hash)
        .collect();
    assert_eq!(listed, hashes);

    // Updating a key does not move it.
    let patch = KeyPatch {
        blocked: Some(true),
        ..KeyPatch::default()
    };
    store.update_key(&hashes[4], &patch).await.unwrap().unwrap();
    let listed: Vec<String> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.token_hash)
        .collect();
    assert_eq!(listed, hashes);
    store.close().await;
}

async fn ping_works_until_close(ctx: Ctx) {
    let store = ctx.store().await;
    store.ping().await.unwrap();
    let clone = store.clone();
    clone.ping().await.unwrap();
    store.close().await;
    assert!(clone.ping().await.is_err());
}

async fn raw_key_is_never_stored(ctx: Ctx) {
    let store = ctx.store().await;
    let mut raws = Vec::new();
    for i in 0..3 {
        let (raw, key) = full_key(&format!("k{i}"));
        let record = store.insert_key(&key).await.unwrap();
        assert_eq!(record.token_hash, hash_key(&raw));
        assert_eq!(record.key_name, format!("sk-...{}", &raw[raw.len() - 4..]));
        raws.push(raw);
    }
    // Touch every writable path once more.
    let hash0 = hash_key(&raws[0]);
    store.add_spend(&hash0, 1.0).await.unwrap();
    let patch = KeyPatch {
        metadata: Some(json!({"a": 1}).as_object().unwrap().clone()),
        ..KeyPatch::default()
    };
    store.update_key(&hash0, &patch).await.unwrap().unwrap();

    let raw_pool = ctx.raw().await;
    let rows = sqlx::query(
        "SELECT token_hash, key_name, key_alias, models, metadata, team_id, user_id \
         FROM junction_keys",
    )
    .fetch_all(&raw_pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 3);
    let columns = [
        "token_hash",
        "key_name",
        "key_alias",
        "models",
        "metadata",
        "team_id",
        "user_id",
    ];
    for row in &rows {
        for column in columns {
            let value: Option<String> = row.try_get(column).unwrap();
            let value = value.unwrap_or_default();
            for raw in &raws {
                // Neither the full key nor its secret part (without "sk-").
                assert!(!value.contains(raw.as_str()), "raw key found in {column}");
                assert!(!value.contains(&raw[3..]), "raw key found in {column}");
            }
        }
    }
    raw_pool.close().await;

    // Passing the raw key where the hash belongs is refused.
    let (raw, mut key) = new_key();
    key.token_hash = raw.clone();
    let err = store.insert_key(&key).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(!err.to_string().contains(&raw));
    store.close().await;
}

async fn booleans_round_trip(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, blocked) = new_key();
    let (_, open) = new_key();
    store.insert_key(&blocked).await.unwrap();
    store.insert_key(&open).await.unwrap();
    let patch = KeyPatch {
        blocked: Some(true),
        ..KeyPatch::default()
    };
    assert!(
        store
            .update_key(&blocked.token_hash, &patch)
            .await
            .unwrap()
            .unwrap()
            .blocked
    );
    assert!(
        store
            .key_by_hash(&blocked.token_hash)
            .await
            .unwrap()
            .unwrap()
            .blocked
    );
    assert!(
        !store
            .key_by_hash(&open.token_hash)
            .await
            .unwrap()
            .unwrap()
            .blocked
    );

    // A bound Rust bool filters correctly on both backends.
    let raw = ctx.raw().await;
    for (flag, expected) in [(true, &blocked), (false, &open)] {
        let rows = sqlx::query("SELECT token_hash FROM junction_keys WHERE blocked = $1")
            .bind(flag)
            .fetch_all(&raw)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let hash: String = rows[0].try_get("token_hash").unwrap();
        assert_eq!(&hash, &expected.token_hash);
    }
    if let Kind::Sqlite = ctx.kind {
        // With Any + SQLite a BOOLEAN is stored as an integer 0/1.
        let row = sqlx::query(
            "SELECT typeof(blocked) AS t, blocked + 0 AS v FROM junction_keys \
             WHERE token_hash = $1",
        )
        .bind(&blocked.token_hash)
        .fetch_one(&raw)
        .await
        .unwrap();
        let storage: String = row.try_get("t").unwrap();
        let value: i64 = row.try_get("v").unwrap();
        assert_eq!((storage.as_str(), value), ("integer", 1));
    }
    raw.close().await;
    store.close().await;
}

async fn corrupt_json_is_an_error(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, key) = new_key();
    store.insert_key(&key).await.unwrap();
    let raw = ctx.raw().await;

    for (column, bad) in [
        ("models", "not json"),
        ("models", "[1, 2]"),
        ("metadata", "{oops"),
        ("metadata", "[\"array\"]"),
    ] {
        sqlx::query("UPDATE junction_keys SET models = '[]', metadata = '{}'")
            .execute(&raw)
            .await
            .unwrap();
        sqlx::query(&format!(
            "UPDATE junction_keys SET {column} = $1 WHERE token_hash = $2"
        ))
        .bind(bad)
        .bind(&key.token_hash)
        .execute(&raw)
        .await
        .unwrap();
        let err = store.key_by_hash(&key.token_hash).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { column: c, .. } if *c == column),
            "{column}={bad}: {err:?}"
        );
        assert!(store.list_keys().await.is_err());
    }
    raw.close().await;
    store.close().await;
}

async fn invalid_input_is_rejected(ctx: Ctx) {
    let store = ctx.store().await;
    let (_, key) = new_key();
    store.insert_key(&key).await.unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        let err = store.add_spend(&key.token_hash, bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        let patch = KeyPatch {
            max_budget: Some(Some(bad)),
            ..KeyPatch::default()
        };
        let err = store.update_key(&key.token_hash, &patch).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
    let mut upper = key.clone();
    upper.token_hash = key.token_hash.to_uppercase();
    assert!(matches!(
        store.insert_key(&upper).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
    let stored = store.key_by_hash(&key.token_hash).await.unwrap().unwrap();
    assert_eq!(stored.spend, 0.0);
    assert_eq!(stored.max_budget, None);
    store.close().await;
}

/// Regression: sqlx 0.8's `Any` driver types a NULL double as `float4` on
/// Postgres; a cached statement must not mix that with real `f64` values.
async fn nullable_doubles_alternate(ctx: Ctx) {
    let store = ctx.store().await;
    let mut hashes = Vec::new();
    for i in 0..10 {
        let (_, mut key) = new_key();
        key.max_budget = (i % 2 == 0).then_some(f64::from(i) + 0.5);
        let record = store.insert_key(&key).await.unwrap();
        assert_eq!(record.max_budget, key.max_budget);
        hashes.push(key.token_hash);
    }
    for (i, hash) in hashes.iter().enumerate() {
        let budget = (i % 2 == 1).then_some(1.25);
        let patch = KeyPatch {
            max_budget: Some(budget),
            ..KeyPatch::default()
        };
        let record = store.update_key(hash, &patch).await.unwrap().unwrap();
        assert_eq!(record.max_budget, budget);
    }
    store.close().await;
}

// ---------------------------------------------------------------------------
// Backend-independent tests
// ---------------------------------------------------------------------------

#[test]
fn hash_key_matches_known_vector() {
    // printf %s sk-1234 | sha256sum
    assert_eq!(
        hash_key("sk-1234"),
        "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
    );
}

#[test]
fn generate_key_format_and_uniqueness() {
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        let key = generate_key();
        assert_eq!(key.len(), 35, "{key}");
        assert!(key.starts_with("sk-"));
        assert!(key[3..].bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
        assert!(seen.insert(key), "duplicate key generated");
    }
}

#[test]
fn display_name_is_litellm_key_name() {
    assert_eq!(key_display_name("sk-abcdefgh1234"), "sk-...1234");
}

#[tokio::test]
async fn sqlite_file_is_created_on_first_start_with_wal() {
    let dir = std::env::temp_dir().join(format!("junction_test_dir_{}", random_hex(8)));
    // A plain path (no scheme) inside a directory that does not exist yet.
    let path = dir.join("nested").join("junction.db");
    let store = Store::connect(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(path.is_file());
    let (_, key) = new_key();
    store.insert_key(&key).await.unwrap();
    store.close().await;

    // Same file through a `sqlite://` URL without `mode`: the data is there.
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.unwrap();
    assert!(store.key_by_hash(&key.token_hash).await.unwrap().is_some());
    store.close().await;

    sqlx::any::install_default_drivers();
    let raw = AnyPool::connect(&format!("{url}?mode=rw")).await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    raw.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sqlite_in_memory_works() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let (_, key) = new_key();
    store.insert_key(&key).await.unwrap();
    assert_eq!(store.list_keys().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn unsupported_url_is_invalid() {
    for url in ["mysql://root:pw@localhost/db", "", "redis://x"] {
        match Store::connect(url).await {
            Err(StoreError::InvalidUrl(msg)) => assert!(!msg.contains("pw@"), "{msg}"),
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }
}

#[test]
fn with_database_replaces_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
        "postgresql://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
    assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
}
