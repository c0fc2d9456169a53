//! Prompts, resources and resource templates through the gateway's own MCP endpoint (`/mcp`,
//! streamable HTTP), in front of real servers: server-everything over stdio (prompts, static
//! documents, templates), `mcp-server-time` (alias `clock`, none of those) and a server that
//! cannot start. Raw JSON-RPC over HTTP, as any client sends it.
//!
//! What is pinned: names prefixed as tools are, unique URIs unchanged, requests routed to the
//! right server with the upstream's own name and URI, scoping by path (what is outside the
//! scope is unknown), and the JSON-RPC error codes: -32602 for an unknown prompt, -32002 for
//! an unknown resource, -32603 naming the server when it is down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};
use tokio::time::Instant;

const ARCHITECTURE: &str = "demo://resource/static/document/architecture.md";
const TEXT_TEMPLATE: &str = "demo://resource/dynamic/text/{resourceId}";

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

/// A gateway in front of server-everything, mcp-server-time (alias `clock`) and a server
/// that cannot start; returns once the first two are in the catalog.
async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
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
        // `tools_count` comes from the catalog, which holds prompts and resources too.
        let listed = |name: &str| {
            health.as_array().unwrap().iter().any(|h| {
                h["server_name"] == name && h["status"] == "healthy" && h["tools_count"] != 0
            })
        };
        if listed("everything") && listed("time") {
            return gw;
        }
        assert!(
            Instant::now() < deadline,
            "servers not ready within 60 s: {health}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One HTTP answer: status, headers, and the JSON-RPC message it carried (from a JSON body or
/// the first SSE event that is a response).
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

/// An initialized MCP session on one endpoint path.
struct Session<'a> {
    gw: &'a TestGateway,
    path: String,
    id: String,
}

impl<'a> Session<'a> {
    async fn open(gw: &'a TestGateway, path: &str) -> Session<'a> {
        let key = format!("Bearer {MASTER_KEY}");
        let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "junction-test", "version": "1"},
        }});
        let answer = post(gw, path, &[("x-litellm-api-key", &key)], &initialize).await;
        assert_eq!(answer.status, 200, "{}", answer.message);
        let capabilities = &answer.message["result"]["capabilities"];
        assert_eq!(
            capabilities["prompts"]["listChanged"], true,
            "{capabilities}"
        );
        assert_eq!(
            capabilities["resources"]["listChanged"], true,
            "{capabilities}"
        );
        assert_eq!(capabilities["tools"]["listChanged"], true, "{capabilities}");
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

    /// The `field` of every item a list method returns under `key`.
    async fn listed(&self, method: &str, key: &str, field: &str) -> Vec<String> {
        let listed = self.request(method, json!({})).await;
        listed["result"][key]
            .as_array()
            .unwrap_or_else(|| panic!("{method}: {listed}"))
            .iter()
            .map(|item| item[field].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn prompts_are_listed_prefixed_and_filled_in_on_their_server() {
    let gw = gateway().await;
    let session = Session::open(&gw, "/mcp").await;

    let listed = session.request("prompts/list", json!({})).await;
    let prompts = listed["result"]["prompts"].as_array().unwrap();
    let names: Vec<&str> = prompts
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in ["everything-simple-prompt", "everything-args-prompt"] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    // Only the name changes.
    let args_prompt = prompts
        .iter()
        .find(|p| p["name"] == "everything-args-prompt")
        .unwrap();
    assert_eq!(args_prompt["title"], "Arguments Prompt");
    assert_eq!(args_prompt["arguments"][0]["name"], "city");
    assert_eq!(args_prompt["arguments"][0]["required"], true);

    let filled = session
        .request(
            "prompts/get",
            json!({"name": "everything-args-prompt", "arguments": {"city": "Paris"}}),
        )
        .await;
    assert_eq!(
        filled["result"]["messages"],
        json!([{"role": "user", "content": {"type": "text", "text": "What's weather in Paris?"}}]),
        "{filled}"
    );
    let simple = session
        .request("prompts/get", json!({"name": "everything-simple-prompt"}))
        .await;
    assert_eq!(
        simple["result"]["messages"][0]["content"]["text"],
        "This is a simple prompt without arguments.",
        "{simple}"
    );

    let unknown = session
        .request("prompts/get", json!({"name": "everything-no-such-prompt"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert_eq!(
        unknown["error"]["message"],
        "unknown prompt everything-no-such-prompt"
    );
    // A server that is down: an internal error that names it.
    let down = session
        .request("prompts/get", json!({"name": "broken-anything"}))
        .await;
    assert_eq!(down["error"]["code"], -32603, "{down}");
    let message = down["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("MCP server broken is unavailable"),
        "{message}"
    );

    // Scoped to the clock: it has no prompts, and everything's are unknown there.
    let clock = Session::open(&gw, "/clock/mcp").await;
    assert_eq!(
        clock.listed("prompts/list", "prompts", "name").await,
        Vec::<String>::new()
    );
    let outside = clock
        .request("prompts/get", json!({"name": "everything-simple-prompt"}))
        .await;
    assert_eq!(outside["error"]["code"], -32602, "{outside}");
    assert_eq!(
        outside["error"]["message"],
        "unknown prompt everything-simple-prompt"
    );
    // Within everything's scope, the bare name is enough.
    let scoped = Session::open(&gw, "/mcp/everything").await;
    let bare = scoped
        .request("prompts/get", json!({"name": "simple-prompt"}))
        .await;
    assert_eq!(
        bare["result"]["messages"][0]["content"]["text"],
        "This is a simple prompt without arguments.",
        "{bare}"
    );
}

#[tokio::test]
async fn resources_and_templates_are_listed_and_read_from_their_server() {
    let gw = gateway().await;
    let session = Session::open(&gw, "/mcp").await;

    let listed = session.request("resources/list", json!({})).await;
    let resources = listed["result"]["resources"].as_array().unwrap();
    let document = resources
        .iter()
        .find(|r| r["uri"] == ARCHITECTURE)
        .unwrap_or_else(|| panic!("{ARCHITECTURE} missing: {listed}"));
    assert_eq!(document["name"], "everything-architecture.md");
    assert_eq!(document["mimeType"], "text/markdown");
    assert!(
        resources
            .iter()
            .filter(|r| r["uri"]
                .as_str()
                .unwrap()
                .starts_with("demo://resource/static/document/"))
            .count()
            >= 3,
        "{listed}"
    );

    let read = session
        .request("resources/read", json!({"uri": ARCHITECTURE}))
        .await;
    let content = &read["result"]["contents"][0];
    assert_eq!(content["uri"], ARCHITECTURE, "{read}");
    assert_eq!(content["mimeType"], "text/markdown");
    assert!(!content["text"].as_str().unwrap().is_empty(), "{read}");

    let templates = session
        .listed(
            "resources/templates/list",
            "resourceTemplates",
            "uriTemplate",
        )
        .await;
    assert!(
        templates.iter().any(|t| t == TEXT_TEMPLATE),
        "{templates:?}"
    );
    let names = session
        .listed("resources/templates/list", "resourceTemplates", "name")
        .await;
    assert!(
        names
            .iter()
            .any(|n| n == "everything-Dynamic Text Resource"),
        "{names:?}"
    );
    // An expansion of a template goes to the template's server.
    let expanded = session
        .request(
            "resources/read",
            json!({"uri": "demo://resource/dynamic/text/7"}),
        )
        .await;
    assert_eq!(
        expanded["result"]["contents"][0]["uri"], "demo://resource/dynamic/text/7",
        "{expanded}"
    );

    let unknown = session
        .request("resources/read", json!({"uri": "nowhere://x"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32002, "{unknown}");
    assert_eq!(unknown["error"]["message"], "unknown resource nowhere://x");

    // Scoped to the clock: everything's resources are neither listed nor readable there.
    let clock = Session::open(&gw, "/clock/mcp").await;
    let uris = clock.listed("resources/list", "resources", "uri").await;
    assert!(!uris.iter().any(|u| u.starts_with("demo://")), "{uris:?}");
    let templates = clock
        .listed(
            "resources/templates/list",
            "resourceTemplates",
            "uriTemplate",
        )
        .await;
    assert!(
        !templates.iter().any(|t| t == TEXT_TEMPLATE),
        "{templates:?}"
    );
    let outside = clock
        .request("resources/read", json!({"uri": ARCHITECTURE}))
        .await;
    assert_eq!(outside["error"]["code"], -32002, "{outside}");
    assert_eq!(
        outside["error"]["message"],
        format!("unknown resource {ARCHITECTURE}")
    );
}
