//! The connections of one database: which pool reads, which writes, and how each
//! connection is set up.
//!
//! Postgres has one pool for both. A SQLite file has two, because SQLite lets one
//! connection write at a time, and how it makes the others wait is what the gateway
//! would feel:
//!
//! * **One writer connection.** Two connections writing at once do not queue: the
//!   loser's busy handler sleeps (1 ms, then 2, 5, …) and retries. With a spend-log
//!   batch and a stored response landing together, that sleep was most of the p99 of
//!   `/v1/responses` (`bench/responses.sh`). Every write here goes through a pool of
//!   one connection instead, so writers wait in the pool's queue and start the moment
//!   the previous one ends. (Other processes sharing the file still meet the busy
//!   timeout.)
//! * **Readers** (up to 8) are `query_only`, so a write sent to the wrong pool fails
//!   loudly instead of contending. In WAL mode they never block the writer nor it them.
//! * **Checkpoints in the background.** SQLite copies the WAL back into the database
//!   (with two `fsync`s) from whichever connection commits past
//!   `wal_autocheckpoint` pages, which put an `fsync` inside a request now and then.
//!   A task checkpoints from a reader every [`CHECKPOINT_EVERY`] instead (stopped before
//!   the connections when the store closes, so nothing reopens the files after); the writer's
//!   own threshold is raised to [`WRITER_AUTOCHECKPOINT_PAGES`], kept only as a bound
//!   on the WAL should that task fall behind.
//!
//! SQLite connections are not pinged before each use (`test_before_acquire`): a file
//! does not hang up, and the ping is one more round trip to the connection's thread.

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::StoreError;
use crate::location::Resolved;

/// How long SQLite waits for a lock held by another process's connection.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 5_000;

/// Readers of one SQLite file.
const SQLITE_READERS: u32 = 8;

/// How often the background task copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The writer checkpoints by itself only past this many WAL pages (about 40 MiB):
/// a bound, not the normal path (SQLite's default is 1,000).
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The pools of one database. Cloning shares them.
#[derive(Debug, Clone)]
pub(crate) struct Pools {
    /// Runs queries that only read.
    pub reader: AnyPool,
    /// Runs everything that writes (and migrations).
    pub writer: AnyPool,
    /// Stops the background checkpoints when the last clone is dropped.
    checkpoints: Option<Arc<Checkpoints>>,
}

impl Pools {
    /// Opens the pools for `resolved`; for a SQLite file, sets WAL mode on the writer
    /// (before any reader exists) and starts the background checkpoints. Migrations are
    /// the caller's, on [`Pools::writer`], before the pools are used.
    pub(crate) async fn open(resolved: &Resolved) -> Result<Pools, StoreError> {
        match resolved.backend {
            crate::Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(&resolved.url)
                    .await?;
                Ok(Pools::shared(pool))
            }
            // The `Any` driver re-parses the URL for every connection and sqlx gives each
            // parse of `:memory:` a new database, so an in-memory store must live on one
            // connection that is never closed.
            crate::Backend::Sqlite if resolved.in_memory => {
                let pool = sqlite_options(Role::Writer)
                    .max_connections(1)
                    .min_connections(1)
                    .connect(&resolved.url)
                    .await?;
                Ok(Pools::shared(pool))
            }
            crate::Backend::Sqlite => {
                let writer = sqlite_options(Role::Writer)
                    .max_connections(1)
                    .min_connections(1)
                    .connect(&resolved.url)
                    .await?;
                // WAL is a persistent property of the file: set it once, before the
                // readers exist.
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                    .fetch_one(&writer)
                    .await?;
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(journal_mode = %mode, "SQLite did not switch to WAL");
                }
                let reader = sqlite_options(Role::Reader)
                    .max_connections(SQLITE_READERS)
                    .connect_lazy(&resolved.url)?;
                let checkpoints = Checkpoints::start(reader.clone());
                Ok(Pools {
                    reader,
                    writer,
                    checkpoints: Some(Arc::new(checkpoints)),
                })
            }
        }
    }

    fn shared(pool: AnyPool) -> Pools {
        Pools {
            reader: pool.clone(),
            writer: pool,
            checkpoints: None,
        }
    }

    /// Closes every connection; further queries fail. The background checkpoints end
    /// first, after the one in progress if any, so that nothing touches the files once
    /// this returns.
    pub(crate) async fn close(&self) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.stop().await;
        }
        self.writer.close().await;
        self.reader.close().await;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Reader,
    Writer,
}

/// Pool options for one SQLite role: pragmas set on every new connection, no ping
/// before use, and connections kept open (a warm page and statement cache).
fn sqlite_options(role: Role) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                let mut pragmas = vec![
                    format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"),
                    // Durable across a crash of the process, and a commit needs no fsync
                    // in WAL mode; checkpoints still sync.
                    "PRAGMA synchronous = NORMAL".to_owned(),
                ];
                match role {
                    Role::Writer => pragmas.push(format!(
                        "PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}"
                    )),
                    Role::Reader => pragmas.push("PRAGMA query_only = 1".to_owned()),
                }
                for pragma in pragmas {
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
}

/// The background checkpoint task of a SQLite file: stopped between checkpoints by
/// [`Checkpoints::stop`], aborted on drop (a store dropped without being closed).
#[derive(Debug)]
struct Checkpoints {
    /// `true` asks the task to end; the task holds the only receiver, so the channel
    /// closes when it has ended.
    stop: watch::Sender<bool>,
    task: AbortHandle,
}

impl Checkpoints {
    fn start(reader: AnyPool) -> Checkpoints {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let first = tokio::time::Instant::now() + CHECKPOINT_EVERY;
            let mut every = tokio::time::interval_at(first, CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stopped.changed() => return,
                }
                // PASSIVE: copies what no reader still needs, never waits for a lock.
                // With nothing new in the WAL it returns without touching the disk.
                let result = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&reader)
                    .await;
                if let Err(error) = result
                    && !reader.is_closed()
                {
                    tracing::warn!(%error, "SQLite WAL checkpoint failed; retrying in a second");
                }
            }
        });
        Checkpoints {
            stop,
            task: task.abort_handle(),
        }
    }

    /// Ends the task and waits for it (a checkpoint in progress completes first).
    async fn stop(&self) {
        let _ = self.stop.send(true);
        self.stop.closed().await;
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.task.abort();
    }
}
