//! OpenAPI specifications served as MCP servers: every operation of a REST API becomes an
//! MCP tool (LiteLLM's `spec_path` servers).
//!
//! [`OpenApiServer::load`] reads a spec (OpenAPI 3.0.x, 3.1.x or Swagger 2.0; JSON or YAML;
//! from a file or a URL; `$ref`s across files followed, cycles cut) and derives one tool per
//! operation. The server is a [`junction_mcp::LocalServer`]: the gateway connects its MCP
//! client to it in-process, so it is an upstream like any other.
//!
//! The flow of one call: `spec.rs` built the [`operation`] at load time; `request.rs`
//! turns it and the call's arguments into an HTTP request; `auth.rs` adds the session's
//! credentials; `server.rs` sends it; `response.rs` turns the answer into a tool result.

mod auth;
mod document;
mod error;
mod operation;
mod request;
mod response;
mod server;
mod spec;

pub use error::SpecError;
pub use server::{OpenApiOptions, OpenApiServer};
