//! Ending `/mcp`'s long-lived streams at shutdown, once the requests in flight are answered.
//!
//! MCP clients keep streams open for as long as they are connected (the streamable HTTP
//! `GET` stream, the legacy HTTP+SSE event stream). A graceful shutdown that waited for every
//! connection to close would wait the whole drain timeout for them, while a restart that cut
//! them at once would lose answers still being computed. So requests in progress are counted
//! ([`McpDrain::busy`]: the body of a streamable HTTP `POST`, and every call a handler serves,
//! which covers the legacy transport, whose answers travel on the event stream), and when
//! shutdown begins, the streams are ended as soon as the count is zero: rmcp's sessions
//! through their cancellation token, the legacy streams after sending what is queued. Clients
//! see their streams end and reconnect to another replica (or this one, restarted).
//!
//! [`McpDrain`] also holds the sessions whose plain `tools/call`s the route answers itself
//! (`mcp_server/direct.rs`): like the drain, they are shared by the route and by every
//! session's handler, and this is the one object `Gateway` hands to both.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::mcp_server::direct::DirectSessions;

/// Counts the MCP requests in flight and ends the streams at shutdown.
#[derive(Debug, Default)]
pub struct McpDrain {
    streams: CancellationToken,
    busy: AtomicUsize,
    idle: Notify,
    direct: DirectSessions,
}

/// One request in progress; dropping it ends it.
#[derive(Debug)]
pub struct Busy(Arc<McpDrain>);

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl McpDrain {
    /// Cancelled when the streams must end (rmcp's sessions and the legacy streams watch it).
    pub fn streams(&self) -> CancellationToken {
        self.streams.clone()
    }

    /// The `/mcp` sessions whose plain calls the route may answer itself.
    pub(crate) fn direct_sessions(&self) -> &DirectSessions {
        &self.direct
    }

    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    /// Waits until no request is in progress, then ends every stream. The caller bounds the
    /// wait (the drain timeout).
    pub async fn close_streams_when_idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.busy.load(Ordering::Acquire) == 0 {
                break;
            }
            idle.await;
        }
        self.streams.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_end_only_after_the_last_request() {
        let drain = Arc::new(McpDrain::default());
        let first = drain.busy();
        let second = drain.busy();
        let closing = tokio::spawn({
            let drain = Arc::clone(&drain);
            async move { drain.close_streams_when_idle().await }
        });
        drop(first);
        tokio::task::yield_now().await;
        assert!(!drain.streams().is_cancelled());
        drop(second);
        closing.await.unwrap();
        assert!(drain.streams().is_cancelled());
    }
}
