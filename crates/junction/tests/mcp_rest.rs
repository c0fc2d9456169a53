//! LiteLLM's REST view of the MCP gateway, through the real gateway: `/v1/mcp/server/health`,
//! `/mcp-rest/tools/list`, `/mcp-rest/tools/call` and `/v1/mcp/tools`, in front of real
//! servers (server-everything and `mcp-server-time` over stdio) and one that cannot start.
//!
//! Bodies are compared exactly where LiteLLM clients match them: the REST facade's error
//! codes and messages, and the 403 sentences of `allowed_params`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::mcp::{self, node_bin, venv_bin};
use common::{MASTER_KEY, TestGateway};
use serde_json::{Value, json};
use tokio::time::Instant;

/// LiteLLM's ids of the servers below, computed with Python:
/// `hashlib.sha256(b"time||MCPTransport.http||clock").hexdigest()[:32]` (no `url`, no
/// `transport` key, alias `clock`), and likewise for the others.
const TIME_ID: &str = "d7249014df9d87ab4f3ccb52417d1392";
const EVERYTHING_ID: &str = "879a66c51958fc22047a67b763e0ce0d";
const BROKEN_ID: &str = "c1c7d241bbdb02d2459632b8945395fe";

/// A gateway in front of three servers: two that work, with a filter and an alias, and one
/// whose command does not exist. Returns once the working ones are healthy and the broken one
/// has failed (polled with a deadline).
async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
    description: The MCP reference server
    allowed_params:
      echo: ["message"]
    mcp_info:
      logo_url: https://example.com/logo.png
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
    mcp::wait_for_servers(&gw, |health| {
        let status_of = |name: &str| {
            health
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["server_name"] == name)
                .map(|h| h["status"].as_str().unwrap().to_owned())
                .unwrap()
        };
        status_of("everything") == "healthy"
            && status_of("time") == "healthy"
            && status_of("broken") == "unhealthy"
    })
    .await;
    gw
}

fn names(tools: &Value) -> Vec<String> {
    tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn health_reports_every_server() {
    let gw = gateway().await;
    let (status, health) = gw.get("/v1/mcp/server/health", Some(MASTER_KEY)).await;
    assert_eq!(status, 200);
    let entries = health.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let broken = &entries[0];
    assert_eq!(broken["server_name"], "broken");
    assert_eq!(broken["server_id"], BROKEN_ID);
    assert_eq!(broken["status"], "unhealthy");
    assert_eq!(broken["tools_count"], 0);
    assert!(
        broken["error"]
            .as_str()
            .unwrap()
            .contains("cannot start \"/nonexistent/junction-no-such-server\""),
        "{broken}"
    );
    let everything = &entries[1];
    assert_eq!(everything["server_id"], EVERYTHING_ID);
    assert_eq!(everything["status"], "healthy");
    assert_eq!(everything["error"], Value::Null);
    assert!(everything["tools_count"].as_u64().unwrap() >= 10);
    assert!(everything["last_health_check"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(entries[2]["server_id"], TIME_ID);
    assert_eq!(entries[2]["tools_count"], 2);

    // Selected by id (LiteLLM's) or name, in the order asked; unknown ids say so.
    let (status, some) = gw
        .get(
            &format!(
                "/v1/mcp/server/health?server_ids={TIME_ID}&server_ids=broken&server_ids=nope"
            ),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(status, 200);
    let some = some.as_array().unwrap();
    assert_eq!(some.len(), 3);
    assert_eq!(some[0]["server_name"], "time");
    assert_eq!(some[1]["server_name"], "broken");
    assert_eq!(
        some[2],
        json!({"server_id": "nope", "server_name": null, "status": "unknown",
               "tools_count": 0, "last_health_check": null, "error": "MCP server not found"})
    );
}

#[tokio::test]
async fn rest_list_gives_upstream_names_with_their_server() {
    let gw = gateway().await;
    let (status, body) = gw.get("/mcp-rest/tools/list", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{body}");
    let tools = &body["tools"];
    let listed = names(tools);
    assert!(listed.contains(&"echo".to_owned()), "{listed:?}");
    assert!(listed.contains(&"get_current_time".to_owned()));
    assert!(listed.iter().all(|n| !n.starts_with("everything-")));
    let echo = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "echo")
        .unwrap();
    assert!(echo["description"].as_str().unwrap().contains("Echo"));
    assert_eq!(
        echo["inputSchema"]["properties"]["message"]["type"],
        "string"
    );
    assert_eq!(
        echo["mcp_info"],
        json!({
            "server_name": "everything",
            "server_id": EVERYTHING_ID,
            "description": "The MCP reference server",
            "logo_url": "https://example.com/logo.png",
        })
    );
    let time = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "get_current_time")
        .unwrap();
    assert_eq!(
        time["mcp_info"],
        json!({"server_name": "time", "server_id": TIME_ID, "alias": "clock"})
    );
    // The broken server is named, the others' tools are still there.
    assert_eq!(body["error"], "partial_failure");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Failed to get tools from servers: broken: cannot connect to MCP server broken: cannot start"
        ),
        "{message}"
    );

    let (status, body) = gw
        .get(
            &format!("/mcp-rest/tools/list?server_id={TIME_ID}"),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(names(&body["tools"]), ["get_current_time", "convert_time"]);
    assert_eq!(body["error"], Value::Null);
    assert_eq!(body["message"], "Successfully retrieved tools");

    let (status, body) = gw
        .get("/mcp-rest/tools/list?server_id=nope", Some(MASTER_KEY))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"tools": [], "error": "server_not_found", "message": "Server with id nope not found"})
    );
}

#[tokio::test]
async fn rest_call_answers_in_litellms_shapes() {
    let gw = gateway().await;
    let call = |body: Value| {
        let gw = &gw;
        async move {
            gw.post("/mcp-rest/tools/call", Some(MASTER_KEY), &body)
                .await
        }
    };

    let (status, result) = call(json!({
        "server_id": EVERYTHING_ID, "name": "echo", "arguments": {"message": "hi"}
    }))
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result["content"],
        json!([{"type": "text", "text": "Echo: hi"}])
    );
    assert_ne!(result["isError"], true);
    // By name too, and a tool's own failure is its answer, not an HTTP error.
    let (status, result) = call(json!({
        "server_id": "time", "name": "get_current_time", "arguments": {"timezone": "Not/A_Zone"}
    }))
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["isError"], true);
    // structuredContent comes through as the server sent it.
    let (status, result) = call(json!({
        "server_id": "everything", "name": "get-structured-content",
        "arguments": {"location": "New York"}
    }))
    .await;
    assert_eq!(status, 200, "{result}");
    assert!(result["structuredContent"].is_object(), "{result}");

    let (status, body) = call(json!({"name": "echo", "arguments": {}})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "missing_parameter", "message": "server_id is required in request body"})
    );
    let (status, body) = call(json!({"server_id": "nope", "name": "echo"})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "server_not_found", "message": "Server with id nope not found"})
    );
    let (status, body) = call(json!({
        "server_id": "everything", "name": "echo", "arguments": {"message": "x", "limit": 5}
    }))
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "Parameters ['limit'] are not allowed for tool echo. Allowed parameters: ['message']. Contact proxy admin to allow these parameters."})
    );
    // A server without a session: the gateway knows before asking anyone.
    let (status, body) = call(json!({"server_id": "broken", "name": "x"})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "server_unavailable");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("MCP server broken is unavailable: ")
    );
    // What the upstream says about a tool it does not have is its answer too.
    let (status, result) = call(json!({"server_id": "everything", "name": "no-such-tool"})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["isError"], true);
}

#[tokio::test]
async fn upstream_failures_are_502_and_timeouts_504() {
    let dir = std::env::temp_dir().join(format!("junction-mcp-rest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (gate, pid_file) = (dir.join("gate"), dir.join("pid"));
    std::fs::write(&gate, "").unwrap();
    let everything = node_bin("mcp-server-everything");
    // `fragile` starts only while the gate file exists, and writes its pid.
    let yaml = format!(
        r#"
mcp_servers:
  fragile:
    command: sh
    args: ["-c", "[ -e {gate} ] || exit 3; echo $$ > {pid}; exec {everything} stdio"]
  slowpoke:
    command: {everything}
    args: ["stdio"]
    timeout: 0.5
"#,
        gate = gate.display(),
        pid = pid_file.display(),
        everything = everything.display(),
    );
    let gw = TestGateway::start(&yaml).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, health) = gw.get("/v1/mcp/server/health", Some(MASTER_KEY)).await;
        if health
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["status"] == "healthy")
        {
            break;
        }
        assert!(Instant::now() < deadline, "servers not ready: {health}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Longer than the server's `timeout`: the gateway gives up, and says so.
    let (status, body) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(MASTER_KEY),
            &json!({"server_id": "slowpoke", "name": "trigger-long-running-operation",
                    "arguments": {"duration": 5, "steps": 1}}),
        )
        .await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"], "upstream_timeout");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("MCP server slowpoke did not answer tools/call within"),
        "{body}"
    );

    // The server dies and cannot come back: the call fails as a bad gateway.
    std::fs::remove_file(&gate).unwrap();
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (status, body) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(MASTER_KEY),
            &json!({"server_id": "fragile", "name": "echo", "arguments": {"message": "x"}}),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "upstream_error");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("MCP server fragile"),
        "{body}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn v1_mcp_tools_lists_prefixed_names() {
    let gw = gateway().await;
    let (status, body) = gw.get("/v1/mcp/tools", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{body}");
    let listed = names(&body["tools"]);
    for expected in [
        "everything-echo",
        "everything-get-sum",
        "clock-get_current_time",
    ] {
        assert!(
            listed.contains(&expected.to_owned()),
            "{expected}: {listed:?}"
        );
    }
    assert!(!listed.iter().any(|n| n.starts_with("broken")));
    let echo = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "everything-echo")
        .unwrap();
    assert_eq!(
        echo["inputSchema"]["properties"]["message"]["type"],
        "string"
    );
    assert_eq!(echo["annotations"]["readOnlyHint"], true);
    // Which server serves it, and the name `/mcp-rest/tools/call` takes.
    assert_eq!(echo["mcp_info"]["server_name"], "everything");
    assert_eq!(echo["mcp_info"]["original_name"], "echo");
    assert!(
        echo["mcp_info"]["server_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
}

#[tokio::test]
async fn every_route_needs_a_key_and_any_valid_key_will_do() {
    let gw = gateway().await;
    for path in [
        "/v1/mcp/server/health",
        "/v1/mcp/tools",
        "/mcp-rest/tools/list",
    ] {
        let (status, body) = gw.get(path, None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["code"], "401");
        let (status, _) = gw.get(path, Some("sk-not-a-key")).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, _) = gw
        .post(
            "/mcp-rest/tools/call",
            None,
            &json!({"server_id": "everything", "name": "echo", "arguments": {"message": "x"}}),
        )
        .await;
    assert_eq!(status, 401);

    let key = gw
        .generate_key(
            &json!({"models": ["gpt-4o"], "object_permission": {"mcp_servers": ["everything"]}}),
        )
        .await;
    let (status, body) = gw.get("/mcp-rest/tools/list", Some(&key)).await;
    assert_eq!(status, 200, "{body}");
    let (status, result) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&key),
            &json!({"server_id": "everything", "name": "echo", "arguments": {"message": "k"}}),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["content"][0]["text"], "Echo: k");
}

/// A key whose budget is spent may still list tools, but no tool call reaches a server:
/// `/mcp-rest` answers LiteLLM's 429, `/mcp` a JSON-RPC error with the same sentence.
#[tokio::test]
async fn a_key_over_its_budget_lists_tools_but_cannot_call_them() {
    let gw = gateway().await;
    let spent = gw
        .generate_key(
            &json!({"max_budget": 0.0, "object_permission": {"mcp_servers": ["everything"]}}),
        )
        .await;

    let (status, body) = gw.get("/mcp-rest/tools/list", Some(&spent)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&spent),
            &json!({"server_id": "everything", "name": "echo", "arguments": {"message": "x"}}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "budget_exceeded");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Budget has been exceeded!"),
        "{body}"
    );

    let auth = [("x-litellm-api-key", spent.as_str())];
    let init = mcp::post(&gw, "/mcp", &auth, &mcp::initialize_body()).await;
    assert_eq!(init.status, 200, "{}", init.message);
    let session = init.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let headers = [
        ("x-litellm-api-key", spent.as_str()),
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let listed = mcp::post(&gw, "/mcp", &headers, &list).await.message;
    assert!(
        listed["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{listed}"
    );
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                      "params": {"name": "everything-echo", "arguments": {"message": "x"}}});
    let answer = mcp::post(&gw, "/mcp", &headers, &call).await.message;
    assert!(answer.get("result").is_none(), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Budget has been exceeded!"),
        "{answer}"
    );

    // A key with budget left calls as usual.
    let funded = gw
        .generate_key(
            &json!({"max_budget": 10.0, "object_permission": {"mcp_servers": ["everything"]}}),
        )
        .await;
    let (status, result) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&funded),
            &json!({"server_id": "everything", "name": "echo", "arguments": {"message": "k"}}),
        )
        .await;
    assert_eq!(status, 200, "{result}");
}
