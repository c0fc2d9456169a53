//! The LLM side of Junction: Chat Completions in, any supported provider out.
//!
//! A [`Router`] is built once from the config's `model_list`. For every request it picks a
//! deployment of the requested model (round-robin), hands the request to that deployment's
//! provider adapter, and fails over to the next deployment when the upstream cannot be reached
//! or answers 5xx. Adapters:
//!
//! * `providers::openai`: every OpenAI-compatible upstream. The body passes through with
//!   unknown fields kept, and streams are relayed chunk by chunk, never collected.
//! * `providers::anthropic` with [`anthropic`]: a full translation to and from Anthropic Messages, streaming included.
//! * `providers::mock`: LiteLLM's `mock_response`, answered without any upstream.
//!
//! [`Router::responses`] sends Responses API bodies (`/v1/responses`) natively to deployments
//! whose upstream has that API (`litellm_params.use_responses_api`, by default OpenAI itself;
//! [`Router::responses_native`]), with the same routing rules; the body and the answer pass
//! through as they are (`providers::responses`).
//!
//! This crate knows nothing of HTTP servers, keys or principals: the server decides who may
//! call which model and maps [`LlmError`] to the client's error format.

pub mod anthropic;
mod deployment;
mod error;
mod http_client;
mod providers;
mod reply;
mod request;
mod router;
pub mod sse;

pub use deployment::{Deployment, DeploymentError, ProviderKind};
pub use error::LlmError;
pub use reply::{
    ChatReply, ChatStream, Completion, ResponsesCompletion, ResponsesReply, Usage, UsageSlot,
};
pub use request::ChatRequest;
pub use router::{Router, UpstreamFailure};
