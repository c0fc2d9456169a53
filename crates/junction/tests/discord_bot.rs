//! Seed 000's Discord bot end to end, without Discord: the real `junction-discord` binary
//! connected to a fake Discord on loopback (REST and gateway WebSocket,
//! `common/fake_discord.rs`), asking the real gateway, which runs the real `mcp-server-time`
//! for a scripted mock LLM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/fake_discord.rs"]
mod fake_discord;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{MASTER_KEY, TestGateway, mcp};
use fake_discord::{BOT_TOKEN, BOT_USER_ID, BotMessage, FakeDiscord, UserMessage};
use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
use serde_json::{Value, json};

const GUILD: u64 = 900_000_000_000_000_001;
const CHANNEL: u64 = 900_000_000_000_000_010;
const OTHER_CHANNEL: u64 = 900_000_000_000_000_011;
const DM_CHANNEL: u64 = 900_000_000_000_000_012;
const ALICE: u64 = 800_000_000_000_000_001;
const BOB: u64 = 800_000_000_000_000_002;
const ANOTHER_BOT: u64 = 800_000_000_000_000_003;
const WAIT: Duration = Duration::from_secs(60);

/// `target/debug/junction-discord`, next to this test's `deps` directory (scripts/test
/// builds it: `cargo test -p junction` does not build another package's binary).
fn bot_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = debug_dir.join("junction-discord");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p junction-discord` first (scripts/test does)",
        path.display()
    );
    path
}

/// The gateway under the bot, with `mcp-server-time` and a mock LLM scripted to call its
/// `get_current_time`.
struct Setup {
    llm: MockUpstream,
    /// The mock behind `badtool`: it asks for the time on Mars, which the tool refuses.
    _mars: MockUpstream,
    gw: TestGateway,
    /// The bot's key: the time server and nothing else.
    key: String,
}

/// Models: `gpt` (answers at once), `dripping` (streams a word every 15 ms), `broken`
/// (upstream 500), `slow` (five seconds before answering), `badtool` (a failing tool call).
async fn start_gateway() -> Setup {
    let mars = MockUpstream::start_with(MockOptions {
        tool_calls: vec![ScriptedToolCall::new(
            "time-get_current_time",
            json!({"timezone": "Mars/Olympus_Mons"}),
        )],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let llm = MockUpstream::start_with(MockOptions {
        record: true,
        tool_calls: vec![ScriptedToolCall::new(
            "time-get_current_time",
            json!({"timezone": "UTC"}),
        )],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let base = llm.openai_base();
    let yaml = format!(
        "model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt, api_base: {base}, api_key: sk-up}}
  - model_name: dripping
    litellm_params: {{model: openai/drip-15, api_base: {base}, api_key: sk-up}}
  - model_name: broken
    litellm_params: {{model: openai/error-500, api_base: {base}, api_key: sk-up}}
  - model_name: slow
    litellm_params: {{model: openai/slow-5000, api_base: {base}, api_key: sk-up}}
  - model_name: badtool
    litellm_params: {{model: openai/gpt, api_base: {mars}, api_key: sk-up}}
mcp_servers:
  time:
    command: {time}
general_settings:
  master_key: {MASTER_KEY}
",
        time = mcp::venv_bin("mcp-server-time").display(),
        mars = mars.openai_base(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "time")).await;
    let key = gw
        .generate_key(
            &json!({"key_alias": "discord-bot", "object_permission": {"mcp_servers": ["time"]}}),
        )
        .await;
    Setup {
        llm,
        _mars: mars,
        gw,
        key,
    }
}

/// One run of the bot binary; killed when dropped. Its log goes to `log`.
struct Bot {
    child: tokio::process::Child,
    log: PathBuf,
}

struct BotSettings<'a> {
    junction_url: &'a str,
    key: &'a str,
    model: &'a str,
    stream: bool,
    database: &'a Path,
    extra: Vec<(&'a str, String)>,
}

impl Bot {
    async fn start(discord: &FakeDiscord, settings: &BotSettings<'_>) -> Bot {
        let log = settings
            .database
            .with_extension(format!("log-{}", discord.identify_count()));
        let identified = discord.identify_count();
        let mut command = tokio::process::Command::new(bot_binary());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,junction_discord=debug")
            .env("DISCORD_TOKEN", BOT_TOKEN)
            .env("DISCORD_API_PROXY", discord.api_proxy())
            .env("DISCORD_GATEWAY_URL", discord.gateway_url())
            .env("JUNCTION_URL", settings.junction_url)
            .env("JUNCTION_API_KEY", settings.key)
            .env("JUNCTION_BOT_MODEL", settings.model)
            .env("JUNCTION_BOT_MCP_SERVERS", "time")
            .env("JUNCTION_BOT_STREAM", settings.stream.to_string())
            .env("JUNCTION_BOT_DATABASE", settings.database)
            .env("JUNCTION_BOT_EDIT_INTERVAL_MS", "300")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true);
        for (name, value) in &settings.extra {
            command.env(name, value);
        }
        let child = command.spawn().unwrap();
        let bot = Bot { child, log };
        discord
            .wait_for("the bot to identify", WAIT, |d| {
                (d.identify_count() > identified).then_some(())
            })
            .await;
        discord.wait_ready().await;
        bot
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status.
    async fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the bot did not stop after SIGTERM")
            .unwrap()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "junction-discord-test-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mention(text: &str) -> String {
    format!("<@{BOT_USER_ID}> {text}")
}

fn in_guild(channel_id: u64, author_id: u64, content: String) -> UserMessage {
    UserMessage {
        channel_id,
        guild_id: Some(GUILD),
        author_id,
        author_bot: false,
        mentions: if content.contains(&format!("<@{BOT_USER_ID}>")) {
            vec![BOT_USER_ID]
        } else {
            Vec::new()
        },
        content,
    }
}

/// Waits for the bot's answer to `question` (the message replying to it) to settle on text
/// that satisfies `done`, and returns the answer's messages.
async fn answer_to(
    discord: &FakeDiscord,
    channel_id: u64,
    question: u64,
    done: impl Fn(&str) -> bool,
) -> Vec<BotMessage> {
    discord
        .wait_for(&format!("the answer to message {question}"), WAIT, |d| {
            let messages = d.bot_messages(channel_id);
            let start = messages.iter().position(|m| m.reply_to == Some(question))?;
            let answer: Vec<BotMessage> = messages[start..]
                .iter()
                .take_while(|m| m.reply_to.is_none() || m.reply_to == Some(question))
                .cloned()
                .collect();
            let text: String = answer.iter().map(|m| m.content.as_str()).collect();
            done(&text).then_some(answer)
        })
        .await
}

/// The user messages the LLM was sent in one upstream request (Chat Completions): the
/// conversation as the model sees it.
fn upstream_texts(request: &Value) -> Vec<String> {
    request["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| m["role"] == "user")
                .filter_map(|m| m["content"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_mention_is_answered_through_junction_with_the_mcp_tool_and_strangers_are_ignored() {
    let Setup {
        llm,
        _mars,
        gw,
        key,
    } = start_gateway().await;
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("mention");
    let bot = Bot::start(
        &discord,
        &BotSettings {
            junction_url: &gw.url,
            key: &key,
            model: "gpt",
            stream: false,
            database: &dir.join("bot.db"),
            extra: Vec::new(),
        },
    )
    .await;

    // Registered at READY.
    discord
        .wait_for("the /reset command", WAIT, |d| {
            d.registered_commands()
                .contains(&"reset".to_owned())
                .then_some(())
        })
        .await;

    // Neither another bot, nor a message without the mention, is answered.
    let mut from_bot = in_guild(CHANNEL, ANOTHER_BOT, mention("what time is it?"));
    from_bot.author_bot = true;
    let ignored_bot = discord.send_user_message(from_bot).await;
    let ignored_plain = discord
        .send_user_message(in_guild(CHANNEL, BOB, "what time is it?".into()))
        .await;

    let question = discord
        .send_user_message(in_guild(CHANNEL, ALICE, mention("what time is it in UTC?")))
        .await;
    let answer = answer_to(&discord, CHANNEL, question, |t| {
        t.starts_with("Tool result:")
    })
    .await;
    assert_eq!(answer.len(), 1);
    let reply = &answer[0];
    assert!(reply.content.contains("UTC"), "{}", reply.content);
    assert_eq!(reply.reply_to, Some(question));
    assert_eq!(
        reply.allowed_mentions["parse"],
        json!([]),
        "the answer pings nobody but the asker: {}",
        reply.allowed_mentions
    );
    assert!(discord.typing_count(CHANNEL) >= 1, "a typing indicator");

    // The gateway ran the tool: the model was offered it, called it, and got its result.
    let requests = llm.requests();
    assert_eq!(
        requests.len(),
        2,
        "one round with the tool call, one with its result"
    );
    let offered: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(offered.contains(&"time-get_current_time"), "{offered:?}");
    assert_eq!(
        upstream_texts(&requests[0].body),
        ["what time is it in UTC?"],
        "the mention is stripped"
    );
    let tool_result = requests[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(tool_result.contains("UTC"), "{tool_result}");
    assert_eq!(reply.content, format!("Tool result: {tool_result}"));

    // Alice again, elsewhere: her conversation continues (one conversation per user).
    let follow_up = discord
        .send_user_message(in_guild(OTHER_CHANNEL, ALICE, mention("thanks!")))
        .await;
    answer_to(&discord, OTHER_CHANNEL, follow_up, |t| !t.is_empty()).await;
    let last = llm.requests().pop().unwrap();
    let texts = upstream_texts(&last.body);
    assert_eq!(
        texts,
        ["what time is it in UTC?", "thanks!"],
        "the follow-up carries the earlier turn"
    );

    // A direct message needs no mention.
    let dm = discord
        .send_user_message(UserMessage {
            channel_id: DM_CHANNEL,
            guild_id: None,
            author_id: BOB,
            author_bot: false,
            content: "hello there".into(),
            mentions: Vec::new(),
        })
        .await;
    answer_to(&discord, DM_CHANNEL, dm, |t| t.starts_with("Tool result:")).await;

    // By now the ignored messages would have been answered: they never were.
    let answered: Vec<Option<u64>> = discord
        .bot_messages(CHANNEL)
        .iter()
        .map(|m| m.reply_to)
        .collect();
    assert!(
        !answered.contains(&Some(ignored_bot)) && !answered.contains(&Some(ignored_plain)),
        "{answered:?}"
    );
    assert_eq!(answered, [Some(question)]);
    // The gateway key went to Discord for nothing, and the Discord token to Junction for nothing.
    for request in discord.requests() {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bot {BOT_TOKEN}").as_str())
        );
        assert!(!request.body.to_string().contains(&key));
    }
    assert!(!bot.log().contains(&key), "the key is never logged");
    assert!(!bot.log().contains(BOT_TOKEN), "the token is never logged");
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_streamed_answer_grows_by_throttled_edits_and_long_answers_split_with_code_kept_whole() {
    let Setup {
        llm: _llm,
        _mars,
        gw,
        key,
    } = start_gateway().await;
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("stream");
    let bot = Bot::start(
        &discord,
        &BotSettings {
            junction_url: &gw.url,
            key: &key,
            model: "dripping",
            stream: true,
            database: &dir.join("bot.db"),
            // No tools: the mock would call one instead of echoing the question.
            extra: vec![("JUNCTION_BOT_MCP_SERVERS", String::new())],
        },
    )
    .await;

    // The mock answers "Hello from …! You said: <question>", so a long question makes a long
    // answer: prose, a 700-character code block, and prose again, 2,600 characters in all.
    let prose: Vec<String> = (0..70).map(|i| format!("word{i:03}-lorem")).collect();
    let code: Vec<String> = (0..20)
        .map(|i| format!("    value_{i:02} = compute(value_{i:02}, 12345)"))
        .collect();
    let question_text = format!(
        "{}\n\n```python\n{}\n```\n\n{}",
        prose.join(" "),
        code.join("\n"),
        prose.join(" ").replace("lorem", "ipsum"),
    );
    let question_text = format!(
        "{question_text}\n\n{}",
        prose.join(" ").replace("lorem", "dolor")
    );
    assert!(question_text.chars().count() > 2000);
    let question = discord
        .send_user_message(in_guild(CHANNEL, ALICE, mention(&question_text)))
        .await;
    let answer = answer_to(&discord, CHANNEL, question, |t| t.contains("word069-dolor")).await;

    assert_eq!(answer.len(), 2, "2,600 characters make two messages");
    for message in &answer {
        assert!(
            message.content.chars().count() <= 2000,
            "{}",
            message.content.len()
        );
        assert_eq!(
            message.content.matches("```").count() % 2,
            0,
            "a code block is cut: {}",
            message.content
        );
    }
    let block = format!("```python\n{}\n```", code.join("\n"));
    assert!(
        answer.iter().filter(|m| m.content.contains(&block)).count() == 1,
        "the code block is whole in one message"
    );
    let joined: String = answer
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    for word in prose.iter().chain(&code) {
        assert!(joined.contains(word.trim()), "{word} is missing");
    }
    // It was shown while streaming: the first message was posted with part of the answer and
    // edited as more came, never faster than the configured 300 ms.
    let first = &answer[0];
    assert!(!first.edits.is_empty(), "the reply grew by edits");
    let mut times = vec![first.posted_at];
    times.extend(first.edits.iter().map(|(at, _)| *at));
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= Duration::from_millis(250), "two edits {gap:?} apart");
    }
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_conversation_survives_a_restart_and_reset_clears_it() {
    let Setup {
        llm,
        _mars,
        gw,
        key,
    } = start_gateway().await;
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("reset");
    let database = dir.join("bot.db");
    let settings = BotSettings {
        junction_url: &gw.url,
        key: &key,
        model: "gpt",
        stream: true,
        database: &database,
        extra: vec![("JUNCTION_BOT_MCP_SERVERS", String::new())],
    };
    let (discord, llm) = (&discord, &llm);
    let ask = |text: &'static str| async move {
        let id = discord
            .send_user_message(in_guild(CHANNEL, ALICE, mention(text)))
            .await;
        answer_to(discord, CHANNEL, id, |t| t.contains(text)).await;
        upstream_texts(&llm.requests().pop().unwrap().body)
    };

    let bot = Bot::start(discord, &settings).await;
    assert_eq!(ask("my name is Alice").await, ["my name is Alice"]);
    assert!(bot.stop().await.success(), "SIGTERM is a clean stop");

    // A new process, the same file: the conversation goes on.
    let bot = Bot::start(discord, &settings).await;
    assert_eq!(
        ask("what is my name?").await,
        ["my name is Alice", "what is my name?"]
    );

    // /reset clears it, and says so to Alice alone.
    let interaction = discord
        .send_slash_command("reset", CHANNEL, Some(GUILD), ALICE)
        .await;
    let callback = discord
        .wait_for("the /reset answer", WAIT, |d| {
            d.interaction_callbacks()
                .into_iter()
                .find(|(id, _)| *id == interaction)
                .map(|(_, body)| body)
        })
        .await;
    assert_eq!(callback["type"], 4);
    assert!(
        callback["data"]["content"]
            .as_str()
            .unwrap()
            .contains("cleared"),
        "{callback}"
    );
    assert_eq!(callback["data"]["flags"], 64, "ephemeral");
    assert_eq!(ask("fresh start").await, ["fresh start"]);

    // So does the text fallback.
    let reset = discord
        .send_user_message(in_guild(CHANNEL, ALICE, mention("!reset")))
        .await;
    answer_to(discord, CHANNEL, reset, |t| t.contains("cleared")).await;
    assert_eq!(ask("fresh again").await, ["fresh again"]);

    // A dropped gateway connection is resumed, and questions are still answered.
    discord.drop_gateway_connections().await;
    assert_eq!(ask("still there?").await, ["fresh again", "still there?"]);

    // Bob's conversation was never Alice's.
    let bob = discord
        .send_user_message(in_guild(CHANNEL, BOB, mention("hi, I am Bob")))
        .await;
    answer_to(discord, CHANNEL, bob, |t| t.contains("I am Bob")).await;
    assert_eq!(
        upstream_texts(&llm.requests().pop().unwrap().body),
        ["hi, I am Bob"]
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn in_channel_scope_a_channel_shares_one_conversation_with_speakers_named() {
    let Setup {
        llm,
        _mars,
        gw,
        key,
    } = start_gateway().await;
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("channel");
    let bot = Bot::start(
        &discord,
        &BotSettings {
            junction_url: &gw.url,
            key: &key,
            model: "gpt",
            stream: false,
            database: &dir.join("bot.db"),
            extra: vec![
                ("JUNCTION_BOT_MCP_SERVERS", String::new()),
                ("JUNCTION_BOT_CONVERSATION_SCOPE", "channel".into()),
            ],
        },
    )
    .await;
    for (author, text) in [(ALICE, "I like tea"), (BOB, "what does she like?")] {
        let id = discord
            .send_user_message(in_guild(CHANNEL, author, mention(text)))
            .await;
        answer_to(&discord, CHANNEL, id, |t| t.contains(text)).await;
    }
    assert_eq!(
        upstream_texts(&llm.requests().pop().unwrap().body),
        [
            format!("User {ALICE}: I like tea"),
            format!("User {BOB}: what does she like?")
        ]
    );
    // Another channel is another conversation.
    let id = discord
        .send_user_message(in_guild(OTHER_CHANNEL, ALICE, mention("hello")))
        .await;
    answer_to(&discord, OTHER_CHANNEL, id, |t| t.contains("hello")).await;
    assert_eq!(
        upstream_texts(&llm.requests().pop().unwrap().body),
        [format!("User {ALICE}: hello")]
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn every_failure_gets_a_short_reply() {
    let Setup {
        llm: _llm,
        _mars,
        gw,
        key,
    } = start_gateway().await;
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("failures");
    let down = common::closed_port_url().await;
    // (case, Junction's URL, model, extra environment, what the reply says)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, String)>, &'a str);
    let cases: [Case; 5] = [
        (
            "gateway down",
            &down,
            "gpt",
            Vec::new(),
            "can't reach the AI gateway",
        ),
        (
            "upstream error",
            &gw.url,
            "broken",
            Vec::new(),
            "returned HTTP 500",
        ),
        (
            "timeout",
            &gw.url,
            "slow",
            vec![("JUNCTION_BOT_TIMEOUT_SECS", "1".into())],
            "No answer after 1 seconds",
        ),
        (
            "an unknown model",
            &gw.url,
            "nope",
            Vec::new(),
            "answered with an error (4",
        ),
        (
            "a bad key",
            &gw.url,
            "gpt",
            vec![("JUNCTION_API_KEY", "sk-wrong".into())],
            "refused my credentials",
        ),
    ];
    for (index, (case, url, model, extra, expected)) in cases.into_iter().enumerate() {
        for stream in [false, true] {
            let database = dir.join(format!("bot-{index}-{stream}.db"));
            let mut settings = BotSettings {
                junction_url: url,
                key: &key,
                model,
                stream,
                database: &database,
                extra: extra.clone(),
            };
            if let Some((_, wrong)) = extra.iter().find(|(name, _)| *name == "JUNCTION_API_KEY") {
                settings.key = wrong;
            }
            let bot = Bot::start(&discord, &settings).await;
            let question = discord
                .send_user_message(in_guild(CHANNEL, ALICE, mention(&format!("case {case}"))))
                .await;
            let answer = answer_to(&discord, CHANNEL, question, |t| !t.is_empty()).await;
            let text = &answer[0].content;
            assert!(
                text.starts_with('\u{26a0}')
                    && text.contains(expected)
                    && text.chars().count() < 400,
                "{case} (stream {stream}): {text}\n{}",
                bot.log()
            );
            assert!(bot.stop().await.success());
        }
    }
}

#[tokio::test]
async fn a_failing_tool_is_reported_in_the_answer() {
    let Setup {
        llm: _llm,
        _mars,
        gw,
        key,
    } = start_gateway().await;
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("tool");
    for stream in [false, true] {
        let database = dir.join(format!("bot-{stream}.db"));
        let bot = Bot::start(
            &discord,
            &BotSettings {
                junction_url: &gw.url,
                key: &key,
                model: "badtool",
                stream,
                database: &database,
                extra: Vec::new(),
            },
        )
        .await;
        let question = discord
            .send_user_message(in_guild(
                CHANNEL,
                ALICE,
                mention("what time is it on Mars?"),
            ))
            .await;
        // Junction hands the tool's error to the model (the mock repeats it), as OpenAI does.
        let answer = answer_to(&discord, CHANNEL, question, |t| {
            t.starts_with("Tool result:")
        })
        .await;
        assert!(
            answer[0].content.contains("Mars/Olympus_Mons"),
            "{}",
            answer[0].content
        );
        assert!(bot.stop().await.success());
    }
}

#[tokio::test]
async fn a_wrong_token_or_missing_settings_stop_the_bot_with_a_clear_error() {
    let discord = FakeDiscord::start().await;
    let dir = temp_dir("token");
    let output = tokio::process::Command::new(bot_binary())
        .env_clear()
        .env("DISCORD_TOKEN", "not-the-token")
        .env("DISCORD_API_PROXY", discord.api_proxy())
        .env("DISCORD_GATEWAY_URL", discord.gateway_url())
        .env("JUNCTION_BOT_MODEL", "gpt")
        .env("JUNCTION_BOT_DATABASE", dir.join("bot.db"))
        .output();
    let output = tokio::time::timeout(WAIT, output).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("4004"), "{stderr}");
    assert!(!stderr.contains("not-the-token"), "{stderr}");

    let output = tokio::process::Command::new(bot_binary())
        .env_clear()
        .env("DISCORD_TOKEN", "t")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("JUNCTION_BOT_MODEL"), "{stderr}");
}
