//! `/mcp` over the legacy HTTP+SSE transport (MCP 2024-11-05), and the `x-mcp-servers`
//! header, in front of real servers (server-everything and `mcp-server-time` over stdio).
//!
//! The official `mcp` Python SDK's `sse_client` comes first, as LiteLLM's docs use it. Raw
//! HTTP then pins what it does not show: the 401 challenge and Origin check on both halves,
//! the endpoint event, 404 for unknown or ended sessions, 400 for bodies that are not JSON-RPC,
//! sessions bound to their key, and scoping by path and by header.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::mcp::{self, node_bin, python, venv_bin};
use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};
use tokio::time::Instant;

/// A gateway in front of server-everything (access group `dev`) and mcp-server-time (alias
/// `clock`, access group `ops`); returns once both are healthy.
async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
    access_groups: ["dev"]
  time:
    command: {time}
    alias: clock
    access_groups: ["ops"]
"#,
        everything = node_bin("mcp-server-everything").display(),
        time = venv_bin("mcp-server-time").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| {
        mcp::healthy(h, "everything") && mcp::healthy(h, "time")
    })
    .await;
    gw
}

fn master() -> String {
    format!("Bearer {MASTER_KEY}")
}

const CLOCK_TOOLS: [&str; 2] = ["clock-convert_time", "clock-get_current_time"];

/// One legacy session, spoken by hand: the event stream, and POSTs to its endpoint.
struct Legacy {
    url: String,
    key: String,
    response: reqwest::Response,
    buffer: String,
    /// The `endpoint` event's data, as sent.
    endpoint: String,
}

impl Legacy {
    /// Opens the stream at `path` (with `key` in `x-litellm-api-key`) and reads `endpoint`.
    async fn open(gw: &TestGateway, path: &str, key: &str, headers: &[(&str, &str)]) -> Legacy {
        let response = sse_get(gw, path, Some(key), headers).await;
        assert_eq!(response.status(), 200, "GET {path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "GET {path}"
        );
        let mut session = Legacy {
            url: gw.url.clone(),
            key: key.to_owned(),
            response,
            buffer: String::new(),
            endpoint: String::new(),
        };
        let (event, data) = session.next_event().await;
        assert_eq!(event, "endpoint", "GET {path}: first event");
        session.endpoint = data;
        session
    }

    /// The next event (name, data), skipping comments; bounded by 20 s.
    async fn next_event(&mut self) -> (String, String) {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut event = "message".to_owned();
                    let mut data = Vec::new();
                    for line in block.lines() {
                        if let Some(name) = line.strip_prefix("event: ") {
                            event = name.to_owned();
                        } else if let Some(value) = line.strip_prefix("data: ") {
                            data.push(value);
                        }
                    }
                    if data.is_empty() {
                        continue; // a keep-alive comment
                    }
                    return (event, data.join("\n"));
                }
                let chunk = self
                    .response
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream ended");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("no event within 20 s")
    }

    /// POSTs one message to the endpoint; returns the status and the body.
    async fn post(&self, body: &Value) -> (u16, String) {
        post_to(&self.url, &self.endpoint, Some(&self.key), body).await
    }

    /// A request's JSON-RPC answer, read from the stream.
    async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        let (status, body) = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        assert_eq!(status, 202, "{method}: {body}");
        assert_eq!(body, "", "{method}: the answer comes on the stream");
        loop {
            let (event, data) = self.next_event().await;
            assert_eq!(event, "message");
            let message: Value = serde_json::from_str(&data).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }

    async fn initialize(&mut self) {
        let answer = self
            .request(
                1,
                "initialize",
                json!({
                    "protocolVersion": "2024-11-05",
                    "capabilities": {},
                    "clientInfo": {"name": "junction-test", "version": "1"},
                }),
            )
            .await;
        assert_eq!(
            answer["result"]["serverInfo"]["name"], "junction",
            "{answer}"
        );
        assert_eq!(
            answer["result"]["protocolVersion"], "2024-11-05",
            "{answer}"
        );
        let (status, _) = self
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(status, 202);
    }

    async fn tool_names(&mut self) -> Vec<String> {
        let listed = self.request(2, "tools/list", json!({})).await;
        names_of(&listed)
    }
}

fn names_of(listed: &Value) -> Vec<String> {
    listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn sse_get(
    gw: &TestGateway,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client()
        .get(format!("{}{path}", gw.url))
        .header("accept", "text/event-stream");
    if let Some(key) = key {
        request = request.header("x-litellm-api-key", key);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn post_to(base: &str, path: &str, key: Option<&str>, body: &Value) -> (u16, String) {
    let mut request = client()
        .post(format!("{base}{path}"))
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("x-litellm-api-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// `tools/list` over streamable HTTP on `path`, with `headers` on every request.
async fn streamable_tool_names(
    gw: &TestGateway,
    path: &str,
    headers: &[(&str, &str)],
) -> Vec<String> {
    async fn post(
        gw: &TestGateway,
        path: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (reqwest::header::HeaderMap, Value) {
        let mut request = client()
            .post(format!("{}{path}", gw.url))
            .header("accept", "application/json, text/event-stream")
            .header("x-litellm-api-key", master())
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let headers = response.headers().clone();
        let mut text = String::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(found) = common::sse_data(&text)
                .iter()
                .filter_map(|data| serde_json::from_str::<Value>(data).ok())
                .find(|m| m.get("id").is_some())
            {
                return (headers, found);
            }
        }
        (headers, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "junction-test", "version": "1"},
    }});
    let (answer_headers, _) = post(gw, path, headers, initialize).await;
    let id = answer_headers["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut with_session = headers.to_vec();
    with_session.push(("mcp-session-id", &id));
    with_session.push(("mcp-protocol-version", "2025-06-18"));
    post(
        gw,
        path,
        &with_session,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    let (_, listed) = post(
        gw,
        path,
        &with_session,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    )
    .await;
    names_of(&listed)
}

#[tokio::test]
async fn the_official_mcp_python_sse_client_lists_and_calls_tools() {
    let gw = gateway().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mcp_sse_client.py");
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
        "{} failed (scripts/test installs `mcp` into target/test-venv)\nstdout:\n{stdout}\nstderr:\n{stderr}",
        script.display()
    );
}

#[tokio::test]
async fn a_raw_legacy_session_names_its_endpoint_and_answers_on_the_stream() {
    let gw = gateway().await;
    let mut session = Legacy::open(&gw, "/mcp/", &master(), &[]).await;
    // A path on the gateway's own origin, so clients resolve it against the stream's URL.
    let id = session
        .endpoint
        .strip_prefix("/mcp/message?session_id=")
        .unwrap_or_else(|| panic!("endpoint {}", session.endpoint))
        .to_owned();
    assert_eq!(id.len(), 36, "{id}");
    session.initialize().await;
    let names = session.tool_names().await;
    assert!(names.contains(&"everything-echo".to_owned()), "{names:?}");
    assert!(
        names.contains(&"clock-get_current_time".to_owned()),
        "{names:?}"
    );
    let echoed = session
        .request(
            3,
            "tools/call",
            json!({"name": "everything-echo", "arguments": {"message": "raw"}}),
        )
        .await;
    assert_eq!(
        echoed["result"]["content"],
        json!([{"type": "text", "text": "Echo: raw"}]),
        "{echoed}"
    );

    // LiteLLM's explicit path opens the same kind of session, even without an Accept.
    let response = client()
        .get(format!("{}/mcp/sse", gw.url))
        .header("x-litellm-api-key", master())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    // A GET with a session id is streamable HTTP's stream and still goes to rmcp, which does
    // not know this id.
    let response = sse_get(&gw, "/mcp", Some(&master()), &[("mcp-session-id", &id)]).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn keys_origins_sessions_and_bodies_are_checked() {
    let gw = gateway().await;
    // No key, or a wrong one: 401 with the challenge, on every path form.
    for path in [
        "/mcp",
        "/mcp/",
        "/mcp/sse",
        "/everything/mcp",
        "/mcp/everything",
    ] {
        for key in [None, Some("Bearer sk-wrong")] {
            let response = sse_get(&gw, path, key, &[]).await;
            assert_eq!(response.status(), 401, "GET {path} with {key:?}");
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"junction\""
            );
        }
    }
    let response = sse_get(
        &gw,
        "/mcp/",
        Some(&master()),
        &[("origin", "http://evil.example.com")],
    )
    .await;
    assert_eq!(response.status(), 403);

    let mut session = Legacy::open(&gw, "/mcp/", &master(), &[]).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    // Every POST needs a key, and the one of the session.
    let (status, _) = post_to(&gw.url, &session.endpoint, None, &ping).await;
    assert_eq!(status, 401);
    let other = format!(
        "Bearer {}",
        gw.generate_key(&json!({"object_permission": {"mcp_servers": ["all-proxy-mcpservers"]}}))
            .await
    );
    let (status, body) = post_to(&gw.url, &session.endpoint, Some(&other), &ping).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_to(
        &gw.url,
        "/mcp/message?session_id=00000000-0000-4000-8000-000000000000",
        Some(&master()),
        &ping,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = post_to(&gw.url, "/mcp/message", Some(&master()), &ping).await;
    assert_eq!(status, 400);
    let response = client()
        .post(format!("{}{}", gw.url, session.endpoint))
        .header("x-litellm-api-key", master())
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, _) = session.post(&json!({"no": "jsonrpc"})).await;
    assert_eq!(status, 400);
    // The session still works after the refusals.
    session.initialize().await;
    assert!(!session.tool_names().await.is_empty());

    // A virtual key opens and uses its own session.
    let mut own = Legacy::open(&gw, "/mcp", &other, &[]).await;
    own.initialize().await;
    assert!(!own.tool_names().await.is_empty());

    // When the stream's client goes away, the session ends: its endpoint answers 404.
    let endpoint = session.endpoint.clone();
    drop(session);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = post_to(&gw.url, &endpoint, Some(&master()), &ping).await;
        if status == 404 {
            break;
        }
        assert_eq!(status, 202);
        assert!(Instant::now() < deadline, "the session outlived its stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_scoped_legacy_stream_lists_only_its_servers() {
    let gw = gateway().await;
    for path in ["/everything/mcp", "/mcp/everything"] {
        let mut session = Legacy::open(&gw, path, &master(), &[]).await;
        session.initialize().await;
        let names = session.tool_names().await;
        assert!(
            names.contains(&"everything-echo".to_owned()),
            "{path}: {names:?}"
        );
        assert!(
            names.iter().all(|n| n.starts_with("everything-")),
            "{path}: {names:?}"
        );
        // The endpoint is the same for every scope; the session remembers its own.
        assert!(session.endpoint.starts_with("/mcp/message?session_id="));
        let refused = session
            .request(
                3,
                "tools/call",
                json!({"name": "clock-get_current_time", "arguments": {"timezone": "UTC"}}),
            )
            .await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
    }
    let mut clock = Legacy::open(&gw, "/clock/mcp", &master(), &[]).await;
    clock.initialize().await;
    assert_eq!(clock.tool_names().await, CLOCK_TOOLS);
    let response = sse_get(&gw, "/nope/mcp", Some(&master()), &[]).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn x_mcp_servers_narrows_unscoped_sessions_and_the_path_wins() {
    let gw = gateway().await;
    let all = streamable_tool_names(&gw, "/mcp", &[]).await;
    assert!(all.contains(&"everything-echo".to_owned()), "{all:?}");
    assert!(
        all.contains(&"clock-get_current_time".to_owned()),
        "{all:?}"
    );

    // By name, alias or id, case and spaces aside; unknown entries beside known ones are ignored.
    let time_id = {
        let (_, health) = gw.get("/v1/mcp/server/health", Some(MASTER_KEY)).await;
        health
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["server_name"] == "time")
            .unwrap()["server_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for header in [
        "time",
        "clock",
        " Time ",
        time_id.as_str(),
        "nope, time",
        "ops",
    ] {
        let names = streamable_tool_names(&gw, "/mcp", &[("x-mcp-servers", header)]).await;
        assert_eq!(names, CLOCK_TOOLS, "x-mcp-servers: {header}");
    }
    // An access group selects its servers; several entries add up.
    let dev = streamable_tool_names(&gw, "/mcp/", &[("x-mcp-servers", "dev")]).await;
    assert!(
        !dev.is_empty() && dev.iter().all(|n| n.starts_with("everything-")),
        "{dev:?}"
    );
    let both = streamable_tool_names(&gw, "/mcp", &[("x-mcp-servers", "dev,clock")]).await;
    assert_eq!(both.len(), all.len());
    // Naming nothing known means every server, as in LiteLLM; so does an empty header.
    for header in ["nope", "", " , "] {
        let names = streamable_tool_names(&gw, "/mcp", &[("x-mcp-servers", header)]).await;
        assert_eq!(names, all, "x-mcp-servers: {header:?}");
    }
    // The path overrides the header.
    let names = streamable_tool_names(&gw, "/everything/mcp", &[("x-mcp-servers", "time")]).await;
    assert!(
        names.iter().all(|n| n.starts_with("everything-")),
        "{names:?}"
    );
    let names = streamable_tool_names(&gw, "/mcp/clock", &[("x-mcp-servers", "dev")]).await;
    assert_eq!(names, CLOCK_TOOLS);

    // The legacy stream's GET takes the header too, and the session keeps that scope.
    let mut session = Legacy::open(&gw, "/mcp/", &master(), &[("x-mcp-servers", "time")]).await;
    session.initialize().await;
    assert_eq!(session.tool_names().await, CLOCK_TOOLS);
    let mut session = Legacy::open(
        &gw,
        "/everything/mcp",
        &master(),
        &[("x-mcp-servers", "time")],
    )
    .await;
    session.initialize().await;
    let names = session.tool_names().await;
    assert!(
        names.iter().all(|n| n.starts_with("everything-")),
        "{names:?}"
    );
}
