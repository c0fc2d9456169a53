//! What a client asked of the server that outlives a session: the logging level
//! (`logging/setLevel`) and the resources it subscribed to (`resources/subscribe`).
//!
//! Both are state the server keeps per session, so a server that forgot the session (a
//! restart, a new stdio process) forgot them too. The client remembers them here and tells
//! every new session again before handing it to callers (see `Inner::restore` in the client).
//!
//! A setting is remembered before its request is sent and forgotten again if the request
//! fails: a session opened while the request is on its way then gets it too (sending it twice
//! is harmless), and one that failed is not replayed behind the caller's back.

#![allow(
    deprecated,
    reason = "logging is deprecated by SEP-2577, but servers still implement it"
)]

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rmcp::model::LoggingLevel;

#[derive(Default)]
pub(crate) struct Remembered {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    level: Option<LoggingLevel>,
    subscriptions: BTreeSet<String>,
}

/// Everything a new session must be told, in the order to tell it.
pub(crate) struct Snapshot {
    pub(crate) level: Option<LoggingLevel>,
    pub(crate) subscriptions: Vec<String>,
}

impl Remembered {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain values, each replaced whole: a panic elsewhere cannot leave them half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers `level`; returns the level it replaces, for [`Remembered::undo_level`].
    pub(crate) fn set_level(&self, level: LoggingLevel) -> Option<LoggingLevel> {
        self.lock().level.replace(level)
    }

    /// Goes back to `previous` after setting `level` failed, unless another call set a level
    /// since.
    pub(crate) fn undo_level(&self, level: LoggingLevel, previous: Option<LoggingLevel>) {
        let mut state = self.lock();
        if state.level == Some(level) {
            state.level = previous;
        }
    }

    /// Remembers a subscription; `false` when it already was.
    pub(crate) fn subscribe(&self, uri: &str) -> bool {
        self.lock().subscriptions.insert(uri.to_owned())
    }

    /// Forgets a subscription.
    pub(crate) fn unsubscribe(&self, uri: &str) {
        self.lock().subscriptions.remove(uri);
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            level: state.level,
            subscriptions: state.subscriptions.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_level_is_undone_unless_another_was_set_since() {
        let remembered = Remembered::default();
        assert_eq!(remembered.set_level(LoggingLevel::Info), None);
        let previous = remembered.set_level(LoggingLevel::Error);
        assert_eq!(previous, Some(LoggingLevel::Info));
        remembered.undo_level(LoggingLevel::Error, previous);
        assert_eq!(remembered.snapshot().level, Some(LoggingLevel::Info));

        let previous = remembered.set_level(LoggingLevel::Debug);
        remembered.set_level(LoggingLevel::Warning);
        remembered.undo_level(LoggingLevel::Debug, previous);
        assert_eq!(remembered.snapshot().level, Some(LoggingLevel::Warning));
    }

    #[test]
    fn subscriptions_are_a_set() {
        let remembered = Remembered::default();
        assert!(remembered.subscribe("b://x"));
        assert!(remembered.subscribe("a://y"));
        assert!(!remembered.subscribe("b://x"));
        remembered.unsubscribe("a://y");
        remembered.unsubscribe("never://subscribed");
        assert_eq!(remembered.snapshot().subscriptions, vec!["b://x"]);
    }
}
