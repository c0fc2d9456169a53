//! The bot: Discord's gateway events in, answers from Junction out.
//!
//! One shard receives `READY` (who the bot is; the `/reset` command is registered then),
//! `MESSAGE_CREATE` and `INTERACTION_CREATE`. Each message for the bot is answered in its
//! own task, so a slow answer never holds up the others, but the answers of one
//! conversation take turns: two quick questions must not both continue from the same
//! response and fork the conversation. Shutdown stops taking questions, lets the answers in
//! progress finish (for a bounded time) and closes the conversation file.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use twilight_gateway::{
    CloseFrame, ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt as _,
};
use twilight_http::Client;
use twilight_model::application::command::{Command, CommandType};
use twilight_model::application::interaction::{
    Interaction, InteractionContextType, InteractionData,
};
use twilight_model::channel::Message;
use twilight_model::channel::message::MessageFlags;
use twilight_model::http::interaction::{
    InteractionResponse, InteractionResponseData, InteractionResponseType,
};
use twilight_model::id::Id;
use twilight_model::id::marker::{ApplicationMarker, UserMarker};

use crate::config::{BotConfig, ConversationScope};
use crate::conversations::{ConversationKey, Conversations, StoreError};
use crate::mention::{Delivery, text_for_bot};
use crate::reply::Reply;
use crate::responses::{Answer, AskError, Question, ResponsesClient};
use crate::typing::Typing;

/// The slash command that forgets a conversation.
pub const RESET_COMMAND: &str = "reset";
/// The text fallback of `/reset`, for clients without slash commands.
pub const RESET_TEXT: &str = "!reset";
/// How long answers in progress may run on after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

/// Why the bot stopped.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client for Junction: {0}")]
    Client(#[from] reqwest::Error),
    #[error("Discord closed the gateway for good: {0}")]
    Gateway(String),
}

/// Who the bot is, learnt from `READY`.
#[derive(Clone, Copy, Debug)]
struct Identity {
    user: Id<UserMarker>,
    application: Id<ApplicationMarker>,
}

struct Bot {
    config: BotConfig,
    discord: Arc<Client>,
    junction: ResponsesClient,
    conversations: Conversations,
    identity: RwLock<Option<Identity>>,
    /// One lock per conversation with an answer in progress.
    turns: Mutex<HashMap<ConversationKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// Runs the bot until `shutdown` completes or Discord refuses it for good.
pub async fn run(config: BotConfig, shutdown: impl Future<Output = ()>) -> Result<(), BotError> {
    let conversations = Conversations::open(&config.database).await?;
    let junction =
        ResponsesClient::new(&config.junction_url, config.api_key.clone(), config.timeout)?;
    let mut discord = Client::builder()
        .token(config.discord_token.clone())
        .timeout(Duration::from_secs(15));
    if let Some(proxy) = &config.discord_api_proxy {
        discord = discord.proxy(proxy.clone(), true);
    }
    // Mentions and direct messages carry their text without the privileged message-content
    // intent, so the bot works without asking Discord for it.
    let intents = Intents::GUILD_MESSAGES | Intents::DIRECT_MESSAGES;
    let mut gateway = ConfigBuilder::new(config.discord_token.clone(), intents);
    if let Some(url) = &config.discord_gateway_url {
        gateway = gateway.proxy_url(url.clone());
    }
    let mut shard = Shard::with_config(ShardId::ONE, gateway.build());
    let bot = Arc::new(Bot {
        discord: Arc::new(discord.build()),
        junction,
        conversations,
        identity: RwLock::new(None),
        turns: Mutex::new(HashMap::new()),
        config,
    });

    // `GatewayClose` comes whatever the flags say; its code explains a fatal stop.
    let wanted =
        EventTypeFlags::READY | EventTypeFlags::MESSAGE_CREATE | EventTypeFlags::INTERACTION_CREATE;
    let mut answers = JoinSet::new();
    let mut last_close: Option<String> = None;
    tokio::pin!(shutdown);
    let outcome = loop {
        let event = tokio::select! {
            () = &mut shutdown => break Ok(()),
            Some(_) = answers.join_next(), if !answers.is_empty() => continue,
            event = shard.next_event(wanted) => event,
        };
        match event {
            None => {
                break Err(BotError::Gateway(
                    last_close.unwrap_or_else(|| "the connection ended".to_owned()),
                ));
            }
            Some(Err(error)) => tracing::warn!(%error, "Discord gateway"),
            Some(Ok(Event::GatewayClose(Some(frame)))) => {
                tracing::info!(code = frame.code, reason = %frame.reason, "Discord closed the gateway connection");
                last_close = Some(format!("close code {} ({})", frame.code, frame.reason));
            }
            Some(Ok(Event::Ready(ready))) => {
                let identity = Identity {
                    user: ready.user.id,
                    application: ready.application.id,
                };
                tracing::info!(user = %ready.user.name, id = %identity.user, "connected to Discord");
                if let Ok(mut slot) = bot.identity.write() {
                    *slot = Some(identity);
                }
                answers.spawn(register_commands(Arc::clone(&bot), identity.application));
            }
            Some(Ok(Event::MessageCreate(message))) => {
                answers.spawn(answer_message(Arc::clone(&bot), message.message));
            }
            Some(Ok(Event::InteractionCreate(interaction))) => {
                answers.spawn(answer_interaction(Arc::clone(&bot), (*interaction).0));
            }
            Some(Ok(_)) => {}
        }
    };
    shard.close(CloseFrame::NORMAL);
    if tokio::time::timeout(DRAIN, async {
        while answers.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!("answers still in progress after {DRAIN:?}; stopping anyway");
    }
    bot.conversations.close().await;
    outcome
}

impl Bot {
    fn identity(&self) -> Option<Identity> {
        self.identity.read().ok().and_then(|slot| *slot)
    }

    /// Waits for the conversation's earlier answers to finish.
    async fn take_turn(&self, key: &ConversationKey) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = match self.turns.lock() {
            Ok(mut turns) => Arc::clone(turns.entry(key.clone()).or_default()),
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        };
        lock.lock_owned().await
    }

    /// Drops the conversation's lock when no answer holds or waits for it.
    fn end_turn(&self, key: &ConversationKey) {
        if let Ok(mut turns) = self.turns.lock()
            && turns
                .get(key)
                .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            turns.remove(key);
        }
    }

    /// Asks Junction, streaming into `reply` when configured.
    async fn ask(
        &self,
        reply: &mut Reply,
        input: &str,
        previous: Option<&str>,
    ) -> Result<Answer, AskError> {
        let question = Question {
            model: &self.config.model,
            input,
            previous_response_id: previous,
            instructions: self.config.instructions.as_deref(),
            mcp_servers: &self.config.mcp_servers,
        };
        if self.config.stream {
            let (text, watcher) = watch::channel(String::new());
            reply
                .follow(
                    self.junction.ask_streaming(&question, &text),
                    watcher,
                    self.config.edit_interval,
                )
                .await
        } else {
            self.junction.ask(&question).await
        }
    }

    async fn reset(&self, key: &ConversationKey) -> &'static str {
        match self.conversations.forget(key).await {
            Ok(true) => "Conversation cleared: your next message starts a new one.",
            Ok(false) => "There was no conversation to clear.",
            Err(error) => {
                tracing::warn!(%error, "could not clear a conversation");
                "\u{26a0}\u{fe0f} I could not clear the conversation; please try again."
            }
        }
    }
}

async fn answer_message(bot: Arc<Bot>, message: Message) {
    let Some(me) = bot.identity() else {
        return;
    };
    if message.author.bot || message.author.id == me.user {
        return;
    }
    let delivery = Delivery {
        direct: message.guild_id.is_none(),
        mentions_bot: message.mentions.iter().any(|m| m.id == me.user),
        replies_to_bot: message
            .referenced_message
            .as_ref()
            .is_some_and(|r| r.author.id == me.user),
    };
    let Some(text) = text_for_bot(&message.content, me.user.get(), delivery) else {
        return;
    };
    let key = ConversationKey::of(
        bot.config.conversation_scope,
        message.author.id.get(),
        message.channel_id.get(),
    );
    let mut reply = Reply::new(
        Arc::clone(&bot.discord),
        message.channel_id,
        Some(message.id),
    );
    if text.eq_ignore_ascii_case(RESET_TEXT) {
        let said = bot.reset(&key).await;
        reply.show_or_log(said).await;
        return;
    }

    let turn = bot.take_turn(&key).await;
    let typing = Typing::start(Arc::clone(&bot.discord), message.channel_id);
    let previous = match bot.conversations.previous(&key).await {
        Ok(previous) => previous,
        Err(error) => {
            tracing::warn!(%error, "could not read the conversation; answering without it");
            None
        }
    };
    // In a shared conversation the model must know who is speaking.
    let input = match bot.config.conversation_scope {
        ConversationScope::User => text,
        ConversationScope::Channel => format!("{}: {text}", speaker(&message)),
    };
    let mut result = bot.ask(&mut reply, &input, previous.as_deref()).await;
    let mut from = previous.as_deref();
    let mut note = "";
    if let Err(AskError::UnknownPrevious(reason)) = &result {
        // Junction no longer has the conversation (its store was reset, or the key
        // changed): start afresh rather than fail every question from now on.
        tracing::info!(conversation = key.as_str(), %reason, "previous response unknown; starting a new conversation");
        if let Err(error) = bot.conversations.forget(&key).await {
            tracing::warn!(%error, "could not clear a lost conversation");
        }
        from = None;
        note = "*(I had lost our earlier conversation, so this answer starts a new one.)*\n\n";
        result = bot.ask(&mut reply, &input, None).await;
    }
    match result {
        Ok(answer) => {
            if let Err(error) = bot
                .conversations
                .advance(&key, from, &answer.response_id)
                .await
            {
                tracing::warn!(%error, "could not remember the conversation");
            }
            reply.show_or_log(&format!("{note}{}", answer.text)).await;
        }
        Err(error) => {
            tracing::warn!(conversation = key.as_str(), %error, "no answer");
            let said = error.user_message();
            let shown = reply.shown().trim().to_owned();
            let text = if shown.is_empty() {
                said
            } else {
                format!("{shown}\n\n{said}")
            };
            reply.show_or_log(&text).await;
        }
    }
    drop(typing);
    drop(turn);
    bot.end_turn(&key);
}

/// The name people see for the author: the server nickname, else the display name, else
/// the username.
fn speaker(message: &Message) -> &str {
    message
        .member
        .as_ref()
        .and_then(|member| member.nick.as_deref())
        .or(message.author.global_name.as_deref())
        .unwrap_or(&message.author.name)
}

async fn answer_interaction(bot: Arc<Bot>, interaction: Interaction) {
    let Some(InteractionData::ApplicationCommand(command)) = &interaction.data else {
        return;
    };
    let said = match (
        command.name.as_str(),
        interaction.author_id(),
        interaction.channel.as_ref(),
    ) {
        (RESET_COMMAND, Some(user), Some(channel)) => {
            let key =
                ConversationKey::of(bot.config.conversation_scope, user.get(), channel.id.get());
            bot.reset(&key).await
        }
        (RESET_COMMAND, _, _) => "I cannot tell whose conversation to clear here.",
        _ => "I do not know that command.",
    };
    let response = InteractionResponse {
        kind: InteractionResponseType::ChannelMessageWithSource,
        data: Some(InteractionResponseData {
            content: Some(said.to_owned()),
            flags: Some(MessageFlags::EPHEMERAL),
            ..InteractionResponseData::default()
        }),
    };
    if let Err(error) = bot
        .discord
        .interaction(interaction.application_id)
        .create_response(interaction.id, &interaction.token, &response)
        .await
    {
        tracing::warn!(%error, "could not answer a slash command");
    }
}

/// Registers `/reset` (a `PUT` of the whole global command list, so it is idempotent).
async fn register_commands(bot: Arc<Bot>, application: Id<ApplicationMarker>) {
    let commands = [reset_command()];
    if let Err(error) = bot
        .discord
        .interaction(application)
        .set_global_commands(&commands)
        .await
    {
        tracing::warn!(%error, "could not register the /reset command; `!reset` still works");
    }
}

fn reset_command() -> Command {
    Command {
        application_id: None,
        contexts: Some(vec![
            InteractionContextType::Guild,
            InteractionContextType::BotDm,
        ]),
        default_member_permissions: None,
        description: "Forget our conversation: the next message starts a new one".to_owned(),
        description_localizations: None,
        #[allow(deprecated)]
        dm_permission: None,
        guild_id: None,
        id: None,
        integration_types: None,
        kind: CommandType::ChatInput,
        name: RESET_COMMAND.to_owned(),
        name_localizations: None,
        nsfw: None,
        options: Vec::new(),
        version: Id::new(1),
    }
}
