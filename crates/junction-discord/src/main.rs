//! The `junction-discord` binary: settings, logging and signals around [`bot::run`].
//!
//! Exit codes: 0 after a shutdown signal, 1 when the bot stops on its own (Discord refused
//! the token, the conversation file cannot be opened), 2 for unusable settings.

use std::process::ExitCode;

use clap::Parser;
use junction_discord::bot;
use junction_discord::config::{Args, BotConfig};

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match BotConfig::resolve(args, &|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("junction-discord: {error}");
            return ExitCode::from(2);
        }
    };
    // Both Discord connections and the Junction client use rustls with ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("junction-discord: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    tracing::info!(?config, "starting");
    match runtime.block_on(bot::run(config, shutdown_signal())) {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("junction-discord: {error}");
            ExitCode::from(1)
        }
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
