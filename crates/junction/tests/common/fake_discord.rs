//! A fake Discord on loopback, for end-to-end tests of the `junction-discord` bot.
//!
//! It runs two servers on ephemeral `127.0.0.1` ports:
//!
//! * **REST** (axum): the subset of Discord's HTTP API v10 the bot uses — create, edit and
//!   "typing" in channels, bulk-overwrite of application commands, interaction callbacks and
//!   interaction webhooks (`@original` edits, follow-ups), plus `users/@me`, `applications/@me`
//!   and `gateway/bot`. Every request is recorded ([`RestRequest`]). Anything else is a
//!   Discord-style `404`. Responses are shaped so that `twilight-model` 0.18 deserializes them
//!   (`Message`, `Command`, `CurrentUser`, ...).
//! * **Gateway** (tokio-websockets server): JSON text frames, no compression. HELLO on connect,
//!   IDENTIFY → READY, RESUME → replay of missed dispatches + RESUMED, heartbeat → ACK. Tests push
//!   `MESSAGE_CREATE` / `INTERACTION_CREATE` dispatches to the connected client(s), and can
//!   drop connections to exercise reconnection.
//!
//! # Wiring twilight 0.18 to it (checked against twilight-http / twilight-gateway 0.18.0)
//!
//! ```ignore
//! // rustls needs a process-wide crypto provider: twilight builds a rustls config even
//! // when it then talks plain http/ws.
//! let _ = rustls::crypto::ring::default_provider().install_default();
//! let http = twilight_http::Client::builder()
//!     .token(BOT_TOKEN.to_owned())          // "Bot " is prepended by twilight when missing
//!     .proxy(fake.api_proxy(), true)        // "127.0.0.1:PORT"; true = plain http
//!     .build();                             // default rate limiter is fine (no headers sent)
//! let config = twilight_gateway::ConfigBuilder::new(BOT_TOKEN.to_owned(), intents)
//!     .proxy_url(fake.gateway_url())        // "ws://127.0.0.1:PORT", no trailing slash
//!     .build();
//! let shard = twilight_gateway::Shard::with_config(twilight_gateway::ShardId::ONE, config);
//! ```
//!
//! twilight-http builds `http://{proxy}/api/v10/{route}`; twilight-gateway connects to
//! `{proxy_url}/?v=10&encoding=json` (plus `&compress=zstd-stream` when its default `zstd`
//! feature is on — the fake ignores that and sends text frames, which twilight accepts anyway),
//! and resumes to READY's `resume_gateway_url`, which is the fake's own gateway URL.
//!
//! Wire details worth knowing:
//! * twilight sends the gateway token as `"Bot <token>"` in IDENTIFY / RESUME; the fake accepts
//!   the token with or without that prefix.
//! * Interaction callbacks and interaction webhooks (`/interactions/...`, `/webhooks/...`) are
//!   sent by twilight **without** an `Authorization` header (as Discord expects); the fake only
//!   checks `Authorization: Bot <BOT_TOKEN>` on the other routes.
//! * After any `401`, twilight-http (by default) refuses every later request locally, with
//!   `ErrorType::Unauthorized`, without reaching the fake.
//! * twilight locates `op` / `s` / `t` in gateway frames by scanning the raw text for the first
//!   `"op":`, `"s":`, `"t":`; the fake therefore writes them before `d` in every frame.
//! * Timestamps must be `+00:00`-suffixed RFC 3339 (twilight rejects the short `...Z` form).
//! * twilight-gateway waits 5 s between two IDENTIFYs of the same shard; a reconnect after
//!   [`FakeDiscord::drop_gateway_connections`] is a RESUME (immediate), not an IDENTIFY.
//! * A `Shard` only reconnects while it is polled: [`FakeDiscord::send_user_message`] and
//!   [`FakeDiscord::send_slash_command`] wait (30 s) for a live connection, so the bot must keep
//!   polling its shard (it does, in its event loop).
//! * `AllowedMentions { replied_user: false, .. }` is serialized without `replied_user`
//!   (`AllowedMentions::default()` is `{"parse":[]}` on the wire).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::State as AxumState,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
// `SinkExt` needs futures-util's "sink" feature: the junction test build gets it through sqlx.
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::{JoinHandle, JoinSet},
};
use tokio_websockets::{CloseCode, Message as WsMessage, ServerBuilder};

/// The bot token the fake accepts (REST `Authorization: Bot <BOT_TOKEN>`, gateway IDENTIFY).
pub const BOT_TOKEN: &str = "fake-discord-bot-token";
/// User id of the bot user (READY's `user.id`, author of every message the bot posts).
pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_001;
/// Application id (READY's `application.id`; the only id accepted in `/applications/{id}/...`).
pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_002;
/// Username of the bot user.
pub const BOT_USERNAME: &str = "junction-bot";
/// Heartbeat interval announced in HELLO, in milliseconds.
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// Discord epoch (2015-01-01T00:00:00Z) in Unix milliseconds, for generated snowflakes.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
/// Deadline of the built-in waits (`wait_ready`, waiting for a live connection to dispatch to).
const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// Poll period of the built-in waits.
const POLL: Duration = Duration::from_millis(20);
/// Permissions reported for members and `app_permissions`: VIEW_CHANNEL | SEND_MESSAGES |
/// READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS.
const PERMISSIONS: &str = "2147552256";

/// A fake Discord (REST + gateway) on loopback. Its servers stop when it is dropped.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    api_addr: SocketAddr,
    gateway_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// A message a (fake) user writes; [`FakeDiscord::send_user_message`] dispatches it as
/// `MESSAGE_CREATE`.
#[derive(Clone, Debug)]
pub struct UserMessage {
    /// Channel the message is in.
    pub channel_id: u64,
    /// Guild of the channel; `None` for a DM.
    pub guild_id: Option<u64>,
    /// Author's user id.
    pub author_id: u64,
    /// Whether the author is a bot.
    pub author_bot: bool,
    /// Message text.
    pub content: String,
    /// Ids of mentioned users (sent as full user objects; [`BOT_USER_ID`] is the bot user).
    pub mentions: Vec<u64>,
}

/// One HTTP request the fake REST API received.
#[derive(Clone, Debug)]
pub struct RestRequest {
    /// HTTP method, e.g. `"POST"`.
    pub method: String,
    /// Path, e.g. `"/api/v10/channels/1/messages"`.
    pub path: String,
    /// Raw query string without `?`, if any.
    pub query: Option<String>,
    /// `Authorization` header, if any.
    pub authorization: Option<String>,
    /// JSON body; `Null` when empty; a JSON string holding the raw text when not JSON
    /// (e.g. a multipart upload).
    pub body: serde_json::Value,
    /// When the request was received.
    pub at: std::time::Instant,
    /// Status code the fake answered with.
    pub status: u16,
}

/// A message the bot posted (REST create message, or an interaction response / follow-up).
#[derive(Clone, Debug)]
pub struct BotMessage {
    /// Message id the fake assigned.
    pub id: u64,
    /// Channel it was posted in.
    pub channel_id: u64,
    /// Latest content (after edits).
    pub content: String,
    /// Every edit, in order: when, and the content after the edit.
    pub edits: Vec<(std::time::Instant, String)>,
    /// When it was posted.
    pub posted_at: Instant,
    /// `message_reference.message_id` of the create request, if it was a reply.
    pub reply_to: Option<u64>,
    /// `allowed_mentions` of the create request (`Null` when absent; replaced when an edit
    /// carries one).
    pub allowed_mentions: serde_json::Value,
}

/// State shared by the servers and the test.
struct Shared {
    state: Mutex<State>,
    gateway_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct State {
    requests: Vec<RestRequest>,
    /// `d` of every accepted IDENTIFY.
    identifies: Vec<Value>,
    /// Number of accepted RESUMEs.
    resumes: usize,
    /// URIs (path + query) gateway clients connected with.
    connect_uris: Vec<String>,
    /// Open gateway connections by id.
    conns: HashMap<u64, Conn>,
    next_conn_id: u64,
    /// Gateway sessions by session id.
    sessions: HashMap<String, Session>,
    next_session: u64,
    last_snowflake: u64,
    /// Every message the bot posted in channels, in posting order.
    bot_messages: Vec<BotMessage>,
    typing: HashMap<u64, usize>,
    /// Commands as returned by the last PUT.
    commands: Vec<Value>,
    interactions: HashMap<u64, InteractionRecord>,
    interaction_callbacks: Vec<(u64, Value)>,
    /// Guild of each guild channel seen in a dispatch.
    channel_guilds: HashMap<u64, u64>,
}

struct Conn {
    tx: mpsc::UnboundedSender<Out>,
    session_id: Option<String>,
    /// READY or RESUMED was queued, and the connection is not being closed.
    live: bool,
}

struct Session {
    seq: u64,
    /// Every dispatch of the session, for replay on RESUME.
    events: Vec<(u64, String)>,
}

struct InteractionRecord {
    token: String,
    channel_id: u64,
    guild_id: Option<u64>,
    acked: bool,
    original: Option<BotMessage>,
    followups: Vec<BotMessage>,
}

/// What the test side asks a gateway connection task to do.
enum Out {
    Text(String),
    Close(u16, &'static str),
    Abort,
}

impl FakeDiscord {
    /// Starts both servers on ephemeral loopback ports.
    pub async fn start() -> FakeDiscord {
        let api_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Discord: bind REST listener");
        let gateway_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Discord: bind gateway listener");
        let api_addr = api_listener.local_addr().expect("fake Discord: REST addr");
        let gateway_addr = gateway_listener
            .local_addr()
            .expect("fake Discord: gateway addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            gateway_url: format!("ws://{gateway_addr}"),
        });

        let router = Router::new()
            .fallback(rest_handler)
            .with_state(Arc::clone(&shared));
        let rest_task = tokio::spawn(async move {
            // Aborting this task drops the server, which gracefully closes its connections.
            let _ = axum::serve(api_listener, router).await;
        });

        let gw_shared = Arc::clone(&shared);
        let gateway_task = tokio::spawn(async move {
            // Connection tasks live in this JoinSet: aborting the accept loop aborts them too.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = gateway_listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            connections.spawn(gateway_connection(Arc::clone(&gw_shared), stream));
                        }
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });

        FakeDiscord {
            shared,
            api_addr,
            gateway_addr,
            tasks: vec![rest_task, gateway_task],
        }
    }

    /// What to pass to `twilight_http::Client::builder().proxy(…, true)`: `"127.0.0.1:PORT"`
    /// (twilight then requests `http://127.0.0.1:PORT/api/v10/...`).
    pub fn api_proxy(&self) -> String {
        self.api_addr.to_string()
    }

    /// What to pass to `twilight_gateway::ConfigBuilder::proxy_url`: `"ws://127.0.0.1:PORT"`.
    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url.clone()
    }

    /// Waits (polling, 30 s deadline, then panics with the REST log) until a gateway client is
    /// connected and has been sent READY (or RESUMED). Returns how many IDENTIFYs were accepted
    /// so far.
    pub async fn wait_ready(&self) -> usize {
        self.wait_for(
            "a gateway client to identify and get READY",
            DEFAULT_WAIT,
            |f| {
                let state = f.shared.lock();
                state
                    .conns
                    .values()
                    .any(|c| c.live)
                    .then_some(state.identifies.len())
            },
        )
        .await
    }

    /// Number of IDENTIFYs accepted (valid token) so far.
    pub fn identify_count(&self) -> usize {
        self.shared.lock().identifies.len()
    }

    /// `d` of the last accepted IDENTIFY (token, intents, properties, shard, ...).
    pub fn identify_payload(&self) -> Option<serde_json::Value> {
        self.shared.lock().identifies.last().cloned()
    }

    /// Number of RESUMEs accepted so far.
    pub fn resume_count(&self) -> usize {
        self.shared.lock().resumes
    }

    /// Number of open gateway connections that got READY or RESUMED.
    pub fn live_connection_count(&self) -> usize {
        self.shared.lock().conns.values().filter(|c| c.live).count()
    }

    /// Path and query of every gateway WebSocket handshake, e.g. `"/?v=10&encoding=json"`.
    pub fn gateway_connect_uris(&self) -> Vec<String> {
        self.shared.lock().connect_uris.clone()
    }

    /// Dispatches MESSAGE_CREATE (guild message when `guild_id` is Some — with `guild_id` and a
    /// `member` object as Discord does; DM otherwise); `mentions` are full user objects of those
    /// ids. Waits (30 s) for a live gateway connection first. Returns the new message id.
    pub async fn send_user_message(&self, m: UserMessage) -> u64 {
        self.wait_live("a live gateway connection to send MESSAGE_CREATE to")
            .await;
        let mut state = self.shared.lock();
        let id = state.next_snowflake();
        if let Some(guild_id) = m.guild_id {
            state.channel_guilds.insert(m.channel_id, guild_id);
        }
        let mut d = json!({
            "id": id.to_string(),
            "channel_id": m.channel_id.to_string(),
            "author": user_json(m.author_id, m.author_bot),
            "content": m.content,
            "timestamp": TIMESTAMP,
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": m.mentions.iter().map(|&u| user_json(u, u == BOT_USER_ID)).collect::<Vec<_>>(),
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
            "nonce": id.to_string(),
            // MESSAGE_CREATE carries the channel type: 1 (DM) or 0 (guild text).
            "channel_type": if m.guild_id.is_some() { 0 } else { 1 },
        });
        if let Some(guild_id) = m.guild_id {
            d["guild_id"] = json!(guild_id.to_string());
            d["member"] = member_json(None);
        }
        state.dispatch("MESSAGE_CREATE", &d);
        id
    }

    /// Dispatches INTERACTION_CREATE for a chat-input command `name` (no options) from `user_id`
    /// in `channel_id` (guild when Some, with `member.user`; DM: `user`). The command id is the
    /// registered one when `name` was registered. Waits (30 s) for a live gateway connection
    /// first. Returns the interaction id (its token is `fake-interaction-token-<id>`).
    pub async fn send_slash_command(
        &self,
        name: &str,
        channel_id: u64,
        guild_id: Option<u64>,
        user_id: u64,
    ) -> u64 {
        self.wait_live("a live gateway connection to send INTERACTION_CREATE to")
            .await;
        let mut state = self.shared.lock();
        let id = state.next_snowflake();
        let token = format!("fake-interaction-token-{id}");
        let command_id = state
            .commands
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_str())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_else(|| state.next_snowflake());
        let mut data = json!({ "id": command_id.to_string(), "name": name, "type": 1 });
        let mut d = json!({
            "id": id.to_string(),
            "application_id": APPLICATION_ID.to_string(),
            "type": 2,
            "token": token,
            "version": 1,
            "channel_id": channel_id.to_string(),
            "locale": "en-US",
            "app_permissions": PERMISSIONS,
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
        });
        match guild_id {
            Some(guild_id) => {
                state.channel_guilds.insert(channel_id, guild_id);
                data["guild_id"] = json!(guild_id.to_string());
                d["guild_id"] = json!(guild_id.to_string());
                d["guild_locale"] = json!("en-US");
                d["guild"] =
                    json!({ "id": guild_id.to_string(), "locale": "en-US", "features": [] });
                d["member"] = member_json(Some(user_json(user_id, false)));
                d["channel"] = json!({
                    "id": channel_id.to_string(),
                    "type": 0,
                    "guild_id": guild_id.to_string(),
                    "name": "general",
                    "position": 0,
                    "nsfw": false,
                    "topic": null,
                    "last_message_id": null,
                    "rate_limit_per_user": 0,
                    "parent_id": null,
                    "flags": 0,
                    "permissions": PERMISSIONS,
                });
                d["authorizing_integration_owners"] = json!({ "0": guild_id.to_string() });
                d["context"] = json!(0);
            }
            None => {
                d["user"] = user_json(user_id, false);
                d["channel"] = json!({
                    "id": channel_id.to_string(),
                    "type": 1,
                    "last_message_id": null,
                    "flags": 0,
                    "recipients": [user_json(user_id, false)],
                });
                // A guild-installed app used in its bot's DM: the guild owner is anonymised.
                d["authorizing_integration_owners"] = json!({ "0": "0" });
                d["context"] = json!(1);
            }
        }
        d["data"] = data;
        state.interactions.insert(
            id,
            InteractionRecord {
                token,
                channel_id,
                guild_id,
                acked: false,
                original: None,
                followups: Vec::new(),
            },
        );
        state.dispatch("INTERACTION_CREATE", &d);
        id
    }

    /// Closes the gateway connection(s) with a close frame (code 4000, "Unknown error", which
    /// Discord clients treat as resumable) so the client reconnects; waits (30 s) until those
    /// connections have ended. Dispatches sent afterwards wait for the next live connection.
    pub async fn drop_gateway_connections(&self) {
        self.end_connections(|| Out::Close(4000, "fake Discord: connection dropped by test"))
            .await;
    }

    /// Like [`Self::drop_gateway_connections`] but without a close frame: the TCP connection is
    /// just dropped (an abnormal closure, as after a network failure).
    pub async fn abort_gateway_connections(&self) {
        self.end_connections(|| Out::Abort).await;
    }

    /// Every REST request received so far, in order.
    pub fn requests(&self) -> Vec<RestRequest> {
        self.shared.lock().requests.clone()
    }

    /// Messages the bot posted in `channel_id` through `POST /channels/{id}/messages`, in posting
    /// order (interaction responses are in [`Self::interaction_original`] /
    /// [`Self::interaction_followups`]).
    pub fn bot_messages(&self, channel_id: u64) -> Vec<BotMessage> {
        self.shared
            .lock()
            .bot_messages
            .iter()
            .filter(|m| m.channel_id == channel_id)
            .cloned()
            .collect()
    }

    /// How many `POST /channels/{channel_id}/typing` were received.
    pub fn typing_count(&self, channel_id: u64) -> usize {
        self.shared
            .lock()
            .typing
            .get(&channel_id)
            .copied()
            .unwrap_or(0)
    }

    /// Command names from the last `PUT /applications/{id}/commands` (or guild commands PUT).
    pub fn registered_commands(&self) -> Vec<String> {
        self.shared
            .lock()
            .commands
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// Accepted interaction callbacks: (interaction id, JSON body), in order. A second callback
    /// for the same interaction is refused (`400`, code 40060) and not listed here.
    pub fn interaction_callbacks(&self) -> Vec<(u64, serde_json::Value)> {
        self.shared.lock().interaction_callbacks.clone()
    }

    /// The interaction's original response message: created by a type 4 (content) or type 5
    /// (deferred, empty content) callback, edited by `PATCH /webhooks/{app}/{token}/messages/@original`.
    pub fn interaction_original(&self, interaction_id: u64) -> Option<BotMessage> {
        self.shared
            .lock()
            .interactions
            .get(&interaction_id)
            .and_then(|i| i.original.clone())
    }

    /// Follow-up messages of an interaction (`POST /webhooks/{app}/{token}`), in order.
    pub fn interaction_followups(&self, interaction_id: u64) -> Vec<BotMessage> {
        self.shared
            .lock()
            .interactions
            .get(&interaction_id)
            .map(|i| i.followups.clone())
            .unwrap_or_default()
    }

    /// Polls `check` every 20 ms until it returns Some, or panics after `timeout` with `what`
    /// and a dump of the REST log.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: std::time::Duration,
        check: impl Fn(&FakeDiscord) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = check(self) {
                return value;
            }
            if Instant::now() >= deadline {
                panic!(
                    "fake Discord: timed out after {timeout:?} waiting for {what}\n{}",
                    self.dump()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A human-readable dump of the gateway state and REST log, for panic messages.
    pub fn dump(&self) -> String {
        let state = self.shared.lock();
        let mut out = format!(
            "gateway: {} connection(s) ({} live), {} identify(s), {} resume(s), handshakes {:?}\nREST log ({} requests):\n",
            state.conns.len(),
            state.conns.values().filter(|c| c.live).count(),
            state.identifies.len(),
            state.resumes,
            state.connect_uris,
            state.requests.len(),
        );
        for r in &state.requests {
            let mut body = r.body.to_string();
            if body.len() > 400 {
                let mut end = 400;
                while !body.is_char_boundary(end) {
                    end -= 1;
                }
                body.truncate(end);
                body.push('…');
            }
            out.push_str(&format!(
                "  {} {}{} -> {} (auth: {}) {}\n",
                r.method,
                r.path,
                r.query
                    .as_ref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default(),
                r.status,
                r.authorization.as_deref().unwrap_or("none"),
                body,
            ));
        }
        out
    }

    async fn wait_live(&self, what: &str) {
        self.wait_for(what, DEFAULT_WAIT, |f| {
            f.shared.lock().conns.values().any(|c| c.live).then_some(())
        })
        .await;
    }

    async fn end_connections(&self, out: impl Fn() -> Out) {
        let ids: Vec<u64> = {
            let mut state = self.shared.lock();
            state
                .conns
                .iter_mut()
                .map(|(id, conn)| {
                    conn.live = false;
                    let _ = conn.tx.send(out());
                    *id
                })
                .collect()
        };
        self.wait_for("dropped gateway connections to end", DEFAULT_WAIT, |f| {
            let state = f.shared.lock();
            (!ids.iter().any(|id| state.conns.contains_key(id))).then_some(())
        })
        .await;
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl State {
    /// A new snowflake: current time since the Discord epoch, strictly increasing.
    fn next_snowflake(&mut self) -> u64 {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let id = (now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22).max(self.last_snowflake + 1);
        self.last_snowflake = id;
        id
    }

    /// Sends a dispatch to every live connection, each with its session's next sequence number.
    fn dispatch(&mut self, event: &str, d: &Value) {
        let State {
            conns, sessions, ..
        } = self;
        for conn in conns.values().filter(|c| c.live) {
            let Some(session) = conn.session_id.as_ref().and_then(|s| sessions.get_mut(s)) else {
                continue;
            };
            session.seq += 1;
            let frame = frame(0, Some(session.seq), Some(event), d);
            session.events.push((session.seq, frame.clone()));
            let _ = conn.tx.send(Out::Text(frame));
        }
    }

    fn find_bot_message(&mut self, id: u64) -> Option<&mut BotMessage> {
        self.bot_messages.iter_mut().find(|m| m.id == id)
    }

    fn find_interaction_by_token(&mut self, token: &str) -> Option<(u64, &mut InteractionRecord)> {
        self.interactions
            .iter_mut()
            .find(|(_, i)| i.token == token)
            .map(|(id, i)| (*id, i))
    }
}

// ---------------------------------------------------------------------------------------------
// JSON shapes
// ---------------------------------------------------------------------------------------------

/// A gateway frame, with `op`, `s` and `t` written before `d` (twilight scans the raw text).
fn frame(op: u8, s: Option<u64>, t: Option<&str>, d: &Value) -> String {
    let s = s.map_or_else(|| "null".to_owned(), |s| s.to_string());
    let t = t.map_or_else(|| "null".to_owned(), |t| Value::from(t).to_string());
    format!(r#"{{"op":{op},"s":{s},"t":{t},"d":{d}}}"#)
}

/// A `User` (also valid as a message `Mention`, which requires `public_flags`).
fn user_json(id: u64, bot: bool) -> Value {
    if id == BOT_USER_ID {
        return bot_user_json();
    }
    json!({
        "id": id.to_string(),
        "username": format!("user-{id}"),
        "global_name": format!("User {id}"),
        "discriminator": "0",
        "avatar": null,
        "avatar_decoration_data": null,
        "banner": null,
        "accent_color": null,
        "bot": bot,
        "public_flags": 0,
    })
}

/// The bot user, as a `User` (and, with `mfa_enabled`/`verified`, as a `CurrentUser`).
fn bot_user_json() -> Value {
    json!({
        "id": BOT_USER_ID.to_string(),
        "username": BOT_USERNAME,
        "global_name": null,
        "discriminator": "0000",
        "avatar": null,
        "avatar_decoration_data": null,
        "banner": null,
        "accent_color": null,
        "bot": true,
        "public_flags": 0,
        "flags": 0,
        "mfa_enabled": false,
        "verified": true,
    })
}

/// A guild member (`PartialMember`), with `user` for interactions, without for messages.
fn member_json(user: Option<Value>) -> Value {
    let mut member = json!({
        "roles": [],
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "nick": null,
        "avatar": null,
        "banner": null,
        "premium_since": null,
        "communication_disabled_until": null,
        "deaf": false,
        "mute": false,
        "pending": false,
        "flags": 0,
    });
    if let Some(user) = user {
        member["user"] = user;
        member["permissions"] = json!(PERMISSIONS);
    }
    member
}

/// A `Message` posted by the bot.
fn bot_message_json(
    message: &BotMessage,
    guild_id: Option<u64>,
    kind: u8,
    webhook: bool,
    edited: bool,
) -> Value {
    let now = TIMESTAMP;
    let mut m = json!({
        "id": message.id.to_string(),
        "channel_id": message.channel_id.to_string(),
        "author": bot_user_json(),
        "content": message.content,
        "timestamp": now,
        "edited_timestamp": if edited { Value::from(now) } else { Value::Null },
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "type": kind,
        "flags": 0,
    });
    if let Some(guild_id) = guild_id {
        m["guild_id"] = json!(guild_id.to_string());
    }
    if let Some(reply_to) = message.reply_to {
        let mut reference = json!({
            "type": 0,
            "channel_id": message.channel_id.to_string(),
            "message_id": reply_to.to_string(),
        });
        if let Some(guild_id) = guild_id {
            reference["guild_id"] = json!(guild_id.to_string());
        }
        m["message_reference"] = reference;
    }
    if webhook {
        m["webhook_id"] = json!(APPLICATION_ID.to_string());
        m["application_id"] = json!(APPLICATION_ID.to_string());
    }
    m
}

/// Every message's timestamp. Twilight only parses it (RFC 3339 with a numeric offset, as
/// Discord sends), and no test looks at it, so a fixed one does.
const TIMESTAMP: &str = "2026-01-02T03:04:05.678901+00:00";

fn discord_error(status: StatusCode, message: &str, code: u64) -> (StatusCode, Option<Value>) {
    (status, Some(json!({ "message": message, "code": code })))
}

fn not_found() -> (StatusCode, Option<Value>) {
    discord_error(StatusCode::NOT_FOUND, "404: Not Found", 0)
}

// ---------------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------------

async fn rest_handler(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let path = uri.path().to_owned();

    let mut state = shared.lock();
    let (status, json) = route(
        &mut state,
        &shared.gateway_url,
        &method,
        &path,
        authorization.as_deref(),
        &body,
    );
    state.requests.push(RestRequest {
        method: method.to_string(),
        path,
        query: uri.query().map(str::to_owned),
        authorization,
        body,
        at,
        status: status.as_u16(),
    });
    drop(state);

    match json {
        Some(json) => (status, axum::Json(json)).into_response(),
        None => status.into_response(),
    }
}

fn route(
    state: &mut State,
    gateway_url: &str,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
    body: &Value,
) -> (StatusCode, Option<Value>) {
    let Some(rest) = path.strip_prefix("/api/v10/") else {
        return not_found();
    };
    let segments: Vec<&str> = rest.split('/').collect();

    // Interaction callbacks and webhooks are authenticated by their token, not the bot token.
    let token_route = matches!(segments.first(), Some(&"interactions" | &"webhooks"));
    let expected = format!("Bot {BOT_TOKEN}");
    if !token_route && authorization != Some(expected.as_str()) {
        return discord_error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    }

    let id = |s: &str| s.parse::<u64>().ok().filter(|&id| id != 0);
    let app_ok = |s: &str| id(s) == Some(APPLICATION_ID);

    match (method.as_str(), segments.as_slice()) {
        ("POST", ["channels", channel, "messages"]) => {
            let Some(channel_id) = id(channel) else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Channel", 10003);
            };
            let message = BotMessage {
                id: state.next_snowflake(),
                channel_id,
                content: body["content"].as_str().unwrap_or_default().to_owned(),
                edits: Vec::new(),
                posted_at: Instant::now(),
                reply_to: body["message_reference"]["message_id"]
                    .as_str()
                    .and_then(id)
                    .or_else(|| body["message_reference"]["message_id"].as_u64()),
                allowed_mentions: body.get("allowed_mentions").cloned().unwrap_or(Value::Null),
            };
            let guild_id = state.channel_guilds.get(&channel_id).copied();
            let json = bot_message_json(
                &message,
                guild_id,
                if message.reply_to.is_some() { 19 } else { 0 },
                false,
                false,
            );
            state.bot_messages.push(message);
            (StatusCode::OK, Some(json))
        }
        ("PATCH", ["channels", channel, "messages", message]) => {
            let (Some(channel_id), Some(message_id)) = (id(channel), id(message)) else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Message", 10008);
            };
            let guild_id = state.channel_guilds.get(&channel_id).copied();
            let Some(message) = state
                .find_bot_message(message_id)
                .filter(|m| m.channel_id == channel_id)
            else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Message", 10008);
            };
            apply_edit(message, body);
            let kind = if message.reply_to.is_some() { 19 } else { 0 };
            (
                StatusCode::OK,
                Some(bot_message_json(message, guild_id, kind, false, true)),
            )
        }
        ("POST", ["channels", channel, "typing"]) => {
            let Some(channel_id) = id(channel) else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Channel", 10003);
            };
            *state.typing.entry(channel_id).or_default() += 1;
            (StatusCode::NO_CONTENT, None)
        }
        ("PUT", ["applications", app, "commands"])
        | ("PUT", ["applications", app, "guilds", _, "commands"]) => {
            if !app_ok(app) {
                return discord_error(StatusCode::FORBIDDEN, "Missing Access", 50001);
            }
            let Some(list) = body.as_array() else {
                return discord_error(StatusCode::BAD_REQUEST, "Invalid Form Body", 50035);
            };
            let guild_id = match segments.as_slice() {
                [_, _, "guilds", guild, _] => id(guild),
                _ => None,
            };
            let commands: Vec<Value> = list
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    let fresh = state.next_snowflake();
                    c["id"] = json!(fresh.to_string());
                    c["version"] = json!(fresh.to_string());
                    c["application_id"] = json!(APPLICATION_ID.to_string());
                    if let Some(guild_id) = guild_id {
                        c["guild_id"] = json!(guild_id.to_string());
                    }
                    for (key, default) in [
                        ("type", json!(1)),
                        ("description", json!("")),
                        ("default_member_permissions", Value::Null),
                        ("options", json!([])),
                        ("nsfw", json!(false)),
                    ] {
                        let missing = match c.get(key) {
                            None => true,
                            Some(Value::Null) => !default.is_null(),
                            Some(_) => false,
                        };
                        if missing {
                            c[key] = default;
                        }
                    }
                    c
                })
                .collect();
            state.commands = commands.clone();
            (StatusCode::OK, Some(Value::Array(commands)))
        }
        ("GET", ["applications", app, "commands"]) => {
            if !app_ok(app) {
                return discord_error(StatusCode::FORBIDDEN, "Missing Access", 50001);
            }
            (StatusCode::OK, Some(Value::Array(state.commands.clone())))
        }
        ("POST", ["interactions", interaction, token, "callback"]) => {
            let Some(interaction_id) = id(interaction) else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown interaction", 10062);
            };
            let posted_id = state.next_snowflake();
            let Some(record) = state
                .interactions
                .get_mut(&interaction_id)
                .filter(|i| i.token == *token)
            else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown interaction", 10062);
            };
            if record.acked {
                return discord_error(
                    StatusCode::BAD_REQUEST,
                    "Interaction has already been acknowledged.",
                    40060,
                );
            }
            record.acked = true;
            match body["type"].as_u64() {
                Some(4) | Some(5) => {
                    let content = if body["type"] == 4 {
                        body["data"]["content"].as_str().unwrap_or_default()
                    } else {
                        ""
                    };
                    record.original = Some(BotMessage {
                        id: posted_id,
                        channel_id: record.channel_id,
                        content: content.to_owned(),
                        edits: Vec::new(),
                        posted_at: Instant::now(),
                        reply_to: None,
                        allowed_mentions: body["data"]
                            .get("allowed_mentions")
                            .cloned()
                            .unwrap_or(Value::Null),
                    });
                }
                _ => {}
            }
            state
                .interaction_callbacks
                .push((interaction_id, body.clone()));
            (StatusCode::NO_CONTENT, None)
        }
        ("POST", ["webhooks", app, token]) => {
            let posted_id = state.next_snowflake();
            let Some((_, record)) = state
                .find_interaction_by_token(token)
                .filter(|(_, i)| i.acked && app_ok(app))
            else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Webhook", 10015);
            };
            let message = BotMessage {
                id: posted_id,
                channel_id: record.channel_id,
                content: body["content"].as_str().unwrap_or_default().to_owned(),
                edits: Vec::new(),
                posted_at: Instant::now(),
                reply_to: None,
                allowed_mentions: body.get("allowed_mentions").cloned().unwrap_or(Value::Null),
            };
            let json = bot_message_json(&message, record.guild_id, 0, true, false);
            record.followups.push(message);
            (StatusCode::OK, Some(json))
        }
        ("PATCH", ["webhooks", app, token, "messages", message]) => {
            let Some((_, record)) = state
                .find_interaction_by_token(token)
                .filter(|(_, i)| i.acked && app_ok(app))
            else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Webhook", 10015);
            };
            let guild_id = record.guild_id;
            let (target, kind) = if *message == "@original" {
                (record.original.as_mut(), 20)
            } else {
                let message_id = id(message);
                (
                    record
                        .followups
                        .iter_mut()
                        .find(|m| Some(m.id) == message_id),
                    0,
                )
            };
            let Some(target) = target else {
                return discord_error(StatusCode::NOT_FOUND, "Unknown Message", 10008);
            };
            apply_edit(target, body);
            (
                StatusCode::OK,
                Some(bot_message_json(target, guild_id, kind, true, true)),
            )
        }
        ("GET", ["users", "@me"]) => (StatusCode::OK, Some(bot_user_json())),
        ("GET", ["applications", "@me"]) => (
            StatusCode::OK,
            Some(json!({
                "id": APPLICATION_ID.to_string(),
                "name": BOT_USERNAME,
                "icon": null,
                "description": "",
                "bot_public": false,
                "bot_require_code_grant": false,
                "bot": bot_user_json(),
                "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
                "flags": 0,
                "rpc_origins": [],
                "team": null,
            })),
        ),
        ("GET", ["gateway", "bot"]) => (
            StatusCode::OK,
            Some(json!({
                "url": gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000, "remaining": 1000, "reset_after": 86_400_000, "max_concurrency": 1
                },
            })),
        ),
        ("GET", ["gateway"]) => (StatusCode::OK, Some(json!({ "url": gateway_url }))),
        _ => not_found(),
    }
}

/// Applies a PATCH body to a message: `content` (null clears it; absent keeps it) and
/// `allowed_mentions`; records the edit.
fn apply_edit(message: &mut BotMessage, body: &Value) {
    match body.get("content") {
        Some(Value::String(content)) => message.content = content.clone(),
        Some(Value::Null) => message.content.clear(),
        _ => {}
    }
    if let Some(allowed) = body.get("allowed_mentions") {
        message.allowed_mentions = allowed.clone();
    }
    message
        .edits
        .push((Instant::now(), message.content.clone()));
}

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

async fn gateway_connection(shared: Arc<Shared>, stream: TcpStream) {
    let Ok((request, mut ws)) = ServerBuilder::new().accept(stream).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn_id = {
        let mut state = shared.lock();
        state.connect_uris.push(request.uri().to_string());
        state.next_conn_id += 1;
        let conn_id = state.next_conn_id;
        state.conns.insert(
            conn_id,
            Conn {
                tx: tx.clone(),
                session_id: None,
                live: false,
            },
        );
        conn_id
    };

    let hello = frame(
        10,
        None,
        None,
        &json!({ "heartbeat_interval": HEARTBEAT_INTERVAL_MS }),
    );
    if ws.send(WsMessage::text(hello)).await.is_ok() {
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Out::Text(text)) => {
                        if ws.send(WsMessage::text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Close(code, reason)) => {
                        let code = CloseCode::try_from(code).ok();
                        if ws.send(WsMessage::close(code, reason)).await.is_ok() {
                            // Let the client answer the close handshake, then hang up.
                            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                                while let Some(Ok(_)) = ws.next().await {}
                            })
                            .await;
                        }
                        break;
                    }
                    Some(Out::Abort) | None => break,
                },
                incoming = ws.next() => match incoming {
                    Some(Ok(message)) => {
                        if let Some(text) = message.as_text() {
                            handle_gateway_payload(&shared, conn_id, &tx, text);
                        }
                    }
                    Some(Err(_)) | None => break,
                },
            }
        }
    }
    shared.lock().conns.remove(&conn_id);
}

/// Handles one JSON payload from a gateway client; replies go through `tx` (in order).
fn handle_gateway_payload(
    shared: &Shared,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Out>,
    text: &str,
) {
    let Ok(payload) = serde_json::from_str::<Value>(text) else {
        let _ = tx.send(Out::Close(4002, "Error while decoding payload."));
        return;
    };
    let d = &payload["d"];
    let token_ok = |d: &Value| {
        let token = d["token"].as_str().unwrap_or_default();
        token == BOT_TOKEN || token.strip_prefix("Bot ") == Some(BOT_TOKEN)
    };
    match payload["op"].as_u64() {
        // Heartbeat.
        Some(1) => {
            let _ = tx.send(Out::Text(frame(11, None, None, &Value::Null)));
        }
        // Identify.
        Some(2) => {
            if !token_ok(d) {
                let _ = tx.send(Out::Close(4004, "Authentication failed."));
                return;
            }
            let mut state = shared.lock();
            if state
                .conns
                .get(&conn_id)
                .is_some_and(|c| c.session_id.is_some())
            {
                let _ = tx.send(Out::Close(4005, "Already authenticated."));
                return;
            }
            state.identifies.push(d.clone());
            state.next_session += 1;
            let session_id = format!("fake-session-{}", state.next_session);
            let ready = json!({
                "v": 10,
                "user": bot_user_json(),
                "guilds": [],
                "session_id": session_id,
                "resume_gateway_url": shared.gateway_url,
                "shard": d.get("shard").filter(|s| s.is_array()).cloned().unwrap_or(json!([0, 1])),
                "application": { "id": APPLICATION_ID.to_string(), "flags": 0 },
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "_trace": ["fake-discord"],
            });
            let ready = frame(0, Some(1), Some("READY"), &ready);
            state.sessions.insert(
                session_id.clone(),
                Session {
                    seq: 1,
                    events: vec![(1, ready.clone())],
                },
            );
            if let Some(conn) = state.conns.get_mut(&conn_id) {
                conn.session_id = Some(session_id);
                conn.live = true;
            }
            let _ = tx.send(Out::Text(ready));
        }
        // Resume.
        Some(6) => {
            if !token_ok(d) {
                let _ = tx.send(Out::Close(4004, "Authentication failed."));
                return;
            }
            let mut state = shared.lock();
            let session_id = d["session_id"].as_str().unwrap_or_default().to_owned();
            let client_seq = d["seq"].as_u64().unwrap_or(0);
            let Some(session) = state.sessions.get_mut(&session_id) else {
                // Not resumable: the client must identify again.
                let _ = tx.send(Out::Text(frame(9, None, None, &json!(false))));
                return;
            };
            for (_, event) in session.events.iter().filter(|(s, _)| *s > client_seq) {
                let _ = tx.send(Out::Text(event.clone()));
            }
            session.seq += 1;
            let resumed = frame(
                0,
                Some(session.seq),
                Some("RESUMED"),
                &json!({ "_trace": ["fake-discord"] }),
            );
            session.events.push((session.seq, resumed.clone()));
            let _ = tx.send(Out::Text(resumed));
            state.resumes += 1;
            if let Some(conn) = state.conns.get_mut(&conn_id) {
                conn.session_id = Some(session_id);
                conn.live = true;
            }
        }
        // Presence / voice state updates, request guild members, ...: ignored.
        _ => {}
    }
}
