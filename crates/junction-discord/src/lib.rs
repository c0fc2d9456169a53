//! `junction-discord`: a Discord bot that answers through Junction.
//!
//! A message that mentions the bot (or any direct message) becomes one call to Junction's
//! `/v1/responses` with the configured MCP servers as tools (`server_url: "litellm_proxy"`,
//! `require_approval: "never"`), so the gateway runs the whole tool loop and the bot only
//! relays the answer. Each conversation (per user or per channel) continues through
//! `previous_response_id`, remembered in SQLite so a restart keeps it.
//!
//! The pieces, each in its own module:
//! - [`config`]: settings from flags, the environment and an optional YAML file;
//! - [`mention`]: whether a message is for the bot, and its text without the mention;
//! - [`conversations`]: conversation → last response id, in SQLite;
//! - [`responses`] (+ [`sse`]): the client of Junction's Responses API, streamed or not;
//! - [`split`]: answers cut into Discord-sized messages, code blocks kept whole;
//! - [`reply`]: one answer on Discord (posting, throttled edits while streaming);
//! - [`typing`]: the typing indicator while an answer is being made;
//! - [`bot`]: the event loop tying them together.

pub mod bot;
pub mod config;
pub mod conversations;
pub mod mention;
pub mod reply;
pub mod responses;
pub mod split;
pub mod sse;
pub mod typing;
