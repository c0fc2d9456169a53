//! The typing indicator, kept up while an answer is being made.
//!
//! Discord shows "… is typing" for about ten seconds per trigger, so a task triggers it again
//! every eight seconds until the [`Typing`] guard is dropped. Failures only log: the
//! indicator is a courtesy, never a reason to stop answering.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use twilight_http::Client;
use twilight_model::id::Id;
use twilight_model::id::marker::ChannelMarker;

const REFRESH: Duration = Duration::from_secs(8);

/// Shows the indicator in a channel while it lives.
pub struct Typing {
    task: JoinHandle<()>,
}

impl Typing {
    pub fn start(http: Arc<Client>, channel: Id<ChannelMarker>) -> Typing {
        let task = tokio::spawn(keep_typing(http, channel));
        Typing { task }
    }
}

async fn keep_typing(http: Arc<Client>, channel: Id<ChannelMarker>) {
    loop {
        if let Err(error) = http.create_typing_trigger(channel).await {
            tracing::debug!(%channel, %error, "typing indicator failed");
        }
        tokio::time::sleep(REFRESH).await;
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        self.task.abort();
    }
}
