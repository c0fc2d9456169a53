//! The extra upstream sessions of one server: one per distinct set of caller headers (see
//! `client_headers.rs`) or per downstream session that answers server requests.
//!
//! The shared session of a server serves every caller that changes nothing about it. A caller
//! who brings its own credential or forwarded headers needs a session opened with them, and
//! keeping that session lets its next calls skip the handshake. Sessions are keyed by exactly
//! what was sent, so two callers share one only when they would send the same headers.
//!
//! Bounded: at most [`MAX_VARIANTS`] per server (the least recently used is closed to make
//! room), and the registry closes those idle for longer than the idle limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use junction_mcp::model::Tool;
use junction_mcp::{McpClient, McpError};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::client_headers::SessionVariant;

/// Sessions per server beyond the shared one.
pub(crate) const MAX_VARIANTS: usize = 256;

/// What distinguishes one extra session from another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct VariantKey {
    pub headers: SessionVariant,
    /// The downstream session whose server requests this session relays, if any.
    pub downstream: Option<u64>,
}

struct Entry {
    client: OnceCell<McpClient>,
    last_used: Mutex<Instant>,
    /// The tools this session listed, and when (for servers absent from the catalog).
    tools: Mutex<Option<(Instant, Vec<Tool>)>>,
}

/// The extra sessions of one server.
#[derive(Default)]
pub(crate) struct Variants {
    entries: Mutex<HashMap<VariantKey, Arc<Entry>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Variants {
    /// The session for `key`, opened with `connect` when there is none. Concurrent callers
    /// with the same key share one attempt; a failed attempt leaves nothing behind, so the
    /// next caller tries again.
    pub(crate) async fn client<F, Fut>(
        &self,
        key: &VariantKey,
        connect: F,
    ) -> Result<McpClient, McpError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<McpClient, McpError>>,
    {
        let (entry, evicted) = {
            let mut entries = lock(&self.entries);
            let evicted = if !entries.contains_key(key) && entries.len() >= MAX_VARIANTS {
                least_recently_used(&entries).and_then(|k| entries.remove(&k))
            } else {
                None
            };
            let entry = Arc::clone(entries.entry(key.clone()).or_insert_with(|| {
                Arc::new(Entry {
                    client: OnceCell::new(),
                    last_used: Mutex::new(Instant::now()),
                    tools: Mutex::new(None),
                })
            }));
            (entry, evicted)
        };
        if let Some(client) = evicted.and_then(|e| e.client.get().cloned()) {
            tokio::spawn(async move { client.close().await });
        }
        *lock(&entry.last_used) = Instant::now();
        match entry.client.get_or_try_init(connect).await {
            Ok(client) => Ok(client.clone()),
            Err(error) => {
                let mut entries = lock(&self.entries);
                if entries.get(key).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                    entries.remove(key);
                }
                Err(error)
            }
        }
    }

    /// The tools the session of `key` listed less than `max_age` ago.
    pub(crate) fn cached_tools(&self, key: &VariantKey, max_age: Duration) -> Option<Vec<Tool>> {
        let entry = lock(&self.entries).get(key).cloned()?;
        let tools = lock(&entry.tools);
        let (at, tools) = tools.as_ref()?;
        (at.elapsed() < max_age).then(|| tools.clone())
    }

    /// Remembers what the session of `key` listed.
    pub(crate) fn remember_tools(&self, key: &VariantKey, tools: Vec<Tool>) {
        if let Some(entry) = lock(&self.entries).get(key) {
            *lock(&entry.tools) = Some((Instant::now(), tools));
        }
    }

    /// Removes the sessions unused for `idle` and returns them, to be closed.
    pub(crate) fn take_idle(&self, idle: Duration) -> Vec<McpClient> {
        let now = Instant::now();
        self.take_where(|_, entry| now.duration_since(*lock(&entry.last_used)) >= idle)
    }

    /// Removes the sessions of one downstream session and returns them, to be closed.
    #[allow(
        dead_code,
        reason = "used once server requests are relayed (next change)"
    )]
    pub(crate) fn take_downstream(&self, downstream: u64) -> Vec<McpClient> {
        self.take_where(|key, _| key.downstream == Some(downstream))
    }

    /// The open sessions of one downstream session.
    pub(crate) fn of_downstream(&self, downstream: u64) -> Vec<McpClient> {
        lock(&self.entries)
            .iter()
            .filter(|(key, _)| key.downstream == Some(downstream))
            .filter_map(|(_, entry)| entry.client.get().cloned())
            .collect()
    }

    /// Removes every session and returns them, to be closed.
    pub(crate) fn take_all(&self) -> Vec<McpClient> {
        self.take_where(|_, _| true)
    }

    fn take_where(&self, mut doomed: impl FnMut(&VariantKey, &Entry) -> bool) -> Vec<McpClient> {
        let mut entries = lock(&self.entries);
        let keys: Vec<VariantKey> = entries
            .iter()
            .filter(|(key, entry)| doomed(key, entry))
            .map(|(key, _)| key.clone())
            .collect();
        keys.iter()
            .filter_map(|key| entries.remove(key))
            .filter_map(|entry| entry.client.get().cloned())
            .collect()
    }
}

fn least_recently_used(entries: &HashMap<VariantKey, Arc<Entry>>) -> Option<VariantKey> {
    entries
        .iter()
        .min_by_key(|(_, entry)| *lock(&entry.last_used))
        .map(|(key, _)| key.clone())
}
