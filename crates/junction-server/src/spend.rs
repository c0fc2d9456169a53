//! The spend-log recorder: handlers hand it one [`SpendLog`] per call and move on; one
//! background task writes what has queued up in batches.
//!
//! Recording must never slow or fail a request, so [`SpendRecorder::record`] only queues (a
//! full or closed queue drops the row with an error line). The writer takes every row waiting,
//! up to [`MAX_BATCH`], and writes them in transactions of at most [`TRANSACTION_ROWS`]:
//! on SQLite a transaction holds the database's one writer connection, and a request storing
//! its response waits for it (60 rows took 0.8 ms, up to 2.7 ms, measured with
//! `bench/responses.sh`; the collisions were the p99 of `/v1/responses`). After a row it lingers
//! ([`LINGER`]) for others to join it, so a steady trickle of requests shares commits as a
//! flood does: a transaction that also updates the key's, team's, organisation's and user's
//! spend costs far more than a row, and measured as much CPU as the request it records
//! (`bench/responses.sh`). Nothing waits for the row meanwhile: budgets read the cached
//! spend, updated when the row is queued, and a flush writes at once. While it lingers the
//! writer sleeps rather than waiting on the queue, so the rows that join it do not wake it
//! (on a busy machine each wake costs the request path a context switch); a flush or close
//! wakes it through [`SpendRecorder`]'s `urgent` signal. A failed write is retried with
//! backoff; a batch the store refuses as invalid is written row by row, so one bad row does
//! not lose the others.

use std::sync::Arc;
use std::time::Duration;

use junction_store::{SpendLog, Store, StoreError};
use tokio::sync::{Notify, mpsc, oneshot};

/// Most rows the writer takes from the queue at once.
const MAX_BATCH: usize = 256;
/// Most rows written in one transaction, so that no transaction holds the database's writer
/// long (module docs).
const TRANSACTION_ROWS: usize = 16;
/// How long the writer waits after a row for more rows to share its transactions.
const LINGER: Duration = Duration::from_millis(100);
/// Rows that may wait for the writer; beyond this (the database is down or far too slow)
/// rows are dropped rather than growing memory without bound.
const QUEUE_CAPACITY: usize = 65_536;
/// Waits before each retry of a failed write; after the last, the batch is dropped.
#[cfg(not(test))]
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
];
/// Tests go through every retry without waiting seconds.
#[cfg(test)]
const RETRY_DELAYS: [Duration; 3] = [Duration::from_millis(1); 3];

enum Message {
    Row(Box<SpendLog>),
    /// Answered once every message queued before it has been handled.
    Flush(oneshot::Sender<()>),
    /// Like `Flush`, then the writer stops taking rows and ends.
    Close(oneshot::Sender<()>),
}

/// Queues spend logs for the background writer. Cloning is cheap (a channel sender).
#[derive(Clone)]
pub struct SpendRecorder {
    queue: mpsc::Sender<Message>,
    /// Ends the writer's lingering early: a flush or close is queued.
    urgent: Arc<Notify>,
}

impl std::fmt::Debug for SpendRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpendRecorder")
            .field("closed", &self.queue.is_closed())
            .finish()
    }
}

impl SpendRecorder {
    /// Spawns the writer on the current tokio runtime (panics outside one, like
    /// `tokio::spawn`).
    pub fn start(store: Store) -> SpendRecorder {
        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        let urgent = Arc::new(Notify::new());
        tokio::spawn(write_loop(store, rx, Arc::clone(&urgent)));
        SpendRecorder { queue, urgent }
    }

    /// Queues `log` without waiting. If the queue is full or the recorder closed, the row is
    /// dropped and an error is logged: the request it describes has already been served.
    pub fn record(&self, log: SpendLog) {
        if let Err(err) = self.queue.try_send(Message::Row(Box::new(log))) {
            let (reason, message) = match err {
                mpsc::error::TrySendError::Full(message) => ("queue full", message),
                mpsc::error::TrySendError::Closed(message) => ("recorder closed", message),
            };
            let request_id = match &message {
                Message::Row(log) => log.request_id.as_str(),
                _ => "",
            };
            tracing::error!(request_id, reason, "spend log dropped");
        }
    }

    /// Resolves once every row recorded before this call has been written (or given up on).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            self.urgent.notify_one();
            // An error means the writer is gone: nothing is left to wait for.
            let _ = wait.await;
        }
    }

    /// Writes every row recorded so far and ends the writer. Rows recorded afterwards, through
    /// any clone, are dropped with an error line.
    pub async fn close(self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_ok() {
            self.urgent.notify_one();
            let _ = wait.await;
        }
    }
}

/// The writer: waits for a message, takes whatever else is already queued (up to a batch of
/// rows), lingers for more until [`LINGER`] after the first unless a flush or close is
/// waiting, writes, then answers the flushes that were waiting on those rows. Closers are
/// answered last, once the queue is closed and empty, so that rows which slipped in just
/// before the close are written before the store is closed too.
async fn write_loop(store: Store, mut rx: mpsc::Receiver<Message>, urgent: Arc<Notify>) {
    let mut batch: Vec<SpendLog> = Vec::with_capacity(MAX_BATCH);
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut closing: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut next = Some(first);
        let mut lingered = false;
        loop {
            while let Some(message) = next.take() {
                match message {
                    Message::Row(log) => batch.push(*log),
                    Message::Flush(done) => waiting.push(done),
                    Message::Close(done) => {
                        // No new messages; those already queued are still handled, and `recv`
                        // returns `None` once they are.
                        rx.close();
                        closing.push(done);
                    }
                }
                if batch.len() < MAX_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            let write_now = batch.is_empty()
                || batch.len() >= MAX_BATCH
                || !waiting.is_empty()
                || !closing.is_empty();
            if write_now || lingered {
                break;
            }
            // Not `rx.recv()`: every row arriving would wake the writer.
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = urgent.notified() => {}
            }
            lingered = true;
            next = rx.try_recv().ok();
        }
        for rows in batch.chunks(TRANSACTION_ROWS) {
            write(&store, rows).await;
        }
        batch.clear();
        for done in waiting.drain(..) {
            // The flusher may have stopped waiting; nothing to do then.
            let _ = done.send(());
        }
    }
    for done in closing {
        let _ = done.send(());
    }
}

/// Writes one batch, retrying failures; never fails, only logs what it could not write.
async fn write(store: &Store, batch: &[SpendLog]) {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        match store.record_spend(batch).await {
            Ok(()) => return,
            Err(StoreError::Invalid(reason)) if batch.len() > 1 => {
                tracing::warn!(
                    %reason,
                    rows = batch.len(),
                    "spend log batch refused; writing its rows one by one"
                );
                for log in batch {
                    Box::pin(write(store, std::slice::from_ref(log))).await;
                }
                return;
            }
            Err(StoreError::Invalid(reason)) => {
                let request_id = batch.first().map_or("", |l| l.request_id.as_str());
                tracing::error!(%reason, request_id, "spend log dropped: invalid");
                return;
            }
            Err(err) => match delays.next() {
                Some(delay) => {
                    tracing::warn!(
                        error = %err,
                        rows = batch.len(),
                        retry_in_ms = delay.as_millis() as u64,
                        "spend log write failed; retrying"
                    );
                    tokio::time::sleep(*delay).await;
                }
                None => {
                    tracing::error!(
                        error = %err,
                        rows = batch.len(),
                        "spend logs dropped: the database write kept failing"
                    );
                    return;
                }
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashSet;

    use junction_store::SpendLogFilter;
    use serde_json::json;

    use super::*;

    fn log(request_id: &str, spend: f64) -> SpendLog {
        SpendLog {
            request_id: request_id.to_owned(),
            call_type: "acompletion".into(),
            model: "demo".into(),
            status: "success".into(),
            start_time: 1_000,
            end_time: 1_010,
            spend,
            metadata: json!({}),
            ..SpendLog::default()
        }
    }

    async fn rows(store: &Store) -> Vec<SpendLog> {
        store
            .spend_logs(&SpendLogFilter {
                limit: Some(10_000),
                ..SpendLogFilter::default()
            })
            .await
            .unwrap()
    }

    async fn memory_store() -> Store {
        Store::connect("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn flush_waits_for_every_row_recorded_before() {
        let store = memory_store().await;
        let recorder = SpendRecorder::start(store.clone());
        recorder.record(log("one", 0.5));
        recorder.flush().await;
        assert_eq!(rows(&store).await.len(), 1);
        // A flush with nothing queued resolves too.
        recorder.flush().await;
        recorder.close().await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn batches_write_every_row_from_many_tasks() {
        let store = memory_store().await;
        let recorder = SpendRecorder::start(store.clone());
        let mut tasks = Vec::new();
        for task in 0..8 {
            let recorder = recorder.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..250 {
                    recorder.record(log(&format!("t{task}-{i}"), 0.0));
                    if i % 50 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        recorder.flush().await;
        let written: HashSet<String> = rows(&store)
            .await
            .into_iter()
            .map(|l| l.request_id)
            .collect();
        assert_eq!(written.len(), 2_000);
        recorder.close().await;
        store.close().await;
    }

    #[tokio::test]
    async fn close_writes_what_is_queued_then_drops_later_rows() {
        let store = memory_store().await;
        let recorder = SpendRecorder::start(store.clone());
        let late = recorder.clone();
        // More than one batch, queued before the writer has run at all.
        for i in 0..(MAX_BATCH * 3 + 7) {
            recorder.record(log(&format!("r{i}"), 0.0));
        }
        recorder.close().await;
        assert_eq!(rows(&store).await.len(), MAX_BATCH * 3 + 7);
        // After close: dropped, never a panic or a hang.
        late.record(log("late", 0.0));
        late.flush().await;
        assert_eq!(rows(&store).await.len(), MAX_BATCH * 3 + 7);
        store.close().await;
    }

    #[tokio::test]
    async fn an_invalid_row_does_not_lose_its_batch() {
        let store = memory_store().await;
        let recorder = SpendRecorder::start(store.clone());
        recorder.record(log("before", 0.25));
        recorder.record(log("bad", f64::NAN));
        recorder.record(log("after", 0.25));
        recorder.flush().await;
        let mut written: Vec<String> = rows(&store)
            .await
            .into_iter()
            .map(|l| l.request_id)
            .collect();
        written.sort();
        assert_eq!(written, ["after", "before"]);
        recorder.close().await;
        store.close().await;
    }

    #[tokio::test]
    async fn a_failing_database_is_retried_then_given_up() {
        let store = memory_store().await;
        let recorder = SpendRecorder::start(store.clone());
        // Every write fails from now on; the writer must log, not panic or hang.
        store.close().await;
        recorder.record(log("lost", 0.1));
        recorder.flush().await;
        recorder.close().await;
    }
}
