//! The official MCP Inspector CLI (`@modelcontextprotocol/inspector` v2, `mcp-inspector --cli`,
//! installed by `scripts/test` into `tests/node`) as a client of the gateway's `/mcp`, in
//! front of server-everything over stdio: streamable HTTP with LiteLLM's key header, the
//! refusal without a key, and the legacy HTTP+SSE transport at `/mcp/sse`.
//!
//! The Inspector declares `node >= 22.19` but runs on Node 20, which is what the tests use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;
use std::time::Duration;

use common::mcp::{self, node_bin};
use common::{MASTER_KEY, TestGateway};
use serde_json::Value;

/// A gateway in front of server-everything (stdio); returns once its tools are listed.
async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
"#,
        everything = node_bin("mcp-server-everything").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "everything")).await;
    gw
}

/// One finished run of the Inspector CLI.
struct Run {
    output: Output,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON document of stdout (`--format json` prints exactly one).
    fn json(&self) -> Value {
        assert!(self.output.status.success(), "{self}");
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "inspector exited with {}\nstdout:\n{}\nstderr:\n{}",
            self.output.status, self.stdout, self.stderr
        )
    }
}

/// `mcp-inspector --cli <url> --transport <transport> [--header <key>] <args…> --format json`,
/// bounded to 60 s. `HOME` is a fresh directory: the Inspector keeps its catalog and stored
/// OAuth tokens under `~/.mcp-inspector`, and none of the user's may leak into the test.
async fn inspector(url: &str, transport: &str, key: Option<&str>, args: &[&str]) -> Run {
    let home = std::env::temp_dir().join(format!(
        "junction-it-inspector-{}-{}",
        std::process::id(),
        std::thread::current()
            .name()
            .unwrap_or("main")
            .replace("::", "-"),
    ));
    std::fs::create_dir_all(&home).unwrap();
    let bin = node_bin("mcp-inspector");
    let mut command = tokio::process::Command::new(&bin);
    command
        .args(["--cli", url, "--transport", transport])
        .args(args)
        .args(["--format", "json"])
        .env("HOME", &home)
        .env_remove("MCP_CATALOG_PATH")
        .env_remove("MCP_CLIENT_CONFIG_PATH")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let header;
    if let Some(key) = key {
        header = format!("x-litellm-api-key: Bearer {key}");
        command.args(["--header", &header]);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("{} {args:?} did not finish within 60 s", bin.display()))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let _ = std::fs::remove_dir_all(&home);
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}

fn tool_names(listed: &Value) -> Vec<&str> {
    listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {listed}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn inspector_lists_tools_over_streamable_http() {
    let gw = gateway().await;
    let url = format!("{}/mcp", gw.url);
    let run = inspector(&url, "http", Some(MASTER_KEY), &["--method", "tools/list"]).await;
    let listed = run.json();
    let names = tool_names(&listed);
    assert!(names.contains(&"everything-echo"), "{names:?}");
    assert!(names.contains(&"everything-get-sum"), "{names:?}");
}

#[tokio::test]
async fn inspector_calls_a_tool_over_streamable_http() {
    let gw = gateway().await;
    let url = format!("{}/mcp", gw.url);
    let args = [
        "--method",
        "tools/call",
        "--tool-name",
        "everything-echo",
        "--tool-arg",
        "message=hi",
    ];
    let run = inspector(&url, "http", Some(MASTER_KEY), &args).await;
    let called = run.json();
    assert_eq!(called["result"]["content"][0]["type"], "text", "{called}");
    assert_eq!(
        called["result"]["content"][0]["text"], "Echo: hi",
        "{called}"
    );
    assert_ne!(called["result"]["isError"], true, "{called}");
}

/// Without a key the gateway answers 401; `--stored-auth-only` (the Inspector's CI mode) makes
/// the CLI fail with `auth_required` (exit 3) instead of starting an interactive OAuth login.
#[tokio::test]
async fn inspector_without_a_key_is_refused() {
    let gw = gateway().await;
    for (path, transport) in [("/mcp", "http"), ("/mcp/sse", "sse")] {
        let url = format!("{}{path}", gw.url);
        let args = ["--method", "tools/list", "--stored-auth-only"];
        let run = inspector(&url, transport, None, &args).await;
        assert_eq!(run.output.status.code(), Some(3), "{transport}: {run}");
        let error: Value = run
            .stderr
            .lines()
            .find_map(|line| serde_json::from_str(line).ok())
            .unwrap_or_else(|| panic!("{transport}: no JSON error on stderr: {run}"));
        assert_eq!(
            error["error"]["code"], "auth_required",
            "{transport}: {run}"
        );
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("401") || message.contains("Unauthorized"),
            "{transport}: {run}"
        );
        assert!(
            !run.stdout.contains("everything-echo"),
            "{transport}: {run}"
        );
    }
}

#[tokio::test]
async fn inspector_lists_tools_and_calls_over_legacy_sse() {
    let gw = gateway().await;
    let url = format!("{}/mcp/sse", gw.url);
    let run = inspector(&url, "sse", Some(MASTER_KEY), &["--method", "tools/list"]).await;
    let listed = run.json();
    let names = tool_names(&listed);
    assert!(names.contains(&"everything-echo"), "{names:?}");

    let args = [
        "--method",
        "tools/call",
        "--tool-name",
        "everything-echo",
        "--tool-arg",
        "message=hi",
    ];
    let run = inspector(&url, "sse", Some(MASTER_KEY), &args).await;
    let called = run.json();
    assert_eq!(
        called["result"]["content"][0]["text"], "Echo: hi",
        "{called}"
    );
}
