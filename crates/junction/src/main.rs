//! `junction`: the command line. Parses arguments, loads the config, sets up logging, and runs
//! the gateway until SIGINT/SIGTERM. Everything else lives in the library crates.
//!
//! Exit codes: 0 after a clean shutdown or a valid `check`, 2 for a bad config or bad
//! arguments, 1 for anything else that stops start-up (database unreachable, port taken).

mod cli;
mod logging;
mod signals;

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ServeArgs};

/// A gateway allocates many small, short-lived buffers per request; mimalloc's thread-local
/// free lists serve those markedly cheaper than glibc malloc (measured in `bench/`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    match command {
        Command::Serve(args) => {
            let _log_guard = logging::init(args.log_format);
            // The main thread accepts and serves one share; `Gateway::serve` adds the other threads.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let runtime = match runtime {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            runtime.block_on(serve(args))
        }
        Command::Check { config } => check(&config),
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let loaded = match cli::load_config(args.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for warning in &loaded.warnings {
        tracing::warn!("config: {warning}");
    }
    let database_url = cli::database_url(&loaded.config);
    let gateway = match junction_server::Gateway::start(&loaded.config, &database_url).await {
        Ok(gateway) => gateway,
        Err(junction_server::StartError::Config(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}:{}: {e}", args.host, args.port);
            return ExitCode::from(1);
        }
    };
    match listener.local_addr() {
        Ok(addr) => {
            tracing::info!(
                models = loaded.config.model_list.len(),
                "listening on http://{addr}"
            );
            // On stdout as well, so scripts and tests can read the port chosen for `--port 0`.
            println!("junction listening on http://{addr}");
        }
        Err(e) => tracing::warn!("cannot read the bound address: {e}"),
    }
    let drain = std::time::Duration::from_secs_f64(args.drain_timeout.max(0.0));
    let threads = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    match gateway
        .serve(listener, threads, signals::shutdown(), drain)
        .await
    {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::from(1)
        }
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    let loaded = match cli::load_config(Some(path)) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let router = match junction_llm::Router::from_config(&loaded.config) {
        Ok(router) => router,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // OpenAPI entries have their specs loaded (files or URLs), as at boot.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let checked = runtime.block_on(junction_hub::upstream_config::upstreams(
        &loaded.config.mcp_servers,
    ));
    let upstreams = match checked {
        Ok(upstreams) => upstreams,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Collected, then written once: `junction check | head` must not panic on a closed pipe.
    let mut out = String::new();
    for warning in &loaded.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let config = &loaded.config;
    let _ = writeln!(out, "config {} is valid", path.display());
    let _ = writeln!(out, "models: {}", router.model_names().len());
    for name in router.model_names() {
        let deployments: Vec<String> = router
            .deployments_of(name)
            .into_iter()
            .map(|(label, _)| label)
            .collect();
        let _ = writeln!(out, "  {name} -> {}", deployments.join(", "));
    }
    let _ = writeln!(out, "mcp servers: {}", config.mcp_servers.len());
    for (name, upstream) in &upstreams {
        match upstream {
            junction_hub::upstream_config::Upstream::Mcp(client) => {
                let _ = writeln!(out, "  {name} -> {}", client.transport.target());
            }
            junction_hub::upstream_config::Upstream::Unsupported(reason) => {
                let _ = writeln!(out, "  {name} -> not served: {reason}");
            }
        }
    }
    let _ = writeln!(
        out,
        "master key: {}",
        if config.general_settings.master_key.is_some() {
            "set"
        } else {
            "not set"
        }
    );
    let _ = writeln!(
        out,
        "database: {}",
        cli::redact_url(&cli::database_url(config))
    );
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    ExitCode::SUCCESS
}
