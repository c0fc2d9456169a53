//! The gateway's own MCP endpoint (`/mcp`, streamable HTTP) in front of real servers
//! (server-everything and `mcp-server-time` over stdio, and one that cannot start).
//!
//! Real clients come first: the official `mcp` Python SDK and fastmcp with the config dict of
//! LiteLLM's docs (installed by `scripts/test` into `target/test-venv`). Raw HTTP then pins
//! what those clients do not show: the 401 challenge, the Origin check, scoping by path, and
//! the JSON-RPC errors with LiteLLM's exact refusal text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::mcp::{self, Session, initialize_body, node_bin, post, python, venv_bin};
use common::{MASTER_KEY, TestGateway};
use serde_json::json;

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
    mcp::wait_for_servers(&gw, |h| {
        mcp::healthy(h, "everything") && mcp::healthy(h, "time")
    })
    .await;
    gw
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
    // `Authorization` alone is the gateway key too, and a virtual key with MCP access works
    // like the master key.
    let key = gw
        .generate_key(&json!({"object_permission": {"mcp_servers": ["all-proxy-mcpservers"]}}))
        .await;
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
