//! Helpers of the MCP gateway tests: where the third-party MCP peers are, waiting for the
//! gateway's upstreams, a minimal streamable-HTTP MCP session over raw HTTP, and a header
//! echoing upstream.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::{MASTER_KEY, TestGateway, client};

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

/// A command of the Python test venv: `target/test-venv/bin`, else from `PATH`.
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-venv/bin")
        .join(name);
    if venv.exists() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.exists())
        })
        .unwrap_or_else(|| {
            panic!("{name} is missing: run scripts/test (it installs tests/requirements.txt into target/test-venv)")
        })
}

/// The test venv's Python (`JUNCTION_TEST_PYTHON` first).
pub fn python() -> PathBuf {
    std::env::var_os("JUNCTION_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| venv_bin("python"))
}

/// Polls `/v1/mcp/server/health` until `ready(health)` holds (60 s at most).
pub async fn wait_for_servers(gw: &TestGateway, ready: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, health) = gw.get("/v1/mcp/server/health", Some(MASTER_KEY)).await;
        assert_eq!(status, 200, "{health}");
        if ready(&health) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "servers not ready within 60 s: {health}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `name` is healthy in a health answer and has listed its catalog.
pub fn healthy(health: &Value, name: &str) -> bool {
    health
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["server_name"] == name && h["status"] == "healthy" && h["tools_count"] != 0)
}

/// One HTTP answer of the endpoint: status, headers, and the JSON-RPC message it carried
/// (from a JSON body or the first SSE event that is one), or the JSON body of an HTTP error.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub message: Value,
}

pub async fn post(gw: &TestGateway, path: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
    let mut request = client()
        .post(format!("{}{path}", gw.url))
        .header("accept", "application/json, text/event-stream")
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let is_sse = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    let mut text = String::new();
    let mut message = Value::Null;
    // An SSE stream may stay open after the response; read until the response arrives.
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
        if is_sse
            && let Some(found) = super::sse_data(&text)
                .iter()
                .filter_map(|data| serde_json::from_str::<Value>(data).ok())
                .find(|m| m.get("id").is_some())
        {
            message = found;
            break;
        }
    }
    if !is_sse {
        message = serde_json::from_str(&text).unwrap_or(Value::Null);
    }
    Answer {
        status,
        headers,
        message,
    }
}

pub fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "junction-test", "version": "1"},
    }})
}

/// An initialized MCP session on one endpoint path, with the master key or another.
pub struct Session<'a> {
    gw: &'a TestGateway,
    path: String,
    id: String,
    key: String,
    /// The `initialize` result.
    pub initialized: Value,
}

impl<'a> Session<'a> {
    /// Initializes (the gateway must answer as `junction`, with tool list changes) and sends
    /// `notifications/initialized`.
    pub async fn open(gw: &'a TestGateway, path: &str) -> Session<'a> {
        Self::open_with_key(gw, path, MASTER_KEY).await
    }

    /// [`Session::open`] with `key`.
    pub async fn open_with_key(gw: &'a TestGateway, path: &str, key: &str) -> Session<'a> {
        let key = format!("Bearer {key}");
        let answer = post(gw, path, &[("x-litellm-api-key", &key)], &initialize_body()).await;
        assert_eq!(answer.status, 200, "{}", answer.message);
        assert_eq!(answer.message["result"]["serverInfo"]["name"], "junction");
        assert_eq!(
            answer.message["result"]["capabilities"]["tools"]["listChanged"],
            true
        );
        let id = answer.headers["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let session = Session {
            gw,
            path: path.to_owned(),
            id,
            key,
            initialized: answer.message["result"].clone(),
        };
        let notified = session
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(notified.status, 202);
        session
    }

    pub async fn send(&self, body: &Value) -> Answer {
        self.send_with(&[], body).await
    }

    /// [`Session::send`] with more request headers.
    pub async fn send_with(&self, extra: &[(&str, &str)], body: &Value) -> Answer {
        let mut headers = vec![
            ("x-litellm-api-key", self.key.as_str()),
            ("mcp-session-id", self.id.as_str()),
            ("mcp-protocol-version", "2025-06-18"),
        ];
        headers.extend_from_slice(extra);
        post(self.gw, &self.path, &headers, body).await
    }

    /// [`Session::request`] with more request headers.
    pub async fn request_with(&self, extra: &[(&str, &str)], method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 2, "method": method, "params": params});
        let answer = self.send_with(extra, &body).await;
        assert_eq!(answer.status, 200, "{}", answer.message);
        answer.message
    }

    /// A request's JSON-RPC answer (`result` or `error`).
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let answer = self
            .send(&json!({"jsonrpc": "2.0", "id": 2, "method": method, "params": params}))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.message);
        answer.message
    }

    /// The `field` of every item a list method returns under `key`.
    pub async fn listed(&self, method: &str, key: &str, field: &str) -> Vec<String> {
        let listed = self.request(method, json!({})).await;
        listed["result"][key]
            .as_array()
            .unwrap_or_else(|| panic!("{method}: {listed}"))
            .iter()
            .map(|item| item[field].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn tool_names(&self) -> Vec<String> {
        self.listed("tools/list", "tools", "name").await
    }

    pub async fn call(&self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }
}

/// A real `fastmcp` server (`python/header_echo_server.py`) on a free port, whose tools
/// answer with the headers they were called with; killed when dropped.
pub struct EchoServer {
    pub url: String,
    _child: Child,
}

impl EchoServer {
    /// `tokens`: the bearer tokens it accepts (none: it accepts anything).
    pub async fn start(tokens: &[&str]) -> EchoServer {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/python/header_echo_server.py");
        let child = Command::new(python())
            .arg(script)
            .arg(port.to_string())
            .arg(tokens.join(","))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the echo server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        EchoServer {
            url: format!("http://127.0.0.1:{port}/mcp"),
            _child: child,
        }
    }
}
