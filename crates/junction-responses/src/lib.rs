//! The OpenAI Responses API (`/v1/responses`) over the gateway's models and MCP servers.
//!
//! A client sends one request naming MCP tools (`{"type":"mcp","server_url":"litellm_proxy",
//! "require_approval":"never"}`); the gateway lists the tools, calls the model, runs the
//! tools the model asks for, feeds the results back, and answers when the model is done —
//! streamed or not. State lives in the gateway's database, so `previous_response_id` works
//! on every provider, including those without a Responses API.
//!
//! * [`request`]: the request body, checked and normalized.
//! * `tools.rs` / `external.rs`: MCP entries → callable tools (the gateway's own servers,
//!   or, when allowed, servers named by URL behind an SSRF guard).
//! * `conversation.rs`: the conversation as Chat `messages` or Responses `input`.
//! * `model_round.rs`: one model call in either dialect, text relayed as it arrives.
//! * `events.rs`: output items and the event stream, built by one emitter.
//! * `engine.rs`: the loop, approvals, limits, storage.
//!
//! This crate knows nothing of HTTP servers or keys: the server authenticates, decides the
//! caller's [`Owner`] and MCP access, and renders [`ResponsesError`] and [`Reply`].

mod conversation;
mod engine;
mod error;
mod events;
mod external;
mod ids;
mod meter;
mod model_round;
pub mod request;
mod tools;

pub use engine::{Engine, EngineOptions, Invocation, ItemsPage, Owner, Reply};
pub use error::ResponsesError;
pub use external::ExternalPolicy;
pub use meter::{Meter, MeteredModelCall, MeteredToolCall};
pub use request::CreateRequest;
