//! Server→client requests through `/mcp` with real peers on both sides: `server-everything`
//! (stdio) asks for sampling and roots during tool calls, and two sessions of the `mcp` Python
//! SDK, open at the same time, answer differently. Each session must see only its own
//! upstream requests and get its own answers back: the gateway gives each such session
//! upstream sessions of its own, rather than guessing whose call a request belongs to. A third
//! session that declared no sampling is refused with a clear message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::mcp::{healthy, node_bin, python, wait_for_servers};
use common::{MASTER_KEY, TestGateway};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn sampling_and_roots_reach_the_session_whose_call_asked() {
    let gw = TestGateway::start(&format!(
        "mcp_servers:\n  everything:\n    command: {}\n    args: [stdio]\n",
        node_bin("mcp-server-everything").display()
    ))
    .await;
    wait_for_servers(&gw, |h| healthy(h, "everything")).await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mcp_relay_client.py");
    let output = tokio::process::Command::new(python())
        .arg(script)
        .arg(&gw.url)
        .arg(MASTER_KEY)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
    for (who, other) in [("alice", "bob"), ("bob", "alice")] {
        let mine = &seen[who];
        let asked = mine["asked"].to_string();
        assert!(asked.contains(&format!("question of {who}")), "{seen}");
        assert!(!asked.contains(&format!("question of {other}")), "{seen}");
        let sampled = mine["sampled"].as_str().unwrap();
        assert!(sampled.contains(&format!("answer from {who}")), "{seen}");
        assert!(!sampled.contains(&format!("answer from {other}")), "{seen}");
        let roots = mine["roots"].as_str().unwrap();
        assert!(
            roots.contains(&format!("file:///workspace/{who}")),
            "{seen}"
        );
        assert!(
            !roots.contains(&format!("file:///workspace/{other}")),
            "{seen}"
        );
    }
    gw.stop().await;
}
