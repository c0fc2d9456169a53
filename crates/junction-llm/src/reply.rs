//! What a successful call gives back: a JSON body or a live SSE stream, plus accounting (chat)
//! or the raw upstream answer (native Responses API).

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use serde::Deserialize;

use crate::LlmError;

/// Server-Sent-Events bytes, ready to relay: the Chat Completions streaming format for chat, the
/// upstream's own Responses API events for [`ResponsesReply::Stream`].
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<Bytes, LlmError>> + Send>>;

/// Token counts as the upstream reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}

/// The body of a successful call.
pub enum ChatReply {
    /// A complete `chat.completion` object, serialized.
    Json { body: Bytes, usage: Option<Usage> },
    /// `chat.completion.chunk` events ending with `data: [DONE]`. `usage` fills in when the
    /// stream carried a usage chunk (always, when [`ChatRequest::meter_usage`] was set and the
    /// deployment has prices); read it once the stream is over.
    ///
    /// [`ChatRequest::meter_usage`]: crate::ChatRequest::meter_usage
    Stream {
        frames: ChatStream,
        usage: UsageSlot,
    },
}

/// Where a stream reports its usage once it has seen it.
#[derive(Clone, Default, Debug)]
pub struct UsageSlot(Arc<Mutex<Option<Usage>>>);

impl UsageSlot {
    pub(crate) fn filled(usage: Usage) -> Self {
        UsageSlot(Arc::new(Mutex::new(Some(usage))))
    }

    pub(crate) fn set(&self, usage: Usage) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(usage);
    }

    /// The usage the stream reported, if it got that far.
    pub fn get(&self) -> Option<Usage> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A reply and the deployment that produced it.
pub struct Completion {
    pub reply: ChatReply,
    pub deployment: Arc<crate::deployment::Deployment>,
}

impl Completion {
    /// `provider/model` of the deployment that answered.
    pub fn upstream(&self) -> String {
        self.deployment.upstream_label()
    }

    /// Cost of `usage` at the deployment's configured prices (0 when none are configured).
    pub fn cost(&self, usage: Usage) -> f64 {
        self.deployment.cost(usage)
    }
}

/// The body of a successful native Responses API call, as the upstream sent it.
pub enum ResponsesReply {
    /// The `response` object, serialized.
    Json { body: Bytes },
    /// The upstream's raw SSE bytes (`event: response.…` events), relayed chunk by chunk as
    /// they arrive, never collected.
    Stream { frames: ChatStream },
}

/// A Responses API reply and the deployment that produced it.
pub struct ResponsesCompletion {
    pub reply: ResponsesReply,
    pub deployment: Arc<crate::deployment::Deployment>,
}

/// Reads `usage` out of a `chat.completion` body without building the whole document.
pub(crate) fn usage_of(body: &[u8]) -> Option<Usage> {
    #[derive(Deserialize)]
    struct WithUsage {
        usage: Option<Usage>,
    }
    serde_json::from_slice::<WithUsage>(body).ok()?.usage
}
