//! Helpers of the registry tests: finding the real MCP servers `scripts/test` installs,
//! starting server-everything over HTTP on a port of its own, and waiting with deadlines.
//!
//! A missing server fails the test with the command that installs it, rather than skipping:
//! a skipped test proves nothing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Logs of the code under test, shown for failing tests (`RUST_LOG` picks the level).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("junction_hub=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// `tests/node/node_modules/.bin/<name>`, from `JUNCTION_TEST_NODE_BIN` or the workspace.
pub fn node_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("JUNCTION_TEST_NODE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node/node_modules/.bin")
        });
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test (it installs the npm test peers of tests/node)",
        path.display()
    );
    path
}

/// A command of the Python test venv: from `PATH` (where `scripts/test` puts the venv) or
/// `target/test-venv/bin`.
pub fn venv_bin(name: &str) -> PathBuf {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.exists())
    });
    let path = from_path.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/test-venv/bin")
            .join(name)
    });
    assert!(
        path.exists(),
        "{} is missing: run scripts/test (it installs tests/requirements.txt into target/test-venv)",
        path.display()
    );
    path
}

pub fn everything() -> String {
    node_bin("mcp-server-everything").display().to_string()
}

pub fn time_server() -> String {
    venv_bin("mcp-server-time").display().to_string()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// server-everything in `streamableHttp` mode; killed when dropped.
pub struct EverythingHttp {
    pub port: u16,
    _child: Child,
}

impl EverythingHttp {
    pub async fn start() -> EverythingHttp {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> EverythingHttp {
        let child = Command::new(everything())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "server-everything did not listen on port {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        EverythingHttp {
            port,
            _child: child,
        }
    }

    pub fn url(&self) -> String {
        url_on(self.port)
    }
}

pub fn url_on(port: u16) -> String {
    format!("http://127.0.0.1:{port}/mcp")
}

/// Polls `condition` every 20 ms until it holds, failing after `within`.
pub async fn wait_until(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether a process (zombie included) still exists.
pub fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}
