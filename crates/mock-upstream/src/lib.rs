//! Scripted mock LLM upstreams speaking the real provider wire formats.
//!
//! No model can run in Junction's test and benchmark environments, so this
//! crate provides an HTTP server that answers like an LLM provider would,
//! byte-compatible with the shapes a gateway has to parse and translate:
//!
//! | Route | Format |
//! |---|---|
//! | `POST /v1/chat/completions`, `POST /chat/completions` | OpenAI Chat Completions (JSON, or SSE with `"stream":true`) |
//! | `POST /v1/responses`, `POST /responses` | OpenAI Responses API (JSON, or SSE with `"stream":true`; see "Responses API") |
//! | `POST /v1/messages` | Anthropic Messages (JSON, or SSE with `"stream":true`) |
//! | `POST /v1/messages/count_tokens` | Anthropic token counting (`{"input_tokens":N}`) |
//! | `GET /v1/models` | OpenAI model list (one model, `mock-gpt`) |
//!
//! Any other path answers 404 in OpenAI's error shape (and is recorded).
//!
//! It is used in two ways:
//!
//! * in-process by integration tests, through [`MockUpstream::start`], which
//!   binds `127.0.0.1:0` and records every request so that a test can check
//!   exactly what the gateway sent upstream ([`MockUpstream::requests`]);
//! * as the standalone `mockllm` binary (see `src/main.rs`) for benchmarks,
//!   by default in the *fixed* fast path ([`MockOptions::fixed`]): the OpenAI
//!   chat routes then skip scripting, validation and recording and answer
//!   constant bytes (a ~1,100-byte `chat.completion`, or a 20-chunk SSE
//!   stream when the body holds `"stream": true`), with `model` `"mock"`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use junction_mock_upstream::MockUpstream;
//!
//! let mock = MockUpstream::start().await?;
//! // Point the gateway's OpenAI provider at `mock.openai_base()` and its
//! // Anthropic provider at `mock.url()`, send traffic, then inspect:
//! for request in mock.requests() {
//!     println!("{} {:?} {}", request.path, request.header("authorization"), request.body);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Authentication and validation
//!
//! With [`MockOptions::require_api_key`] set to `k`, the OpenAI routes (Chat
//! Completions, Responses, models) require
//! `Authorization: Bearer k`, and the Anthropic routes require `x-api-key: k`
//! plus an `anthropic-version` header; otherwise the answer is a 401 in the
//! provider's error shape (OpenAI code `invalid_api_key`, Anthropic type
//! `authentication_error`).
//!
//! Requests are validated the way the real providers do for the mistakes a
//! translating gateway is likely to make; failures are a 400 in the
//! provider's error shape:
//!
//! * both: body that is not a JSON object, missing `model`, missing or empty
//!   `messages`;
//! * OpenAI: a message role outside `system`/`developer`/`user`/`assistant`/
//!   `tool`/`function`, a `tool` message without `tool_call_id`;
//! * Anthropic: missing `max_tokens`, a message role other than
//!   `user`/`assistant` (a `system` role gets Anthropic's dedicated message),
//!   message keys other than `role` and `content`, a `system` that is neither
//!   a string nor a list of blocks;
//! * Responses: body not a JSON object, missing `model`, missing `input` or
//!   one that is neither a string nor an array, `instructions` not a string,
//!   an item that is not an object or has an unknown `type`, a message role
//!   outside `user`/`assistant`/`system`/`developer`, a content part type the
//!   API does not know (Chat Completions' `text` included), a `function_call`
//!   without string `call_id`/`name`/`arguments`, a `function_call_output`
//!   without `call_id` or `output`.
//!
//! # Behaviour grammar (the request's `model` field)
//!
//! The behaviour is chosen by the request's `model`, so that one mock serves
//! many tests. Only the part after the last `/` is looked at (`openai/slow-50`
//! behaves like `slow-50`), and text after the number that starts with `-` is
//! ignored (`error-500-primary` behaves like `error-500`), so that several
//! deployments can share a behaviour under different names.
//!
//! | Model | Behaviour |
//! |---|---|
//! | `error-<status>` with status in 400..=599 (`error-400`, `error-429`, `error-500`, `error-503`) | answers that status with the provider's error JSON; the message mentions the status |
//! | `slow-<ms>` | waits `<ms>` milliseconds before answering (headers included), then behaves normally |
//! | `drip-<ms>` | streaming: sends the first event at once, then waits `<ms>` between events; non-streaming: waits `<ms>` once, then answers |
//! | `always-tools` (also `always-tools-<anything>`) | step 2 below applies whenever a tool is to be called, whatever the conversation ends with (tool results included): the model keeps calling tools forever, for round-limit tests |
//! | anything else (`mock-gpt`, `gpt-4o`, `claude-…`, an unparsable directive) | normal behaviour below |
//!
//! Normal behaviour is deterministic:
//!
//! 1. If the last message is a tool result (OpenAI: one or more trailing
//!    `tool` messages; Anthropic: a last `user` message holding `tool_result`
//!    blocks; Responses: the input ends with a `function_call_output` item),
//!    the answer is the text `Tool result: <content text>` (several results
//!    joined with a space; Responses: every `function_call_output` after the
//!    last `message` item, so calls and outputs may interleave).
//! 2. Otherwise, if the request offers tools (Responses: `function` tools,
//!    `{type:"function",name,…}`; other tool types are ignored), `tool_choice`
//!    is not `none`, and the last message is a user message, the answer is ONE
//!    call to the first tool (or to the tool named by `tool_choice`:
//!    OpenAI `{type:"function",function:{name}}`, Anthropic
//!    `{type:"tool",name}`, Responses `{type:"function",name}`) with arguments
//!    `{"query":"<text of the last user message>"}`:
//!    OpenAI `finish_reason:"tool_calls"` with
//!    `tool_calls:[{id:"call_mock_<n>",type:"function",function:{name,arguments}}]`
//!    and `content:null`; Anthropic a `tool_use` block with id
//!    `toolu_mock_<n>` and `stop_reason:"tool_use"`; Responses a
//!    `{type:"function_call",id:"fc_mock_<n>",call_id:"call_mock_<n>",name,arguments,status:"completed"}`
//!    output item.
//! 3. Otherwise the answer is the text
//!    `Hello from <model>! You said: <text of the last user message>`,
//!    followed by ` [system: <system text>]` when a system prompt is present
//!    (OpenAI `system`/`developer` messages, Anthropic top-level `system`,
//!    Responses `instructions` then `system`/`developer` input messages).
//!
//! "Text" of a message is its string content, or its text parts/blocks joined
//! with a single space (Responses: `input_text` and `output_text` parts; a
//! string `input` is one user message). The "last user message" skips
//! Anthropic user messages that carry `tool_result` blocks, so the formats
//! agree on it.
//!
//! Usage is counted in whitespace-separated words: prompt tokens are the
//! words of every message's text (system prompt and tool results included,
//! tool-call arguments excluded), completion tokens the words of the answer
//! text (for tool calls: of their arguments JSON strings). Anthropic's
//! `message_start` event reports `output_tokens: 1`, like the real API; the
//! final count is in `message_delta`.
//!
//! # Scripted tool calls
//!
//! [`MockOptions::tool_calls`] lists [`ScriptedToolCall`]s (a tool name and
//! its JSON arguments) for tests whose tools need real arguments, such as an
//! MCP tool executed afterwards. When step 2 above calls a tool and
//! `tool_choice` does not name one, the first scripted call whose tool the
//! request offers picks the tool instead of the first offered; whichever tool
//! is called, its scripted `arguments` (if any) replace
//! `{"query":"<text>"}`. All wire formats; usage counts the arguments'
//! words as usual.
//!
//! # Several tool calls in one turn
//!
//! With [`MockOptions::parallel_tool_calls`], when step 2 calls a tool and
//! `tool_choice` does not name one, the answer calls EVERY offered tool that
//! has a scripted call, in script order, each with its scripted arguments (a
//! tool scripted twice is called twice). When no offered tool is scripted,
//! the answer is the single default call. Chat Completions answers several
//! `tool_calls` (streamed one after the other, each under its own `index`),
//! Anthropic several `tool_use` blocks (content block `index` 0, 1, …),
//! Responses several `function_call` output items (`output_index` 0, 1, …).
//!
//! # Ids
//!
//! `<n>` in ids (`chatcmpl-mock-<n>`, `msg_mock_<n>`, `resp_mock_<n>`,
//! `call_mock_<n>`, `fc_mock_<n>`, `toolu_mock_<n>`) is the 1-based sequence
//! number of the request on this mock. A lone tool call has the id shown;
//! when one answer makes several calls, call `<k>` (1-based, in order) gets
//! `call_mock_<n>_<k>`, `fc_mock_<n>_<k>` or `toolu_mock_<n>_<k>`.
//!
//! # Streaming
//!
//! Every SSE event is written as its own body frame, so `drip-<ms>` delays are
//! observable by clients. OpenAI streams start with
//! `delta:{role:"assistant",content:""}`, then one chunk per word (the word
//! with its following space), a final chunk with an empty delta and the
//! `finish_reason`, then `data: [DONE]`. Tool calls stream as a first fragment
//! carrying `id`/`type`/`name` and `arguments:""`, then the arguments in three
//! pieces. With `stream_options.include_usage:true` every chunk carries
//! `"usage":null` and one extra chunk with `choices:[]` and the usage precedes
//! `[DONE]`. Anthropic streams send `message_start`, one `ping`,
//! `content_block_start`, `content_block_delta` events (`text_delta` per word
//! or `input_json_delta` in three pieces), `content_block_stop`,
//! `message_delta` (stop reason and usage) and `message_stop`; with several
//! tool calls, each `tool_use` block has its own start, deltas and stop.
//!
//! # Responses API
//!
//! The response object has `id:"resp_mock_<n>"`, `object:"response"`,
//! `created_at`, `status:"completed"`, `error:null`,
//! `incomplete_details:null`, `model`, `output`, `usage`
//! (`{input_tokens, input_tokens_details:{cached_tokens:0}, output_tokens,
//! output_tokens_details:{reasoning_tokens:0}, total_tokens}`, counted in
//! words as above), and echoes the request's `instructions`,
//! `max_output_tokens`, `parallel_tool_calls`, `previous_response_id`,
//! `temperature`, `text`, `tool_choice`, `tools`, `top_p`, `truncation` and
//! `metadata` (the API's defaults when absent). A text answer is one message
//! item
//! `{type:"message",id:"msg_mock_<n>",role:"assistant",status:"completed",content:[{type:"output_text",text,annotations:[]}]}`;
//! tool calls are `function_call` items (step 2).
//!
//! Streams are named events `event: <type>\ndata: <json>\n\n`, each data
//! carrying its `type` and a `sequence_number` counting from 0:
//! `response.created` and `response.in_progress` (the response with
//! `status:"in_progress"`, empty `output`, `usage:null`), then per output
//! item `response.output_item.added` (the item `in_progress`; a message with
//! empty `content`, a call with `arguments:""`), for a message
//! `response.content_part.added`, one `response.output_text.delta` per word
//! (as in chat), `response.output_text.done`, `response.content_part.done`,
//! for a call `response.function_call_arguments.delta` in three pieces and
//! `response.function_call_arguments.done` (with `name` and `arguments`),
//! then `response.output_item.done` (the finished item), and finally
//! `response.completed` with the full response. There is no `[DONE]`.

mod anthropic;
mod fixed;
mod openai;
mod reply;
mod responses;
mod script;
mod scripted;
mod sse;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use scripted::ScriptedToolCall;
pub use state::RecordedRequest;
use state::Shared;

/// Largest request body accepted on any route.
pub(crate) const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// How a mock upstream behaves.
#[derive(Clone, Debug, Default)]
pub struct MockOptions {
    /// Address to bind in [`MockUpstream::start_with`]; `None` means
    /// `127.0.0.1:0` (an ephemeral port). Ignored by [`serve`].
    pub addr: Option<SocketAddr>,
    /// When set, requests must carry this key (see the crate docs).
    pub require_api_key: Option<String>,
    /// Record every request for [`MockUpstream::requests`]. Off by default
    /// (benchmarks); [`MockUpstream::start`] turns it on.
    pub record: bool,
    /// Extra delay before every answer, on every route.
    pub latency: Duration,
    /// Benchmark fast path: the OpenAI chat routes skip scripting, validation
    /// and recording and answer precomputed bytes (see the `fixed` module).
    pub fixed: bool,
    /// Scripted tool calls, for tests whose tools need real arguments (see
    /// "Scripted tool calls" in the crate docs). Empty by default.
    pub tool_calls: Vec<ScriptedToolCall>,
    /// Call every offered tool that has a scripted call in one turn, instead
    /// of one tool (see "Several tool calls in one turn" in the crate docs).
    /// Off by default.
    pub parallel_tool_calls: bool,
}

/// A mock upstream running in the background of the current tokio runtime.
///
/// The server task is aborted when this value is dropped; connections still
/// open then are shut down gracefully.
#[derive(Debug)]
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<std::io::Result<()>>,
}

impl MockUpstream {
    /// Starts a scripted mock on `127.0.0.1:0` that records requests.
    pub async fn start() -> std::io::Result<MockUpstream> {
        Self::start_with(MockOptions {
            record: true,
            ..MockOptions::default()
        })
        .await
    }

    /// Starts a mock with the given options.
    pub async fn start_with(opts: MockOptions) -> std::io::Result<MockUpstream> {
        let bind = opts
            .addr
            .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(opts));
        let server = tokio::spawn(run(listener, Arc::clone(&shared)));
        Ok(MockUpstream {
            addr,
            shared,
            server,
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, `http://127.0.0.1:PORT` (no trailing slash); the Anthropic
    /// base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// OpenAI base URL, [`url`](Self::url) + `/v1`.
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// Requests received so far, oldest first (empty unless recording).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Number of requests received on the scripted routes (recorded or not;
    /// the fixed fast path is not counted).
    pub fn request_count(&self) -> usize {
        self.shared.count()
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves a mock on an already bound listener; runs until the future is
/// dropped (failed accepts are retried). Used by the `mockllm` binary.
pub async fn serve(listener: TcpListener, opts: MockOptions) -> std::io::Result<()> {
    run(listener, Arc::new(Shared::new(opts))).await
}

async fn run(listener: TcpListener, shared: Arc<Shared>) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        // Best effort: a socket that refuses TCP_NODELAY is still usable.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(shared)).await
}

/// All routes of the mock.
fn router(shared: Arc<Shared>) -> Router {
    const CHAT_PATHS: [&str; 2] = ["/v1/chat/completions", "/chat/completions"];
    let chat = if shared.opts.fixed {
        let cfg = fixed::FixedConfig::new(&shared.opts);
        CHAT_PATHS
            .iter()
            .fold(Router::new(), |r, path| {
                r.route(path, post(fixed::chat_completions))
            })
            .with_state(cfg)
    } else {
        CHAT_PATHS
            .iter()
            .fold(Router::new(), |r, path| {
                r.route(path, post(openai::chat_completions))
            })
            .with_state(Arc::clone(&shared))
    };
    Router::new()
        .route("/v1/models", get(openai::models))
        .route("/v1/responses", post(responses::responses))
        .route("/responses", post(responses::responses))
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
        .fallback(openai::not_found)
        .with_state(shared)
        .merge(chat)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}
