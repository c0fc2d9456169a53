//! One answer on Discord: the messages that show it, kept in step with its text.
//!
//! The text is cut into Discord-sized pieces ([`crate::split`]); the first piece replies to
//! the question, the others follow it. Showing a longer text edits the pieces that changed
//! and posts the new ones, so a streamed answer grows in place and overflows into further
//! messages. While streaming, edits are spaced by the configured interval: Discord allows
//! about five edits per five seconds in a channel, and twilight queues anything beyond.
//! Mentions in the answer never ping anyone (a model can write `@everyone` too); only the
//! asker is notified, by the reply itself.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use twilight_http::Client;
use twilight_model::channel::message::AllowedMentions;
use twilight_model::id::Id;
use twilight_model::id::marker::{ChannelMarker, MessageMarker};

use crate::split::{DISCORD_LIMIT, split_message};

/// Why Discord did not take a message.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error(transparent)]
    Http(#[from] twilight_http::Error),
    #[error("unreadable message from Discord: {0}")]
    Body(#[from] twilight_http::response::DeserializeBodyError),
}

/// The messages of one answer.
pub struct Reply {
    http: Arc<Client>,
    channel: Id<ChannelMarker>,
    reply_to: Option<Id<MessageMarker>>,
    allowed_mentions: AllowedMentions,
    posted: Vec<Posted>,
    shown: String,
}

struct Posted {
    id: Id<MessageMarker>,
    content: String,
}

impl Reply {
    /// An answer in `channel`, replying to `reply_to` when given.
    pub fn new(
        http: Arc<Client>,
        channel: Id<ChannelMarker>,
        reply_to: Option<Id<MessageMarker>>,
    ) -> Reply {
        Reply {
            http,
            channel,
            reply_to,
            allowed_mentions: AllowedMentions {
                replied_user: true,
                ..AllowedMentions::default()
            },
            posted: Vec::new(),
            shown: String::new(),
        }
    }

    /// The text on screen so far.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Makes the messages show `text`: edits what changed, posts what is new, deletes what
    /// is no longer needed (a final text shorter than the streamed one).
    pub async fn show(&mut self, text: &str) -> Result<(), PostError> {
        let pieces = split_message(text, DISCORD_LIMIT);
        for (index, piece) in pieces.iter().enumerate() {
            match self.posted.get_mut(index) {
                Some(posted) if posted.content == *piece => {}
                Some(posted) => {
                    self.http
                        .update_message(self.channel, posted.id)
                        .content(Some(piece.as_str()))
                        .allowed_mentions(Some(&self.allowed_mentions))
                        .await?;
                    posted.content = piece.clone();
                }
                None => {
                    let mut create = self
                        .http
                        .create_message(self.channel)
                        .content(piece)
                        .allowed_mentions(Some(&self.allowed_mentions));
                    if let (0, Some(question)) = (index, self.reply_to) {
                        // A question deleted meanwhile must not cost the answer.
                        create = create.reply(question).fail_if_not_exists(false);
                    }
                    let message = create.await?.model().await?;
                    self.posted.push(Posted {
                        id: message.id,
                        content: piece.clone(),
                    });
                }
            }
        }
        while self.posted.len() > pieces.len().max(1) {
            if let Some(extra) = self.posted.pop() {
                self.http.delete_message(self.channel, extra.id).await?;
            }
        }
        self.shown = text.to_owned();
        Ok(())
    }

    /// Shows `text`, logging a failure: what the caller does next does not depend on it.
    pub async fn show_or_log(&mut self, text: &str) {
        if let Err(error) = self.show(text).await {
            tracing::warn!(channel = %self.channel, %error, "could not post the answer to Discord");
        }
    }

    /// Runs `work` while showing the text it publishes on `text`, at most one update per
    /// `interval`; returns what `work` returns. The caller shows the final text.
    pub async fn follow<T>(
        &mut self,
        work: impl Future<Output = T>,
        mut text: watch::Receiver<String>,
        interval: Duration,
    ) -> T {
        tokio::pin!(work);
        let mut next_update = Instant::now();
        let mut dirty = false;
        let mut open = true;
        loop {
            tokio::select! {
                result = &mut work => return result,
                changed = text.changed(), if open && !dirty => {
                    match changed {
                        Ok(()) => dirty = true,
                        Err(_) => open = false,
                    }
                }
                () = tokio::time::sleep_until(next_update), if dirty => {
                    dirty = false;
                    let current = text.borrow_and_update().clone();
                    if !current.trim().is_empty() && current != self.shown {
                        self.show_or_log(&current).await;
                    }
                    next_update = Instant::now() + interval;
                }
            }
        }
    }
}
