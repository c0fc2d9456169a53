//! The official MCP conformance suite's client scenarios, run against the example client built
//! on this library (`examples/conformance_client.rs`).
//!
//! `scripts/conformance-client` prints the whole picture; this test keeps the scenarios that
//! pass from regressing. Not here: `elicitation-sep1034-client-defaults` (the example client
//! has no request handler, so it declares no elicitation capability) and the `auth/*`
//! scenarios (interactive OAuth flows).

#![allow(clippy::expect_used)]

use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// `cargo test` builds the package's examples next to its test binaries.
fn example_client() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let debug_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    debug_dir.join("examples").join("conformance_client")
}

fn run_scenario(scenario: &str) {
    let suite =
        repo().join("tests/node/node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        suite.exists(),
        "{} is missing: run scripts/test, which installs tests/node",
        suite.display()
    );
    let out = std::env::temp_dir().join(format!(
        "junction-conformance-{scenario}-{}",
        std::process::id()
    ));
    let output = std::process::Command::new("node")
        .arg("--import")
        .arg(repo().join("tests/node/node20-globsync/register.mjs"))
        .arg(&suite)
        .args(["client", "--scenario", scenario, "--command"])
        .arg(example_client())
        .arg("-o")
        .arg(&out)
        .output()
        .expect("node runs");
    let _ = std::fs::remove_dir_all(&out);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "conformance scenario {scenario} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn conformance_initialize() {
    run_scenario("initialize");
}

#[test]
fn conformance_tools_call() {
    run_scenario("tools_call");
}

#[test]
fn conformance_sse_retry() {
    run_scenario("sse-retry");
}
