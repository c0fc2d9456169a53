//! `mockllm`: the mock LLM upstream as a standalone server for benchmarks.
//!
//! By default it runs in the fixed fast path (precomputed OpenAI replies, see
//! the library's `fixed` module); `--scripted` turns on the scripted
//! behaviour grammar documented in the library. It prints
//! `mockllm listening on http://ADDR` once bound and exits on SIGINT/SIGTERM.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use junction_mock_upstream::{MockOptions, serve};
use tokio::net::TcpListener;

/// Scripted mock LLM upstream (OpenAI Chat Completions and Responses, Anthropic
/// Messages wire formats).
#[derive(Debug, Parser)]
#[command(name = "mockllm", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 18080)]
    port: u16,
    /// Extra delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Require this API key (OpenAI bearer token, Anthropic x-api-key).
    #[arg(long)]
    api_key: Option<String>,
    /// Answer OpenAI chat requests with precomputed bytes (the default).
    #[arg(long, conflicts_with = "scripted")]
    fixed: bool,
    /// Script answers by model name instead of the fixed fast path.
    #[arg(long)]
    scripted: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "mockllm: cannot listen on {}:{}: {err}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("mockllm: cannot read the bound address: {err}");
            return ExitCode::FAILURE;
        }
    };
    let opts = MockOptions {
        addr: None,
        require_api_key: args.api_key,
        record: false,
        latency: Duration::from_millis(args.latency_ms),
        fixed: !args.scripted,
        tool_calls: Vec::new(),
        parallel_tool_calls: false,
    };
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(err) => {
            eprintln!("mockllm: cannot install signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut stdout = std::io::stdout().lock();
        // The readiness line is best effort: a closed stdout must not stop
        // the server.
        let _ = writeln!(stdout, "mockllm listening on http://{addr}");
        let _ = stdout.flush();
    }
    tokio::select! {
        served = serve(listener, opts) => match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("mockllm: server failed: {err}");
                ExitCode::FAILURE
            }
        },
        () = shutdown => ExitCode::SUCCESS,
    }
}

/// Registers the SIGINT and SIGTERM handlers now (so that a signal sent
/// right after the readiness line is not lost) and returns a future that
/// completes when either arrives.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Returns a future that completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
