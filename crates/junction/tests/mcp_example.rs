//! Seed 004's complete example (`examples/mcp_tools_with_llm.rs`) end to end: the real
//! `mcp-server-time` over stdio, the gateway, and a mock LLM that calls the first tool offered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{MASTER_KEY, TestGateway, deployment};

/// `cargo test` builds the package's examples next to its test binaries.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    debug_dir.join("examples").join(name)
}

/// `mcp-server-time` from the test venv (scripts/test installs it).
fn mcp_server_time() -> PathBuf {
    let venv = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/test-venv/bin"
    ));
    let path = std::env::var("JUNCTION_TEST_PYTHON")
        .ok()
        .and_then(|python| {
            PathBuf::from(python)
                .parent()
                .map(|bin| bin.join("mcp-server-time"))
        })
        .unwrap_or_else(|| venv.join("mcp-server-time"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/test, which installs it",
        path.display()
    );
    path
}

#[tokio::test]
async fn the_seed_004_example_runs_an_mcp_tool_call_through_the_gateway() {
    let llm = junction_mock_upstream::MockUpstream::start().await.unwrap();
    let gw = TestGateway::start(&format!(
        "model_list:\n{}",
        deployment("gpt", "openai/gpt", &llm.openai_base())
    ))
    .await;
    let output = tokio::process::Command::new(example_binary("mcp_tools_with_llm"))
        .arg("What time is it?")
        .env("MCP_COMMAND", mcp_server_time())
        .env("JUNCTION_URL", &gw.url)
        .env("JUNCTION_API_KEY", MASTER_KEY)
        .env("MODEL", "gpt")
        .env_remove("MCP_URL")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "example failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("Executing: get_current_time"), "{stderr}");

    let requests = llm.requests();
    assert_eq!(
        requests.len(),
        2,
        "one call with tools, one with the results"
    );
    let offered: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(offered.contains(&"get_current_time"), "{offered:?}");
    let tool_message = &requests[1].body["messages"][2];
    assert_eq!(tool_message["role"], "tool");
    let tool_text = tool_message["content"].as_str().unwrap();
    assert!(!tool_text.is_empty());
    // The mock answers the tool result back; the example prints the final answer.
    assert_eq!(stdout.trim(), format!("Tool result: {tool_text}"));
}
