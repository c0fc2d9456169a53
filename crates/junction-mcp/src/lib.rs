//! Junction's MCP client library: one persistent session per MCP server.
//!
//! Every MCP connection of Junction goes through this crate, and Rust users can use it on its
//! own (the counterpart of LiteLLM's `experimental_mcp_client`). Unlike LiteLLM, which opens a
//! new connection for every operation, an [`McpClient`] keeps one session and shares it
//! between concurrent calls, re-initialising it transparently when the server forgets it or
//! the connection drops.
//!
//! Built on the `rmcp` SDK: its protocol types are re-exported as [`model`].

mod auth;
mod client;
mod config;
mod error;
mod handler;
mod local;
pub mod openai;
mod remembered;
mod requests;
mod tls;
mod transport;

pub use auth::{Auth, OAuth2ClientCredentials};
pub use client::McpClient;
pub use config::{ClientConfig, DEFAULT_CALL_TIMEOUT, TlsConfig, TransportConfig};
pub use error::McpError;
pub use handler::{Notification, NotificationHandler, Progress};
pub use local::{LocalServer, LocalSession};
pub use requests::{ClientHooks, ServerRequestHandler};
pub use rmcp::model;
pub use tls::http_client;
