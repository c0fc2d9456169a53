//! The official `openai` Python package against the gateway, streaming and not, through both
//! provider adapters. `scripts/test` installs the package into `target/test-venv`; the
//! interpreter is `$JUNCTION_TEST_PYTHON`, else that venv's, else `python3`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestGateway, deployment};
use junction_mock_upstream::MockUpstream;

#[tokio::test]
async fn the_openai_python_client_works_unchanged() {
    let mock = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}{}",
        deployment("gpt", "openai/gpt-upstream", &mock.openai_base()),
        deployment("claude", "anthropic/claude-upstream", &mock.url()),
    );
    let gw = TestGateway::start(&yaml).await;
    let venv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/test-venv/bin/python"
    );
    let python = std::env::var("JUNCTION_TEST_PYTHON").unwrap_or_else(|_| {
        if std::path::Path::new(venv).exists() {
            venv.into()
        } else {
            "python3".into()
        }
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/openai_client.py");
    let output = tokio::process::Command::new(&python)
        .args([script, &gw.url, MASTER_KEY])
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("ALL OK"),
        "python client failed (scripts/test installs the `openai` package into target/test-venv)\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}
