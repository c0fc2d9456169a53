//! Conversations the bot remembers: for each conversation, the id of its last response.
//!
//! Junction stores the conversation itself; the bot keeps only the pointer it continues from
//! (`previous_response_id`). Keeping it in a SQLite file means a restarted bot picks every
//! conversation up where it was. A conversation is a user's or a channel's, as configured.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::config::ConversationScope;

/// Which conversation a message belongs to, e.g. `user:1234` or `channel:5678`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConversationKey(String);

impl ConversationKey {
    /// The conversation of a message from `user_id` in `channel_id`.
    pub fn of(scope: ConversationScope, user_id: u64, channel_id: u64) -> ConversationKey {
        match scope {
            ConversationScope::User => ConversationKey(format!("user:{user_id}")),
            ConversationScope::Channel => ConversationKey(format!("channel:{channel_id}")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("conversation store: {0}")]
pub struct StoreError(#[from] sqlx::Error);

/// The SQLite file of conversations.
#[derive(Clone)]
pub struct Conversations {
    pool: SqlitePool,
}

impl Conversations {
    /// Opens (creating when needed) the file at `path`.
    pub async fn open(path: &Path) -> Result<Conversations, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS conversations (
                conversation TEXT PRIMARY KEY,
                response_id TEXT NOT NULL,
                updated_at INTEGER NOT NULL
            )",
        )
        .execute(&pool)
        .await?;
        Ok(Conversations { pool })
    }

    /// The response the conversation continues from, if it has one.
    pub async fn previous(&self, key: &ConversationKey) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT response_id FROM conversations WHERE conversation = ?")
                .bind(key.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Records `response_id` as the conversation's latest response.
    pub async fn remember(
        &self,
        key: &ConversationKey,
        response_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations (conversation, response_id, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (conversation) DO UPDATE SET response_id = excluded.response_id,
                                                      updated_at = excluded.updated_at",
        )
        .bind(key.as_str())
        .bind(response_id)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Moves the conversation from `from` (what the answer continued) to `to`, unless it
    /// changed meanwhile: a `/reset` during an answer wins over the answer's id.
    pub async fn advance(
        &self,
        key: &ConversationKey,
        from: Option<&str>,
        to: &str,
    ) -> Result<bool, StoreError> {
        let done = match from {
            Some(from) => {
                sqlx::query(
                    "UPDATE conversations SET response_id = ?, updated_at = ?
                     WHERE conversation = ? AND response_id = ?",
                )
                .bind(to)
                .bind(unix_now())
                .bind(key.as_str())
                .bind(from)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "INSERT INTO conversations (conversation, response_id, updated_at)
                     VALUES (?, ?, ?) ON CONFLICT (conversation) DO NOTHING",
                )
                .bind(key.as_str())
                .bind(to)
                .bind(unix_now())
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected() > 0)
    }

    /// Forgets the conversation; says whether there was one.
    pub async fn forget(&self, key: &ConversationKey) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM conversations WHERE conversation = ?")
            .bind(key.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Closes the file, waiting for writes in progress.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "junction-discord-{}-{name}-{}",
            std::process::id(),
            unix_now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("bot.db")
    }

    #[test]
    fn keys_follow_the_scope() {
        assert_eq!(
            ConversationKey::of(ConversationScope::User, 1, 2).as_str(),
            "user:1"
        );
        assert_eq!(
            ConversationKey::of(ConversationScope::Channel, 1, 2).as_str(),
            "channel:2"
        );
    }

    #[tokio::test]
    async fn remember_replace_forget() {
        let path = temp_db("cycle");
        let store = Conversations::open(&path).await.unwrap();
        let alice = ConversationKey::of(ConversationScope::User, 1, 9);
        let bob = ConversationKey::of(ConversationScope::User, 2, 9);
        assert_eq!(store.previous(&alice).await.unwrap(), None);
        store.remember(&alice, "resp_1").await.unwrap();
        store.remember(&alice, "resp_2").await.unwrap();
        store.remember(&bob, "resp_b").await.unwrap();
        assert_eq!(
            store.previous(&alice).await.unwrap().as_deref(),
            Some("resp_2")
        );
        assert!(store.forget(&alice).await.unwrap());
        assert!(!store.forget(&alice).await.unwrap());
        assert_eq!(store.previous(&alice).await.unwrap(), None);
        assert_eq!(
            store.previous(&bob).await.unwrap().as_deref(),
            Some("resp_b")
        );
        store.close().await;
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[tokio::test]
    async fn advance_loses_to_a_reset_in_between() {
        let path = temp_db("advance");
        let store = Conversations::open(&path).await.unwrap();
        let key = ConversationKey::of(ConversationScope::User, 5, 9);
        assert!(store.advance(&key, None, "resp_1").await.unwrap());
        assert!(store.advance(&key, Some("resp_1"), "resp_2").await.unwrap());
        assert_eq!(
            store.previous(&key).await.unwrap().as_deref(),
            Some("resp_2")
        );
        // An answer that started from resp_2 finishes after a reset: the reset stays.
        store.forget(&key).await.unwrap();
        assert!(!store.advance(&key, Some("resp_2"), "resp_3").await.unwrap());
        assert_eq!(store.previous(&key).await.unwrap(), None);
        store.close().await;
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[tokio::test]
    async fn a_reopened_file_keeps_conversations() {
        let path = temp_db("reopen");
        let key = ConversationKey::of(ConversationScope::Channel, 1, 77);
        {
            let store = Conversations::open(&path).await.unwrap();
            store.remember(&key, "resp_kept").await.unwrap();
            store.close().await;
        }
        let store = Conversations::open(&path).await.unwrap();
        assert_eq!(
            store.previous(&key).await.unwrap().as_deref(),
            Some("resp_kept")
        );
        store.close().await;
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }
}
