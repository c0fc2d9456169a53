#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What a SQLite file store does that Postgres has no counterpart for (`src/pools.rs`):
//! committed writes are copied from the WAL into the database file by a background
//! checkpoint, well before SQLite's own threshold; and every write goes through one
//! writer connection, which many concurrent writers of every kind share without error
//! or deadlock; and closing a store leaves nothing running on its files.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use junction_store::{SpendLog, Store, StoredResponse};
use serde_json::json;

#[allow(unused_macros)]
mod common;

/// A fresh database file, removed (with its WAL) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        TempDb(std::env::temp_dir().join(format!("junction_file_{}.db", common::random_hex(8))))
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }

    fn len(&self) -> u64 {
        file_len(&self.0)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn response(id: &str, text_bytes: usize) -> StoredResponse {
    StoredResponse {
        id: id.to_owned(),
        owner: "key:owner".into(),
        model: "gpt-4o".into(),
        status: "completed".into(),
        previous_response_id: None,
        response: json!({"id": id, "object": "response", "output_text": "x".repeat(text_bytes)}),
        input_items: vec![json!({"type": "message", "role": "user", "content": "hi"})],
        conversation: Vec::new(),
        created_at: 1_700_000_000,
    }
}

#[tokio::test]
async fn committed_writes_reach_the_database_file_without_waiting_for_sqlite_s_threshold() {
    let db = TempDb::new();
    let store = Store::connect(&db.url()).await.unwrap();
    let before = db.len();
    // About 100 pages of 4 KiB: far below the 1,000 pages after which SQLite would
    // checkpoint on its own, so only the background checkpoint moves them.
    for i in 0..25 {
        store
            .put_response(&response(&format!("resp_{i}"), 16 * 1024))
            .await
            .unwrap();
    }
    let wal = PathBuf::from(format!("{}-wal", db.0.display()));
    assert!(
        file_len(&wal) > 300 * 1024,
        "the writes are in the WAL first"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while db.len() < before + 300 * 1024 {
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {} bytes (was {before}); the WAL was not checkpointed",
            db.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And what was copied reads back whole.
    let stored = store.response("resp_24").await.unwrap().unwrap();
    assert_eq!(stored.response, response("resp_24", 16 * 1024).response);
    store.close().await;
}

#[tokio::test]
async fn many_concurrent_writers_of_every_kind_all_land() {
    let db = TempDb::new();
    let store = Store::connect(&db.url()).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..48 {
        let store = store.clone();
        tasks.spawn(async move {
            match i % 3 {
                0 => store
                    .put_response(&response(&format!("resp_{i}"), 512))
                    .await
                    .map(|_| ()),
                1 => store
                    .insert_key(&common::minimal_key(&format!("sk-concurrent-{i}")))
                    .await
                    .map(|_| ()),
                _ => {
                    let rows: Vec<SpendLog> = (0..20)
                        .map(|n| SpendLog {
                            request_id: format!("req_{i}_{n}"),
                            call_type: "acompletion".into(),
                            model: "gpt-4o".into(),
                            status: "success".into(),
                            start_time: 1_000 + n,
                            end_time: 1_100 + n,
                            metadata: json!({}),
                            ..SpendLog::default()
                        })
                        .collect();
                    store.record_spend(&rows).await
                }
            }
        });
    }
    let all = tokio::time::timeout(Duration::from_secs(60), async {
        let mut done = 0;
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
            done += 1;
        }
        done
    })
    .await
    .expect("concurrent writers finished within a minute (no deadlock on the writer)");
    assert_eq!(all, 48);

    // Everything each writer committed is visible to the readers at once.
    for i in (0..48).step_by(3) {
        assert!(
            store
                .response(&format!("resp_{i}"))
                .await
                .unwrap()
                .is_some(),
            "resp_{i}"
        );
    }
    assert_eq!(store.list_keys().await.unwrap().len(), 16);
    let logs = store
        .spend_logs(&junction_store::SpendLogFilter {
            limit: Some(1_000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(logs.len(), 16 * 20);
    store.close().await;
}

#[tokio::test]
async fn a_closed_store_leaves_nothing_running_on_its_files() {
    // Closing stops the background checkpoints before the connections, so the moment
    // `close` returns no connection can still be opening (which would create the WAL's
    // files again) and the directory can be removed.
    for _ in 0..20 {
        let dir = std::env::temp_dir().join(format!("junction_close_{}", common::random_hex(8)));
        let path = dir.join("junction.db");
        let store = Store::connect(path.to_str().unwrap()).await.unwrap();
        store.put_response(&response("resp_1", 64)).await.unwrap();
        assert!(store.response("resp_1").await.unwrap().is_some());
        store.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
