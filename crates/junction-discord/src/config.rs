//! The bot's settings: command-line flags, the environment and an optional YAML file.
//!
//! Every setting can come from a flag, an environment variable (named in `--help`) or the
//! file given by `--config`; a flag or variable wins over the file, the file over the
//! defaults. The variable names of seed 000's bot (`DISCORD_TOKEN`, `LITELLM_PROXY_URL`,
//! `LITELLM_API_KEY`) work too, so an existing deployment's environment carries over.
//! A string value in the file may be `os.environ/NAME`, as in a LiteLLM config, to keep
//! secrets out of it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde::Deserialize;

/// Where Junction is when nothing says otherwise: `junction serve`'s default address.
pub const DEFAULT_JUNCTION_URL: &str = "http://127.0.0.1:4000";

/// The command line. Every field is optional here: the file and the defaults fill the gaps,
/// and [`BotConfig::resolve`] says what is still missing.
#[derive(Debug, Default, Parser)]
#[command(
    name = "junction-discord",
    version,
    about = "A Discord bot that answers mentions and direct messages through Junction's Responses API, with MCP tools run by the gateway"
)]
pub struct Args {
    /// A YAML file with any of the settings below (snake_case keys).
    #[arg(long, env = "JUNCTION_BOT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The bot's token, from the Discord developer portal (Bot → Reset Token).
    #[arg(long, env = "DISCORD_TOKEN", hide_env_values = true)]
    pub discord_token: Option<String>,
    /// Junction's base URL [default: http://127.0.0.1:4000; also read from LITELLM_PROXY_URL].
    #[arg(long, env = "JUNCTION_URL")]
    pub junction_url: Option<String>,
    /// The Junction key the bot calls with [also read from LITELLM_API_KEY].
    #[arg(long, env = "JUNCTION_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// The model to answer with, as Junction names it (e.g. `openai/gpt-4o`).
    #[arg(long, env = "JUNCTION_BOT_MODEL")]
    pub model: Option<String>,
    /// MCP servers (their labels in Junction's `mcp_servers`) whose tools the model may use,
    /// comma-separated.
    #[arg(long, env = "JUNCTION_BOT_MCP_SERVERS", value_delimiter = ',')]
    pub mcp_servers: Vec<String>,
    /// Only these tools of those servers, comma-separated (all of them when empty).
    #[arg(long, env = "JUNCTION_BOT_ALLOWED_TOOLS", value_delimiter = ',')]
    pub allowed_tools: Vec<String>,
    /// Show the answer as it is written, editing the reply [default: true].
    #[arg(long, env = "JUNCTION_BOT_STREAM")]
    pub stream: Option<bool>,
    /// One conversation per user (across channels), or one per channel [default: user].
    #[arg(long, env = "JUNCTION_BOT_CONVERSATION_SCOPE")]
    pub conversation_scope: Option<ConversationScope>,
    /// The SQLite file remembering conversations [default: junction-discord.db].
    #[arg(long, env = "JUNCTION_BOT_DATABASE")]
    pub database: Option<PathBuf>,
    /// Instructions (a system prompt) sent with every question.
    #[arg(long, env = "JUNCTION_BOT_INSTRUCTIONS")]
    pub instructions: Option<String>,
    /// How long one answer may take, tools included, in seconds [default: 180].
    #[arg(long, env = "JUNCTION_BOT_TIMEOUT_SECS")]
    pub timeout_secs: Option<u64>,
    /// The least time between two edits of a streamed reply, in milliseconds [default: 1200,
    /// inside Discord's five edits per five seconds].
    #[arg(long, env = "JUNCTION_BOT_EDIT_INTERVAL_MS")]
    pub edit_interval_ms: Option<u64>,
    /// Send Discord REST calls to this `host:port` over plain HTTP instead of Discord (an
    /// HTTP proxy such as twilight's, or a test double).
    #[arg(long, env = "DISCORD_API_PROXY")]
    pub discord_api_proxy: Option<String>,
    /// Connect to this gateway WebSocket URL instead of Discord's (`ws://` or `wss://`).
    #[arg(long, env = "DISCORD_GATEWAY_URL")]
    pub discord_gateway_url: Option<String>,
}

/// What one conversation is: the memory a question continues.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ConversationScope {
    /// Each user has one conversation with the bot, wherever they talk to it (seed 000).
    #[default]
    User,
    /// Everyone in a channel shares one conversation.
    Channel,
}

/// One MCP server the model may use, and which of its tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpServer {
    pub label: String,
    /// `None`: every tool the key may use.
    pub allowed_tools: Option<Vec<String>>,
}

/// The settings the bot runs with, every gap filled.
#[derive(Clone)]
pub struct BotConfig {
    pub discord_token: String,
    pub junction_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub mcp_servers: Vec<McpServer>,
    pub stream: bool,
    pub conversation_scope: ConversationScope,
    pub database: PathBuf,
    pub instructions: Option<String>,
    pub timeout: Duration,
    pub edit_interval: Duration,
    pub discord_api_proxy: Option<String>,
    pub discord_gateway_url: Option<String>,
}

impl std::fmt::Debug for BotConfig {
    // Hand-written so that the token and the key never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("junction_url", &self.junction_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("model", &self.model)
            .field("mcp_servers", &self.mcp_servers)
            .field("stream", &self.stream)
            .field("conversation_scope", &self.conversation_scope)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("edit_interval", &self.edit_interval)
            .field("discord_api_proxy", &self.discord_api_proxy)
            .field("discord_gateway_url", &self.discord_gateway_url)
            .finish_non_exhaustive()
    }
}

/// Why the settings are unusable; each names the setting and how to give it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting} is not set: give {how}")]
    Missing {
        setting: &'static str,
        how: &'static str,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{setting}: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
}

/// The file's shape: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    discord_token: Option<String>,
    junction_url: Option<String>,
    api_key: Option<String>,
    model: Option<String>,
    #[serde(default)]
    mcp_servers: Vec<FileMcpServer>,
    stream: Option<bool>,
    conversation_scope: Option<ConversationScope>,
    database: Option<PathBuf>,
    instructions: Option<String>,
    timeout_secs: Option<u64>,
    edit_interval_ms: Option<u64>,
    discord_api_proxy: Option<String>,
    discord_gateway_url: Option<String>,
}

/// A server in the file: its label alone, or the label with the tools allowed.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileMcpServer {
    Label(String),
    Detailed {
        server_label: String,
        #[serde(default)]
        allowed_tools: Option<Vec<String>>,
    },
}

impl BotConfig {
    /// Settles the settings from the command line (flags and environment), the file it
    /// names, and `env` for the fallback variables and `os.environ/` values.
    pub fn resolve(
        args: Args,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<BotConfig, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path, env)?,
            None => FileSettings::default(),
        };
        let discord_token = args
            .discord_token
            .or(file.discord_token)
            .filter(|t| !t.trim().is_empty())
            .ok_or(ConfigError::Missing {
                setting: "the Discord token",
                how: "DISCORD_TOKEN, --discord-token or discord_token in the config file",
            })?;
        let junction_url = args
            .junction_url
            .or_else(|| env("LITELLM_PROXY_URL"))
            .or(file.junction_url)
            .unwrap_or_else(|| DEFAULT_JUNCTION_URL.to_owned());
        let junction_url = check_url("junction_url", &junction_url, &["http", "https"])?;
        let api_key = args
            .api_key
            .or_else(|| env("LITELLM_API_KEY"))
            .or(file.api_key)
            .filter(|k| !k.trim().is_empty());
        let model = args
            .model
            .or(file.model)
            .filter(|m| !m.trim().is_empty())
            .ok_or(ConfigError::Missing {
                setting: "the model",
                how: "JUNCTION_BOT_MODEL, --model or model in the config file",
            })?;
        let mcp_servers: Vec<McpServer> = if args.mcp_servers.is_empty() {
            file.mcp_servers
                .into_iter()
                .map(|s| match s {
                    FileMcpServer::Label(label) => McpServer {
                        label,
                        allowed_tools: None,
                    },
                    FileMcpServer::Detailed {
                        server_label,
                        allowed_tools,
                    } => McpServer {
                        label: server_label,
                        allowed_tools,
                    },
                })
                .collect()
        } else {
            let allowed = non_empty(args.allowed_tools);
            args.mcp_servers
                .into_iter()
                .map(|label| McpServer {
                    label,
                    allowed_tools: allowed.clone(),
                })
                .collect()
        };
        let mcp_servers = mcp_servers
            .into_iter()
            .map(|s| McpServer {
                label: s.label.trim().to_owned(),
                allowed_tools: s.allowed_tools,
            })
            .filter(|s| !s.label.is_empty())
            .collect();
        let timeout_secs = args.timeout_secs.or(file.timeout_secs).unwrap_or(180);
        if timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                setting: "timeout_secs",
                message: "must be at least 1".into(),
            });
        }
        let discord_gateway_url = match args.discord_gateway_url.or(file.discord_gateway_url) {
            Some(url) => Some(check_url("discord_gateway_url", &url, &["ws", "wss"])?),
            None => None,
        };
        Ok(BotConfig {
            discord_token,
            junction_url,
            api_key,
            model,
            mcp_servers,
            stream: args.stream.or(file.stream).unwrap_or(true),
            conversation_scope: args
                .conversation_scope
                .or(file.conversation_scope)
                .unwrap_or_default(),
            database: args
                .database
                .or(file.database)
                .unwrap_or_else(|| PathBuf::from("junction-discord.db")),
            instructions: args
                .instructions
                .or(file.instructions)
                .filter(|i| !i.trim().is_empty()),
            timeout: Duration::from_secs(timeout_secs),
            edit_interval: Duration::from_millis(
                args.edit_interval_ms
                    .or(file.edit_interval_ms)
                    .unwrap_or(1200),
            ),
            discord_api_proxy: args.discord_api_proxy.or(file.discord_api_proxy),
            discord_gateway_url,
        })
    }
}

fn read_file(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut tree: serde_json::Value =
        serde_saphyr::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if tree.is_null() {
        return Ok(FileSettings::default());
    }
    resolve_environment(&mut tree, env).map_err(|message| ConfigError::Syntax {
        path: path.to_owned(),
        message,
    })?;
    serde_json::from_value(tree).map_err(|e| ConfigError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Replaces every `os.environ/NAME` string with the variable's value.
fn resolve_environment(
    value: &mut serde_json::Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    match value {
        serde_json::Value::String(s) => {
            if let Some(name) = s.strip_prefix("os.environ/") {
                *s = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                resolve_environment(item, env)?;
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                resolve_environment(item, env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_url(setting: &'static str, url: &str, schemes: &[&str]) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/').to_owned();
    let scheme_ok = url
        .split_once("://")
        .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty());
    if scheme_ok {
        Ok(url)
    } else {
        Err(ConfigError::Invalid {
            setting,
            message: format!("{url:?} is not a {} URL", schemes.join(" or ")),
        })
    }
}

fn non_empty(items: Vec<String>) -> Option<Vec<String>> {
    let items: Vec<String> = items
        .into_iter()
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect();
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn args(list: &[&str]) -> Args {
        let mut argv = vec!["junction-discord"];
        argv.extend_from_slice(list);
        Args::try_parse_from(argv).unwrap()
    }

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "junction-discord-config-{}-{name}.yaml",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn flags_fill_everything_and_defaults_the_rest() {
        let config = BotConfig::resolve(
            args(&[
                "--discord-token",
                "t",
                "--model",
                "openai/gpt-4o",
                "--mcp-servers",
                "github, time",
                "--allowed-tools",
                "list_repos,get_file_contents",
            ]),
            &no_env,
        )
        .unwrap();
        assert_eq!(config.junction_url, DEFAULT_JUNCTION_URL);
        assert_eq!(config.mcp_servers.len(), 2);
        assert_eq!(config.mcp_servers[1].label, "time");
        assert_eq!(
            config.mcp_servers[0].allowed_tools.as_deref(),
            Some(&["list_repos".to_owned(), "get_file_contents".to_owned()][..])
        );
        assert!(config.stream);
        assert_eq!(config.conversation_scope, ConversationScope::User);
        assert_eq!(config.timeout, Duration::from_secs(180));
    }

    #[test]
    fn missing_token_and_model_are_named() {
        let err = BotConfig::resolve(args(&["--model", "m"]), &no_env)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("DISCORD_TOKEN"), "{err}");
        let err = BotConfig::resolve(args(&["--discord-token", "t"]), &no_env)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("JUNCTION_BOT_MODEL"), "{err}");
    }

    #[test]
    fn seed_variable_names_are_read() {
        let env = |name: &str| match name {
            "LITELLM_PROXY_URL" => Some("http://proxy:4000/".to_owned()),
            "LITELLM_API_KEY" => Some("sk-seed".to_owned()),
            _ => None,
        };
        let config =
            BotConfig::resolve(args(&["--discord-token", "t", "--model", "m"]), &env).unwrap();
        assert_eq!(config.junction_url, "http://proxy:4000");
        assert_eq!(config.api_key.as_deref(), Some("sk-seed"));
    }

    #[test]
    fn file_settings_with_environment_references_and_flag_precedence() {
        let path = temp_file(
            "full",
            "discord_token: os.environ/MY_TOKEN\nmodel: from-file\njunction_url: https://gw.example\nmcp_servers:\n  - time\n  - server_label: github\n    allowed_tools: [list_repos]\nstream: false\nconversation_scope: channel\ntimeout_secs: 30\n",
        );
        let env = |name: &str| (name == "MY_TOKEN").then(|| "secret".to_owned());
        let config = BotConfig::resolve(
            args(&["--config", path.to_str().unwrap(), "--model", "from-flag"]),
            &env,
        )
        .unwrap();
        assert_eq!(config.discord_token, "secret");
        assert_eq!(config.model, "from-flag");
        assert_eq!(config.junction_url, "https://gw.example");
        assert_eq!(
            config.mcp_servers,
            vec![
                McpServer {
                    label: "time".into(),
                    allowed_tools: None
                },
                McpServer {
                    label: "github".into(),
                    allowed_tools: Some(vec!["list_repos".into()])
                },
            ]
        );
        assert!(!config.stream);
        assert_eq!(config.conversation_scope, ConversationScope::Channel);
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert!(!format!("{config:?}").contains("secret"));
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn bad_files_and_urls_are_clear_errors() {
        let path = temp_file("unknown", "discord_tokn: x\n");
        let err = BotConfig::resolve(args(&["--config", path.to_str().unwrap()]), &no_env)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("discord_tokn"), "{err}");
        std::fs::remove_file(path).ok();

        let path = temp_file("unset", "discord_token: os.environ/NOPE\n");
        let err = BotConfig::resolve(args(&["--config", path.to_str().unwrap()]), &no_env)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("NOPE is not set"), "{err}");
        std::fs::remove_file(path).ok();

        let err = BotConfig::resolve(
            args(&[
                "--discord-token",
                "t",
                "--model",
                "m",
                "--junction-url",
                "localhost:4000",
            ]),
            &no_env,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("junction_url"), "{err}");
        assert!(BotConfig::resolve(args(&["--config", "/nonexistent/bot.yaml"]), &no_env).is_err());
    }
}
