//! The gateway's own MCP endpoint (`/mcp`, streamable HTTP) in front of real servers
//! (server-everything and `mcp-server-time` over stdio, and one that cannot start).
//!
//! Real clients come first: the official `mcp` Python SDK and fastmcp with the config dict of
//! LiteLLM's docs (installed by `scripts/test` into `target/test-venv`). Raw HTTP then pins
//! what those clients do not show: the 401 challenge, the Origin check, scoping by path, and
//! the JSON-RPC errors with LiteLLM's exact refusal text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};
use tokio::time::Instant;

/// `tests/node/node_modules/.bin/<name>`, from `JUNCTION_TEST_NODE_BIN` or the workspace.
fn node_bin(name: &str) -> PathBuf {
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
fn venv_bin(name: &str) -> PathBuf {
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

/// A gateway in front of server-everything (with `allowed_params`), mcp-server-time (alias
/// `clock`) and a server that cannot start; returns once the first two are healthy.
async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
    allowed_params:
      echo: ["message"]
  time:
    command: {time}
    alias: clock
  broken:
    command: /nonexistent/junction-no-such-server
"#,
        everything = node_bin("mcp-server-everything").display(),
        time = venv_bin("mcp-server-time").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, health) = gw.get("/v1/mcp/server/health", Some(MASTER_KEY)).await;
        assert_eq!(status, 200, "{health}");
        let healthy = |name: &str| {
            health.as_array().unwrap().iter().any(|h| {
                h["server_name"] == name && h["status"] == "healthy" && h["tools_count"] != 0
            })
        };
        if healthy("everything") && healthy("time") {
            return gw;
        }
        assert!(
            Instant::now() < deadline,
            "servers not ready within 60 s: {health}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One HTTP answer of the endpoint: status, headers, and the JSON-RPC message it carried
/// (from a JSON body or the first SSE event that is one), or the JSON body of an HTTP error.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    message: Value,
}

async fn post(gw: &TestGateway, path: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
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
            && let Some(found) = common::sse_data(&text)
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

fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "junction-test", "version": "1"},
    }})
}

/// An initialized MCP session on one endpoint path.
struct Session<'a> {
    gw: &'a TestGateway,
    path: String,
    id: String,
}

impl<'a> Session<'a> {
    async fn open(gw: &'a TestGateway, path: &str) -> Session<'a> {
        let key = format!("Bearer {MASTER_KEY}");
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
        };
        let notified = session
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(notified.status, 202);
        session
    }

    async fn send(&self, body: &Value) -> Answer {
        let key = format!("Bearer {MASTER_KEY}");
        let headers = [
            ("x-litellm-api-key", key.as_str()),
            ("mcp-session-id", self.id.as_str()),
            ("mcp-protocol-version", "2025-06-18"),
        ];
        post(self.gw, &self.path, &headers, body).await
    }

    /// A request's JSON-RPC answer (`result` or `error`).
    async fn request(&self, method: &str, params: Value) -> Value {
        let answer = self
            .send(&json!({"jsonrpc": "2.0", "id": 2, "method": method, "params": params}))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.message);
        answer.message
    }

    async fn tool_names(&self) -> Vec<String> {
        let listed = self.request("tools/list", json!({})).await;
        listed["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{listed}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn call(&self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }
}

fn python() -> PathBuf {
    std::env::var_os("JUNCTION_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| venv_bin("python"))
}

async fn run_python(script: &str, gw: &TestGateway) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let python = python();
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(&python)
            .arg(&script)
            .args([&gw.url, MASTER_KEY])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{} did not finish within 120 s", script.display()))
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("ALL OK"),
        "{} failed (scripts/test installs `mcp` and `fastmcp` into target/test-venv)\nstdout:\n{stdout}\nstderr:\n{stderr}",
        script.display()
    );
    // The clients end their session with DELETE and log an error unless it answers 200/204.
    assert!(
        !stderr.contains("Session termination failed"),
        "{}: the session DELETE was not acknowledged the way clients expect:\n{stderr}",
        script.display()
    );
}

#[tokio::test]
async fn the_official_mcp_python_sdk_lists_and_calls_tools() {
    let gw = gateway().await;
    run_python("mcp_client.py", &gw).await;
}

#[tokio::test]
async fn fastmcp_with_litellms_config_dict_lists_and_calls_tools() {
    let gw = gateway().await;
    run_python("fastmcp_client.py", &gw).await;
}

#[tokio::test]
async fn without_a_valid_key_the_answer_is_401_with_a_bearer_challenge() {
    let gw = gateway().await;
    for headers in [
        vec![],
        vec![("x-litellm-api-key", "Bearer sk-not-a-key")],
        vec![("authorization", "Bearer sk-not-a-key")],
    ] {
        for path in ["/mcp", "/mcp/", "/mcp/everything", "/everything/mcp"] {
            let answer = post(&gw, path, &headers, &initialize_body()).await;
            assert_eq!(answer.status, 401, "{path} {headers:?}: {}", answer.message);
            assert_eq!(
                answer.headers["www-authenticate"],
                "Bearer realm=\"junction\""
            );
            assert_eq!(answer.message["error"]["code"], "401", "{}", answer.message);
        }
    }
    // `Authorization` alone is the gateway key too, and a virtual key works like the master key.
    let key = gw.generate_key(&json!({})).await;
    let bearer = format!("Bearer {key}");
    let answer = post(
        &gw,
        "/mcp",
        &[("authorization", &bearer)],
        &initialize_body(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.message);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_local_or_own_origins_pass() {
    let gw = gateway().await;
    let key = format!("Bearer {MASTER_KEY}");
    let refused = post(
        &gw,
        "/mcp",
        &[
            ("x-litellm-api-key", &key),
            ("origin", "http://evil.example.com"),
        ],
        &initialize_body(),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.message);
    // Refused before authentication: a page on another site learns nothing about keys.
    let refused = post(
        &gw,
        "/mcp",
        &[("origin", "http://evil.example.com")],
        &initialize_body(),
    )
    .await;
    assert_eq!(refused.status, 403);
    let own = gw.url.replace("http://", "");
    for origin in ["http://localhost:6274", gw.url.as_str()] {
        let answer = post(
            &gw,
            "/mcp",
            &[
                ("x-litellm-api-key", &key),
                ("origin", origin),
                ("host", &own),
            ],
            &initialize_body(),
        )
        .await;
        assert_eq!(answer.status, 200, "{origin}: {}", answer.message);
    }
}

#[tokio::test]
async fn every_path_form_serves_its_scope_without_redirects() {
    let gw = gateway().await;
    let all = Session::open(&gw, "/mcp").await.tool_names().await;
    assert!(all.contains(&"everything-echo".to_owned()), "{all:?}");
    assert!(
        all.contains(&"clock-get_current_time".to_owned()),
        "{all:?}"
    );
    assert_eq!(Session::open(&gw, "/mcp/").await.tool_names().await, all);

    for path in ["/mcp/everything", "/everything/mcp"] {
        let names = Session::open(&gw, path).await.tool_names().await;
        assert!(
            names.contains(&"everything-echo".to_owned()),
            "{path}: {names:?}"
        );
        assert!(
            names.iter().all(|n| n.starts_with("everything-")),
            "{path}: {names:?}"
        );
    }
    // By alias or name, several at once.
    let names = Session::open(&gw, "/mcp/everything,clock")
        .await
        .tool_names()
        .await;
    assert_eq!(names.len(), all.len());
    let clock = Session::open(&gw, "/clock/mcp").await.tool_names().await;
    assert_eq!(clock, ["clock-convert_time", "clock-get_current_time"]);

    // A tool outside the scope is unknown there.
    let scoped = Session::open(&gw, "/mcp/everything").await;
    let refused = scoped
        .call("clock-get_current_time", json!({"timezone": "UTC"}))
        .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "unknown tool clock-get_current_time"
    );

    let key = format!("Bearer {MASTER_KEY}");
    for path in ["/nope/mcp", "/mcp/nope", "/mcp/everything,nope"] {
        let answer = post(
            &gw,
            path,
            &[("x-litellm-api-key", &key)],
            &initialize_body(),
        )
        .await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.message);
        assert_eq!(
            answer.message["error"]["message"], "MCP server 'nope' not found",
            "{path}"
        );
    }
}

#[tokio::test]
async fn calls_pass_results_through_and_refusals_are_json_rpc_errors() {
    let gw = gateway().await;
    let session = Session::open(&gw, "/mcp").await;

    let echoed = session
        .call("everything-echo", json!({"message": "hello"}))
        .await;
    assert_eq!(
        echoed["result"]["content"],
        json!([{"type": "text", "text": "Echo: hello"}]),
        "{echoed}"
    );

    let refused = session
        .call("everything-echo", json!({"message": "hello", "extra": 1}))
        .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "Parameters ['extra'] are not allowed for tool echo. Allowed parameters: ['message']. \
         Contact proxy admin to allow these parameters."
    );

    let unknown = session.call("everything-no_such_tool", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert_eq!(
        unknown["error"]["message"],
        "unknown tool everything-no_such_tool"
    );

    // A server that is down answers as a failed tool, in words the model can read.
    let down = session.call("broken-anything", json!({})).await;
    assert_eq!(down["result"]["isError"], true, "{down}");
    let text = down["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Error: MCP server broken is unavailable"),
        "{text}"
    );
}
