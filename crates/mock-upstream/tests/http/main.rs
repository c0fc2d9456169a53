//! End-to-end tests of the mock upstream over real HTTP: every route, the
//! behaviour grammar, every wire format, the fixed fast path and the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod anthropic;
mod binary;
mod common;
mod fixed;
mod openai;
mod responses;
mod tool_loops;
