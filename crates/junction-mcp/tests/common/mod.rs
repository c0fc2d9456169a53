//! Shared helpers of the client tests: finding the third-party MCP servers that
//! `scripts/test` installs, starting them (stdio commands, HTTP servers on free ports, waited
//! for by polling with a deadline), and small process utilities.
//!
//! The servers are real: `@modelcontextprotocol/server-everything` (npm) and the Python
//! `mcp-server-time`. A missing one fails the test with a message saying how to install it,
//! rather than skipping: a skipped test proves nothing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod fake;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use junction_mcp::{ClientConfig, TransportConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Logs of the code under test, shown for failing tests (`RUST_LOG` picks the level).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("junction_mcp=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// `tests/node/node_modules/.bin`, from `JUNCTION_TEST_NODE_BIN` or next to the workspace.
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

/// server-everything over stdio.
pub fn everything_stdio(name: &str) -> ClientConfig {
    ClientConfig::new(
        name,
        TransportConfig::Stdio {
            command: everything(),
            args: vec!["stdio".into()],
            env: BTreeMap::new(),
            cwd: None,
        },
    )
}

/// A scratch directory of one test, removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!(
            "junction-mcp-{test}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch { path }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// server-everything over stdio behind `sh`, which appends each started server's pid to
/// `pids` (so a test can count starts and kill the server), and starts it only while `gate`
/// exists (so a test can make restarts fail).
pub fn everything_stdio_tracked(name: &str, pids: &Path, gate: &Path) -> ClientConfig {
    let mut env = BTreeMap::new();
    env.insert("PIDS".to_owned(), pids.display().to_string());
    env.insert("GATE".to_owned(), gate.display().to_string());
    env.insert("SERVER".to_owned(), everything());
    ClientConfig::new(
        name,
        TransportConfig::Stdio {
            command: "sh".into(),
            args: vec![
                "-c".into(),
                r#"[ -e "$GATE" ] || { echo "gate closed" >&2; exit 3; }; echo $$ >> "$PIDS"; exec "$SERVER" stdio"#.into(),
            ],
            env,
            cwd: None,
        },
    )
}

/// The pids written by [`everything_stdio_tracked`], oldest first.
pub fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

pub fn kill_9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid} failed");
}

/// Whether a process (zombie included) still exists.
pub fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Polls `condition` every 20 ms until it holds, failing after `within`.
pub async fn wait_until(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until something accepts connections on `port`.
pub async fn wait_for_port(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// server-everything in `streamableHttp` mode on a port of its own.
pub struct EverythingHttp {
    pub port: u16,
    child: Child,
    /// Sessions the server created (it logs "Session initialized with ID" for each).
    pub sessions: Arc<AtomicUsize>,
    /// Sessions it was asked to end with DELETE.
    pub terminations: Arc<AtomicUsize>,
}

impl EverythingHttp {
    pub async fn start() -> EverythingHttp {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> EverythingHttp {
        let mut child = Command::new(everything())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let sessions = Arc::new(AtomicUsize::new(0));
        let terminations = Arc::new(AtomicUsize::new(0));
        let stdout = child.stdout.take().unwrap();
        let (s, t) = (Arc::clone(&sessions), Arc::clone(&terminations));
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("Session initialized with ID") {
                    s.fetch_add(1, Ordering::SeqCst);
                }
                if line.contains("Received session termination request") {
                    t.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        wait_for_port(port, Duration::from_secs(30)).await;
        EverythingHttp {
            port,
            child,
            sessions,
            terminations,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    pub fn config(&self, name: &str) -> ClientConfig {
        ClientConfig::new(name, TransportConfig::StreamableHttp { url: self.url() })
    }

    /// Kills the server and waits until it is gone (reaped, its port closed).
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// `{"message": "..."}`-style arguments.
pub fn args(value: serde_json::Value) -> Option<serde_json::Map<String, serde_json::Value>> {
    match value {
        serde_json::Value::Object(map) => Some(map),
        other => panic!("arguments must be an object, not {other}"),
    }
}

/// The text of the first text block of a tool result.
pub fn first_text(result: &junction_mcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .find_map(|block| block.as_text().map(|t| t.text.clone()))
        .unwrap_or_else(|| panic!("no text in {result:?}"))
}
