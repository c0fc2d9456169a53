//! Translation between the OpenAI Chat Completions wire format and
//! Anthropic's Messages API.
//!
//! Junction speaks the OpenAI dialect to its clients (as LiteLLM's proxy
//! does) but routes some deployments to Anthropic, whose API differs in
//! shape: the system prompt is a top-level field, roles must alternate, tool
//! calls and results are content blocks, and streaming uses typed events
//! instead of uniform chunks. Keeping the translation pure (JSON in, JSON out,
//! no I/O) lets the provider adapter own HTTP concerns while these rules are
//! tested exhaustively on their own.
//!
//! - [`chat_to_messages`] turns a client's chat request into a Messages request.
//! - [`message_to_chat`] turns a Messages response into a `chat.completion`.
//! - [`StreamTranslator`] turns Messages stream events into
//!   `chat.completion.chunk` objects.
//! - [`error_message`] extracts the type and message of an Anthropic error body
//!   so the gateway can re-wrap it in OpenAI's error shape.

mod request;
mod response;
mod stream;

pub use request::chat_to_messages;
pub use response::{error_message, message_to_chat};
pub use stream::StreamTranslator;

/// Why a translation could not be made.
///
/// The two variants map to different HTTP statuses at the gateway: a bad
/// client request is the caller's fault (400), a malformed upstream answer is
/// the provider's (502).
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// The client's request cannot be expressed as a Messages request.
    #[error("{0}")]
    InvalidRequest(String),
    /// Anthropic answered with something that is not a valid message or event.
    #[error("upstream sent an invalid Anthropic message: {0}")]
    InvalidUpstream(String),
}
