//! The official MCP conformance suite's server scenarios through the gateway: `/fixture/mcp`
//! in front of the rmcp conformance fixture (`crates/mcp-fixture`) over stdio. Every scenario
//! of the active suite (0.1.16) must pass, as it does against the fixture directly
//! (`scripts/conformance-server` runs both and prints the difference). Sampling, elicitation,
//! logging and subscriptions pass because each client session that uses them gets upstream
//! sessions of its own (`junction-hub/src/downstream.rs`).
//!
//! The suite's client sends no key and has no option to add a header, so the gateway runs
//! with `allow_unauthenticated: true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{MASTER_KEY, TestGateway};

/// The scenarios of the active suite (0.1.16).
const PASSING: &[&str] = &[
    "server-initialize",
    "ping",
    "completion-complete",
    "logging-set-level",
    "tools-list",
    "tools-call-with-logging",
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
    "resources-subscribe",
    "resources-unsubscribe",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "server-sse-multiple-streams",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "dns-rebinding-protection",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/debug/mcp-fixture`, next to this test's `deps` directory. It belongs to another
/// package, which `cargo test -p junction` does not build.
fn fixture_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = debug_dir.join("mcp-fixture");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p junction-mcp-fixture` first",
        path.display()
    );
    path
}

/// The conformance CLI, with the Node 20 import hook (scripts/test installs both).
fn suite() -> (PathBuf, PathBuf) {
    let node = workspace().join("tests/node");
    let cli = node.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    let hook = node.join("node20-globsync/register.mjs");
    assert!(
        cli.exists() && hook.exists(),
        "the conformance suite is missing under {}: run scripts/test, which installs it",
        node.display()
    );
    (hook, cli)
}

/// Runs one scenario; returns whether the suite passed it, and its output.
async fn run_scenario(url: &str, scenario: &str) -> (bool, String) {
    let (hook, cli) = suite();
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("node")
            .arg("--import")
            .arg(&hook)
            .arg(&cli)
            .args(["server", "--url", url, "--scenario", scenario])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{scenario}: the suite did not finish in 60 s"))
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_conformance_server_scenarios_pass_through_the_gateway() {
    let yaml = format!(
        "mcp_servers:\n  fixture:\n    command: {}\ngeneral_settings:\n  master_key: {MASTER_KEY}\n  allow_unauthenticated: true\n",
        fixture_binary().display()
    );
    let gw = TestGateway::start(&yaml).await;
    // The upstream connects in the background: wait for its tools.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, tools) = gw.get("/v1/mcp/tools", Some(MASTER_KEY)).await;
        if status == 200 && tools.to_string().contains("test_simple_text") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fixture's tools never appeared: {status} {tools}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let url = format!("{}/fixture/mcp", gw.url);
    // One at a time: run side by side (21 Node processes), `tools-call-with-progress`
    // sometimes loses the last progress notification. rmcp's client handles each notification
    // in a task of its own, so the call's result can reach the gateway's relay before the
    // final `notifications/progress` reaches the call's progress route, which is then gone.
    let mut failed = Vec::new();
    for scenario in PASSING {
        let (passed, output) = run_scenario(&url, scenario).await;
        if !passed {
            failed.push(format!("{scenario}:\n{output}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed through the gateway:\n{}",
        failed.len(),
        PASSING.len(),
        failed.join("\n")
    );
}
