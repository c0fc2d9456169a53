#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests for spend logs, each run once on a fresh SQLite file and once on a fresh
//! Postgres database (see `common`): round trips, every filter, limits and order, duplicate
//! request ids, the spend totals of keys, teams, organisations and users (also under
//! concurrent batches), and invalid batches that must write nothing.

use junction_store::{
    DEFAULT_SPEND_LOG_LIMIT, NewOrganization, NewTeam, NewUser, SpendLog, SpendLogFilter, Store,
    StoreError, generate_key, hash_key,
};
use serde_json::{Map, Value, json};

#[macro_use]
mod common;

use common::{Ctx, Kind, with_db};

both_backends!(
    round_trip_keeps_every_field,
    each_filter_selects_its_rows,
    limit_and_newest_first_order,
    duplicate_request_ids_are_ignored,
    spend_is_added_to_every_level_once_per_row,
    concurrent_batches_add_spend_atomically,
    invalid_batches_write_nothing,
    a_large_batch_is_written_whole,
);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A minimal successful LLM call.
fn log(request_id: &str, start_time: i64) -> SpendLog {
    SpendLog {
        request_id: request_id.to_owned(),
        call_type: "acompletion".into(),
        model: "gpt-4o".into(),
        status: "success".into(),
        start_time,
        end_time: start_time + 250,
        metadata: json!({}),
        ..SpendLog::default()
    }
}

/// A row charged to the key, team, organisation and user of `Owners`.
fn charged(request_id: &str, owners: &Owners, spend: f64) -> SpendLog {
    SpendLog {
        api_key: owners.key.clone(),
        team_id: Some(owners.team.clone()),
        organization_id: Some(owners.organization.clone()),
        user_id: Some(owners.user.clone()),
        spend,
        ..log(request_id, 1_000)
    }
}

struct Owners {
    key: String,
    team: String,
    organization: String,
    user: String,
}

/// A key, team, organisation and user, each with spend 0.
async fn owners(store: &Store, suffix: &str) -> Owners {
    let raw = generate_key();
    let key = store.insert_key(&common::minimal_key(&raw)).await.unwrap();
    let organization = store
        .insert_organization(&NewOrganization {
            organization_id: format!("org-{suffix}"),
            organization_alias: None,
            models: Vec::new(),
            max_budget: None,
            metadata: Map::new(),
            object_permission: None,
        })
        .await
        .unwrap();
    let team = store
        .insert_team(&NewTeam {
            team_id: format!("team-{suffix}"),
            team_alias: None,
            organization_id: Some(organization.organization_id.clone()),
            models: Vec::new(),
            max_budget: None,
            members_with_roles: Vec::new(),
            metadata: Map::new(),
            blocked: false,
            object_permission: None,
        })
        .await
        .unwrap();
    let user = store
        .insert_user(&NewUser {
            user_id: format!("user-{suffix}"),
            user_email: None,
            user_role: "internal_user".into(),
            teams: Vec::new(),
            models: Vec::new(),
            max_budget: None,
            metadata: Map::new(),
            object_permission: None,
        })
        .await
        .unwrap();
    Owners {
        key: key.token_hash,
        team: team.team_id,
        organization: organization.organization_id,
        user: user.user_id,
    }
}

/// The spend totals of `owners`: key, team, organisation, user.
async fn totals(store: &Store, owners: &Owners) -> [f64; 4] {
    [
        store.key_by_hash(&owners.key).await.unwrap().unwrap().spend,
        store.team(&owners.team).await.unwrap().unwrap().spend,
        store
            .organization(&owners.organization)
            .await
            .unwrap()
            .unwrap()
            .spend,
        store.user(&owners.user).await.unwrap().unwrap().spend,
    ]
}

async fn ids(store: &Store, filter: SpendLogFilter) -> Vec<String> {
    store
        .spend_logs(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.request_id)
        .collect()
}

async fn all(store: &Store) -> Vec<SpendLog> {
    store.spend_logs(&SpendLogFilter::default()).await.unwrap()
}

// ---------------------------------------------------------------------------
// Tests run on both backends
// ---------------------------------------------------------------------------

async fn round_trip_keeps_every_field(ctx: Ctx) {
    let store = ctx.store().await;
    let full = SpendLog {
        request_id: "req-full".into(),
        call_type: "call_mcp_tool".into(),
        api_key: hash_key("sk-some-key"),
        key_alias: Some("ci-key".into()),
        team_id: Some("team-1".into()),
        organization_id: Some("org-1".into()),
        user_id: Some("user-1".into()),
        model: "MCP: github-list_issues".into(),
        model_group: Some("github".into()),
        api_base: Some("https://mcp.example.com/mcp".into()),
        mcp_server: Some("github".into()),
        mcp_tool: Some("list_issues".into()),
        status: "failure".into(),
        error: Some("upstream said no: ünïcode ✓".into()),
        start_time: 1_763_700_000_123,
        end_time: 1_763_700_001_456,
        prompt_tokens: 11,
        completion_tokens: 22,
        total_tokens: 33,
        spend: 0.001_25,
        metadata: json!({"tags": ["a", "b"], "nested": {"n": [1, null, 2.5]}}),
    };
    // Only what is optional left empty: nulls and a `null` metadata come back as stored.
    let sparse = SpendLog {
        metadata: Value::Null,
        ..log("req-sparse", 5)
    };
    store
        .record_spend(&[full.clone(), sparse.clone()])
        .await
        .unwrap();
    let rows = all(&store).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], full);
    assert_eq!(
        rows[1],
        SpendLog {
            metadata: json!({}),
            ..sparse
        }
    );
    // An empty batch is a no-op.
    store.record_spend(&[]).await.unwrap();
    assert_eq!(all(&store).await.len(), 2);
    store.close().await;
}

async fn each_filter_selects_its_rows(ctx: Ctx) {
    let store = ctx.store().await;
    let key_a = hash_key("sk-a");
    let key_b = hash_key("sk-b");
    let rows = vec![
        SpendLog {
            api_key: key_a.clone(),
            user_id: Some("alice".into()),
            team_id: Some("red".into()),
            ..log("r1", 1_000)
        },
        SpendLog {
            api_key: key_a.clone(),
            user_id: Some("bob".into()),
            team_id: Some("blue".into()),
            call_type: "call_mcp_tool".into(),
            mcp_server: Some("github".into()),
            mcp_tool: Some("list_issues".into()),
            ..log("r2", 2_000)
        },
        SpendLog {
            api_key: key_b.clone(),
            user_id: Some("alice".into()),
            call_type: "call_mcp_tool".into(),
            mcp_server: Some("time".into()),
            ..log("r3", 3_000)
        },
        SpendLog {
            call_type: "aresponses".into(),
            ..log("r4", 4_000)
        },
    ];
    store.record_spend(&rows).await.unwrap();

    let filter = SpendLogFilter::default;
    assert_eq!(ids(&store, filter()).await, ["r4", "r3", "r2", "r1"]);
    let by_key = SpendLogFilter {
        api_key: Some(key_a.clone()),
        ..filter()
    };
    assert_eq!(ids(&store, by_key).await, ["r2", "r1"]);
    let master = SpendLogFilter {
        api_key: Some(String::new()),
        ..filter()
    };
    assert_eq!(ids(&store, master).await, ["r4"]);
    let by_user = SpendLogFilter {
        user_id: Some("alice".into()),
        ..filter()
    };
    assert_eq!(ids(&store, by_user).await, ["r3", "r1"]);
    let by_team = SpendLogFilter {
        team_id: Some("blue".into()),
        ..filter()
    };
    assert_eq!(ids(&store, by_team).await, ["r2"]);
    let by_id = SpendLogFilter {
        request_id: Some("r3".into()),
        ..filter()
    };
    assert_eq!(ids(&store, by_id).await, ["r3"]);
    let by_call = SpendLogFilter {
        call_type: Some("call_mcp_tool".into()),
        ..filter()
    };
    assert_eq!(ids(&store, by_call).await, ["r3", "r2"]);
    let by_server = SpendLogFilter {
        mcp_server: Some("github".into()),
        ..filter()
    };
    assert_eq!(ids(&store, by_server).await, ["r2"]);
    // Both bounds are inclusive.
    let range = SpendLogFilter {
        start_ms: Some(2_000),
        end_ms: Some(3_000),
        ..filter()
    };
    assert_eq!(ids(&store, range).await, ["r3", "r2"]);
    let from = SpendLogFilter {
        start_ms: Some(3_001),
        ..filter()
    };
    assert_eq!(ids(&store, from).await, ["r4"]);
    let until = SpendLogFilter {
        end_ms: Some(999),
        ..filter()
    };
    assert!(ids(&store, until).await.is_empty());
    // Every condition must hold.
    let combined = SpendLogFilter {
        api_key: Some(key_a),
        user_id: Some("alice".into()),
        start_ms: Some(0),
        ..filter()
    };
    assert_eq!(ids(&store, combined).await, ["r1"]);
    let nothing = SpendLogFilter {
        api_key: Some(key_b),
        team_id: Some("red".into()),
        ..filter()
    };
    assert!(ids(&store, nothing).await.is_empty());
    store.close().await;
}

async fn limit_and_newest_first_order(ctx: Ctx) {
    let store = ctx.store().await;
    // Two rows share a start time: the request id breaks the tie.
    let mut rows: Vec<SpendLog> = (0..10)
        .map(|i| log(&format!("req-{i:02}"), 1_000 + i))
        .collect();
    rows.push(log("req-05b", 1_005));
    store.record_spend(&rows).await.unwrap();
    let expected = [
        "req-09", "req-08", "req-07", "req-06", "req-05", "req-05b", "req-04", "req-03", "req-02",
        "req-01", "req-00",
    ];
    assert_eq!(ids(&store, SpendLogFilter::default()).await, expected);
    let three = SpendLogFilter {
        limit: Some(3),
        ..SpendLogFilter::default()
    };
    assert_eq!(ids(&store, three).await, expected[..3]);
    let zero = SpendLogFilter {
        limit: Some(0),
        ..SpendLogFilter::default()
    };
    assert!(ids(&store, zero).await.is_empty());

    // Without a limit at most DEFAULT_SPEND_LOG_LIMIT rows come back; a huge limit is capped
    // (and still returns every row there is).
    let many: Vec<SpendLog> = (0..=i64::from(DEFAULT_SPEND_LOG_LIMIT))
        .map(|i| log(&format!("bulk-{i:05}"), 10_000 + i))
        .collect();
    for chunk in many.chunks(256) {
        store.record_spend(chunk).await.unwrap();
    }
    let total = many.len() + rows.len();
    assert_eq!(
        all(&store).await.len(),
        DEFAULT_SPEND_LOG_LIMIT as usize,
        "the default limit"
    );
    let capped = SpendLogFilter {
        limit: Some(u32::MAX),
        ..SpendLogFilter::default()
    };
    assert_eq!(store.spend_logs(&capped).await.unwrap().len(), total);
    store.close().await;
}

async fn duplicate_request_ids_are_ignored(ctx: Ctx) {
    let store = ctx.store().await;
    let who = owners(&store, "dup").await;
    store
        .record_spend(&[charged("req-1", &who, 1.0)])
        .await
        .unwrap();
    // Again in a later batch (with other values), and twice within one batch.
    let again = SpendLog {
        status: "failure".into(),
        ..charged("req-1", &who, 8.0)
    };
    store
        .record_spend(&[
            again,
            charged("req-2", &who, 0.5),
            charged("req-2", &who, 0.5),
        ])
        .await
        .unwrap();
    let rows = all(&store).await;
    assert_eq!(rows.len(), 2);
    let first = rows.iter().find(|r| r.request_id == "req-1").unwrap();
    assert_eq!(first.status, "success", "the first row is kept");
    assert_eq!(first.spend, 1.0);
    assert_eq!(
        totals(&store, &who).await,
        [1.5; 4],
        "skipped rows add nothing"
    );
    // A repeat within one statement (a batch of four is written by one).
    store
        .record_spend(&[
            charged("req-3", &who, 2.0),
            charged("req-4", &who, 4.0),
            charged("req-3", &who, 2.0),
            charged("req-1", &who, 8.0),
        ])
        .await
        .unwrap();
    assert_eq!(all(&store).await.len(), 4);
    assert_eq!(totals(&store, &who).await, [7.5; 4]);
    // The same with every id new: the repeat is still counted once.
    store
        .record_spend(&[
            charged("req-5", &who, 0.5),
            charged("req-6", &who, 1.0),
            charged("req-5", &who, 0.5),
            charged("req-7", &who, 1.0),
        ])
        .await
        .unwrap();
    assert_eq!(all(&store).await.len(), 7);
    assert_eq!(totals(&store, &who).await, [10.0; 4]);
    store.close().await;
}

async fn a_large_batch_is_written_whole(ctx: Ctx) {
    let store = ctx.store().await;
    let who = owners(&store, "big").await;
    // 150 rows: several statements of different sizes.
    let batch: Vec<SpendLog> = (0..150)
        .map(|i| SpendLog {
            start_time: i,
            ..charged(&format!("big-{i:03}"), &who, 0.5)
        })
        .collect();
    store.record_spend(&batch).await.unwrap();
    let mut stored = all(&store).await;
    stored.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    assert_eq!(stored, batch, "every row, every field");
    assert_eq!(totals(&store, &who).await, [75.0; 4]);
    store.close().await;
}

async fn spend_is_added_to_every_level_once_per_row(ctx: Ctx) {
    let store = ctx.store().await;
    let who = owners(&store, "a").await;
    let other = owners(&store, "b").await;
    let batch = vec![
        charged("a1", &who, 0.25),
        charged("a2", &who, 0.5),
        charged("b1", &other, 2.0),
        // Only the key is named: only the key is charged.
        SpendLog {
            api_key: who.key.clone(),
            spend: 4.0,
            ..log("key-only", 1)
        },
        // Nothing above 0 is added.
        charged("free", &who, 0.0),
        charged("refund", &who, -1.0),
        // Names nobody stored: the row is kept, no total changes.
        SpendLog {
            api_key: hash_key("sk-deleted"),
            team_id: Some("gone".into()),
            organization_id: Some("gone".into()),
            user_id: Some("gone".into()),
            spend: 16.0,
            ..log("orphan", 2)
        },
        // The master key (empty hash) has no total.
        SpendLog {
            spend: 32.0,
            ..log("master", 3)
        },
    ];
    store.record_spend(&batch).await.unwrap();
    assert_eq!(all(&store).await.len(), batch.len());
    assert_eq!(totals(&store, &who).await, [4.75, 0.75, 0.75, 0.75]);
    assert_eq!(totals(&store, &other).await, [2.0; 4]);

    // A later batch adds to what is there.
    store
        .record_spend(&[charged("a3", &who, 0.125)])
        .await
        .unwrap();
    assert_eq!(totals(&store, &who).await, [4.875, 0.875, 0.875, 0.875]);
    store.close().await;
}

async fn concurrent_batches_add_spend_atomically(ctx: Ctx) {
    let store = ctx.store().await;
    let who = owners(&store, "c").await;
    let who = std::sync::Arc::new(who);
    const WRITERS: usize = 8;
    const BATCHES: usize = 10;
    const ROWS: usize = 5;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        let who = who.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..BATCHES {
                let rows: Vec<SpendLog> = (0..ROWS)
                    .map(|row| charged(&format!("w{writer}-b{batch}-r{row}"), &who, 0.25))
                    .collect();
                store.record_spend(&rows).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let expected = (WRITERS * BATCHES * ROWS) as f64 * 0.25;
    assert_eq!(totals(&store, &who).await, [expected; 4]);
    assert_eq!(all(&store).await.len(), WRITERS * BATCHES * ROWS);
    store.close().await;
}

async fn invalid_batches_write_nothing(ctx: Ctx) {
    let store = ctx.store().await;
    let who = owners(&store, "bad").await;
    let good = charged("good", &who, 1.0);
    let bad_rows = [
        charged("nan", &who, f64::NAN),
        charged("inf", &who, f64::INFINITY),
        charged("-inf", &who, f64::NEG_INFINITY),
        SpendLog {
            metadata: json!(["not", "an", "object"]),
            ..log("array-metadata", 1)
        },
        log("  ", 1),
    ];
    for bad in bad_rows {
        let result = store.record_spend(&[good.clone(), bad.clone()]).await;
        assert!(
            matches!(result, Err(StoreError::Invalid(_))),
            "{}: {result:?}",
            bad.request_id
        );
    }
    // Each amount is finite but their sum is not: found mid-transaction, rolled back.
    let huge = [
        charged("huge-1", &who, f64::MAX),
        charged("huge-2", &who, f64::MAX),
    ];
    let result = store.record_spend(&huge).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");

    assert!(all(&store).await.is_empty(), "no row was written");
    assert_eq!(totals(&store, &who).await, [0.0; 4], "no total moved");
    // The store still works afterwards.
    store.record_spend(&[good]).await.unwrap();
    assert_eq!(totals(&store, &who).await, [1.0; 4]);
    store.close().await;
}
