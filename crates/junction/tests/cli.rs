//! The `junction` binary itself: exit codes and messages for bad configs, `check`, `--help`,
//! JSON logs that never contain a key, and graceful shutdown on SIGTERM with a stream in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{MASTER_KEY, client, sse_data, streamed_text};
use junction_mock_upstream::MockUpstream;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_junction");

fn write_config(text: &str) -> tempfile_path::TempPath {
    tempfile_path::TempPath::new("yaml", text)
}

/// A temp file deleted on drop (no extra crate for that).
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);
    impl TempPath {
        pub fn new(ext: &str, text: &str) -> TempPath {
            let mut bytes = [0u8; 6];
            getrandom::getrandom(&mut bytes).unwrap();
            let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let path = std::env::temp_dir().join(format!("junction-cli-{name}.{ext}"));
            std::fs::write(&path, text).unwrap();
            TempPath(path)
        }
    }
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

async fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn config_errors_exit_2_and_name_the_yaml_path() {
    let cases = [
        (
            "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, mock_response: x}\n  - model_name: b\n    litellm_params: {model: gpt4o}\n",
            "model_list[1].litellm_params.model: expected \"provider/model\"",
        ),
        (
            "model_list:\n  - model_name: a\n    litellm_params: {model: bedrock/claude}\n",
            "model_list[0].litellm_params.model: provider \"bedrock\" is not supported",
        ),
        (
            "model_list:\n  - model_name: a\n    litellm_params: {model: hosted_vllm/llama}\n",
            "model_list[0].litellm_params.api_base: provider \"hosted_vllm\" needs an api_base",
        ),
        (
            "general_settings:\n  master_key: [a]\n",
            "general_settings.master_key:",
        ),
        ("model_list: [\n", "config is not valid YAML"),
    ];
    for (yaml, expected) in cases {
        let file = write_config(yaml);
        let path = file.0.to_str().unwrap();
        for args in [
            vec!["check", "--config", path],
            vec!["serve", "--config", path, "--port", "0"],
        ] {
            let (code, _, stderr) = run(&args).await;
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert!(
                stderr.contains(expected),
                "{args:?}: expected {expected:?} in {stderr}"
            );
        }
    }
    let (code, _, stderr) = run(&["check", "--config", "/nonexistent/config.yaml"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read config file"), "{stderr}");
}

#[tokio::test]
async fn check_summarises_a_valid_config_with_warnings() {
    let file = write_config(
        "model_list:\n  - model_name: gpt\n    litellm_params: {model: openai/gpt-4o, api_key: os.environ/JUNCTION_TEST_UNSET_VAR}\n  - model_name: gpt\n    litellm_params: {model: anthropic/claude}\nmcp_servers:\n  time: {command: uvx, args: [mcp-server-time]}\nlitellm_settings: {drop_params: true}\n",
    );
    let (code, stdout, stderr) = run(&["check", "--config", file.0.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("gpt -> openai/gpt-4o, anthropic/claude"),
        "{stdout}"
    );
    assert!(stdout.contains("mcp servers: 1"), "{stdout}");
    assert!(stdout.contains("time -> uvx mcp-server-time"), "{stdout}");
    assert!(
        stdout.contains("litellm_settings.drop_params: not supported"),
        "{stdout}"
    );
    assert!(
        stdout.contains("JUNCTION_TEST_UNSET_VAR is not set"),
        "{stdout}"
    );
}

#[tokio::test]
async fn help_lists_the_commands() {
    let (code, stdout, _) = run(&["--help"]).await;
    assert_eq!(code, 0);
    for word in ["serve", "check", "--config", "--port"] {
        assert!(stdout.contains(word), "{word} missing from {stdout}");
    }
    let (code, _, _) = run(&["serve", "--port", "notaport"]).await;
    assert_eq!(code, 2);
}

struct Running {
    child: Child,
    url: String,
    stderr: tokio::task::JoinHandle<String>,
    _db: common::TestDb,
    _config: tempfile_path::TempPath,
}

/// `junction serve` on an ephemeral port with `config`, stdout piped.
fn serve_command(config: &tempfile_path::TempPath) -> Command {
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--config",
            config.0.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Waits for the "listening on" line and returns the gateway's URL.
async fn wait_listening(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("gateway did not start within 30 s")
        .unwrap()
        .expect("gateway exited before listening");
    line.strip_prefix("junction listening on ")
        .unwrap()
        .to_owned()
}

async fn spawn_gateway(yaml: &str, extra: &[&str]) -> Running {
    let db = common::TestDb::sqlite();
    let config = write_config(&format!(
        "{yaml}general_settings:\n  master_key: {MASTER_KEY}\n  database_url: \"{}\"\n",
        db.url
    ));
    let mut child = serve_command(&config)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = wait_listening(&mut child).await;
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let mut line = String::new();
        while stderr.read_line(&mut line).await.unwrap_or(0) > 0 {
            text.push_str(&line);
            line.clear();
        }
        text
    });
    Running {
        child,
        url,
        stderr,
        _db: db,
        _config: config,
    }
}

fn sigterm(child: &Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_stream_finish_then_exits_0() {
    let mock = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: slow\n    litellm_params:\n      model: openai/drip-150\n      api_base: {}\n",
        mock.openai_base()
    );
    let mut gw = spawn_gateway(&yaml, &[]).await;
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(MASTER_KEY)
        .json(&json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    sigterm(&gw.child);
    let text = resp.text().await.unwrap();
    let events = sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
    assert!(streamed_text(&events).contains("You said: a b c d e"));
    let status = tokio::time::timeout(Duration::from_secs(20), gw.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // After shutdown, nothing listens.
    assert!(
        client()
            .get(format!("{}/health/liveliness", gw.url))
            .send()
            .await
            .is_err()
    );
    let logs = gw.stderr.await.unwrap();
    assert!(logs.contains("received SIGTERM"), "{logs}");
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_and_never_the_key() {
    let yaml = "model_list:\n  - model_name: demo\n    litellm_params: {model: openai/demo, mock_response: hi}\n";
    let mut gw = spawn_gateway(yaml, &["--log-format", "json"]).await;
    let (status, generated) = {
        let resp = client()
            .post(format!("{}/key/generate", gw.url))
            .bearer_auth(MASTER_KEY)
            .json(&json!({"key_alias": "logged-alias"}))
            .send()
            .await
            .unwrap();
        (
            resp.status(),
            resp.json::<serde_json::Value>().await.unwrap(),
        )
    };
    assert_eq!(status, 200);
    let key = generated["key"].as_str().unwrap().to_owned();
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .json(&json!({"model": "demo", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    sigterm(&gw.child);
    gw.child.wait().await.unwrap();
    let logs = gw.stderr.await.unwrap();
    assert!(!logs.contains(&key), "the virtual key leaked into logs");
    assert!(
        !logs.contains(MASTER_KEY),
        "the master key leaked into logs"
    );
    let access: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))
        })
        .filter(|v| v["target"] == "junction::access")
        .collect();
    let chat = access
        .iter()
        .find(|v| v["route"] == "/v1/chat/completions")
        .expect("an access line for the chat request");
    assert_eq!(chat["model"], "demo");
    assert_eq!(chat["status"], 200);
    assert_eq!(chat["key"], "logged-alias");
    assert!(chat["latency_ms"].as_f64().is_some());
    assert_eq!(access.len(), 2, "one line per request: {access:?}");
}

#[tokio::test]
async fn database_url_comes_from_the_environment_when_the_config_has_none() {
    let db = common::TestDb::sqlite();
    let path = db.sqlite_path().unwrap().to_owned();
    let config = write_config(&format!(
        "model_list:\n  - model_name: demo\n    litellm_params: {{model: openai/demo, mock_response: hi}}\ngeneral_settings:\n  master_key: {MASTER_KEY}\n"
    ));
    let mut child = serve_command(&config)
        .env("DATABASE_URL", &db.url)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = wait_listening(&mut child).await;
    let resp = client()
        .post(format!("{url}/key/generate"))
        .bearer_auth(MASTER_KEY)
        .json(&json!({"key_alias": "from-env-db"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = std::fs::read(&path).unwrap_or_default();
    let wal = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
    let needle = b"from-env-db";
    assert!(
        bytes.windows(needle.len()).any(|w| w == needle)
            || wal.windows(needle.len()).any(|w| w == needle),
        "the key was not written to the database named by $DATABASE_URL"
    );
    sigterm(&child);
    child.wait().await.unwrap();
}

/// MCP clients keep streams open while connected. On SIGTERM, a tool call in flight still
/// gets its answer, then the streams end and the gateway exits, well before the drain
/// timeout (30 s) a stream left open would hold it for.
#[tokio::test]
async fn sigterm_answers_mcp_calls_in_flight_then_ends_mcp_streams_and_exits() {
    let yaml = format!(
        "mcp_servers:\n  everything:\n    command: {}\n    args: [stdio]\n",
        common::mcp::node_bin("mcp-server-everything").display()
    );
    let mut gw = spawn_gateway(&yaml, &[]).await;
    // The gateway's TestGateway helpers take a TestGateway; poll health by hand here.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let health: serde_json::Value = client()
            .get(format!("{}/v1/mcp/server/health", gw.url))
            .bearer_auth(MASTER_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if common::mcp::healthy(&health, "everything") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key = format!("Bearer {MASTER_KEY}");
    let post = |body: serde_json::Value, session: Option<String>| {
        let mut request = client()
            .post(format!("{}/mcp", gw.url))
            .header("x-litellm-api-key", &key)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(&body);
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send()
    };
    let initialized = post(common::mcp::initialize_body(), None).await.unwrap();
    let session = initialized.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    drop(initialized.text().await);
    let notified = post(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        Some(session.clone()),
    )
    .await
    .unwrap();
    assert_eq!(notified.status(), 202);
    // The session's GET stream, and a legacy HTTP+SSE stream: both stay open until shutdown.
    let get_stream = client()
        .get(format!("{}/mcp", gw.url))
        .header("x-litellm-api-key", &key)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(get_stream.status(), 200);
    let legacy_stream = client()
        .get(format!("{}/mcp/sse", gw.url))
        .header("x-litellm-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(legacy_stream.status(), 200);

    let call = post(
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "everything-trigger-long-running-operation",
            "arguments": {"duration": 2, "steps": 2},
        }}),
        Some(session),
    )
    .await
    .unwrap();
    assert_eq!(call.status(), 200);
    let started = tokio::time::Instant::now();
    sigterm(&gw.child);
    let answer = call.text().await.unwrap();
    assert!(
        answer.contains("\"id\":7") && answer.contains("Long running operation"),
        "{answer}"
    );
    // Both streams end (their bodies complete) once the call is answered.
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        let _ = get_stream.text().await;
        let _ = legacy_stream.text().await;
    })
    .await;
    assert!(ended.is_ok(), "the MCP streams were not ended at shutdown");
    let status = tokio::time::timeout(Duration::from_secs(15), gw.child.wait())
        .await
        .expect("the gateway did not exit within 15 s of SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(20));
}
