//! Command-line arguments and the choices made from them before the gateway starts.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use junction_config::{Config, ConfigError, Loaded};

/// SQLite file in the working directory, created at first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://junction.db?mode=rwc";

/// Junction: one gateway between applications, LLM providers and MCP servers.
///
/// With no subcommand, `junction` serves (like `litellm --config config.yaml`).
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gateway (the default).
    Serve(ServeArgs),
    /// Validate a config file and print a summary; exit code 2 if it is invalid.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// LiteLLM-style config.yaml. Also read from $CONFIG_FILE_PATH, as LiteLLM does.
    #[arg(long, short, env = "CONFIG_FILE_PATH")]
    pub config: Option<PathBuf>,
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
    #[arg(long, short, default_value_t = 4000)]
    pub port: u16,
    #[arg(long, value_enum, default_value_t = LogFormat::Human, env = "JUNCTION_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Serving threads (default: one per CPU), each a single-threaded runtime.
    #[arg(long, env = "JUNCTION_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds in-flight requests and streams get to finish after SIGINT/SIGTERM.
    #[arg(long, default_value_t = 30.0)]
    pub drain_timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Loads the config, or an empty one when no file is given.
pub fn load_config(path: Option<&Path>) -> Result<Loaded, ConfigError> {
    match path {
        Some(path) => junction_config::load(path),
        None => {
            tracing::warn!("no --config given: serving no models");
            Ok(Loaded {
                config: Config::default(),
                warnings: Vec::new(),
            })
        }
    }
}

/// `general_settings.database_url`, else `$DATABASE_URL`, else an SQLite file.
pub fn database_url(config: &Config) -> String {
    config
        .general_settings
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
}

/// Hides the password of a database URL for printing.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("sqlite://junction.db?mode=rwc"),
            "sqlite://junction.db?mode=rwc"
        );
    }
}
