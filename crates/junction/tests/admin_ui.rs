//! The admin web UI at `/ui`: how its files are served (over HTTP), and the whole flow of a
//! first-time user in headless Chromium (`tests/node/browser/admin_ui.mjs`, through
//! playwright-core): sign in, add a stdio MCP server, see and call its tools, create a key
//! limited to an access group, use the playground. What the browser did is then checked over
//! the API: the key the Keys page showed reaches, over `/mcp`, only the tools of its group.
//!
//! Screenshots of every step are kept in `target/ui-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::mcp::{self, node_bin, venv_bin};
use common::{MASTER_KEY, TestDb, TestGateway, client};
use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
use serde_json::{Value, json};

#[tokio::test]
async fn the_ui_is_served_with_its_security_headers_and_caching() {
    let gw = TestGateway::start("model_list: []\n").await;
    let http = client();

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = no_redirects
        .get(format!("{}/ui", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/ui/");

    let index = http.get(format!("{}/ui/", gw.url)).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let headers = index.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = index.text().await.unwrap();
    assert!(html.contains("app.js"), "the page loads the bundle: {html}");

    let script = http
        .get(format!("{}/ui/app.js", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = script.headers()["etag"].clone();
    assert!(
        script.bytes().await.unwrap().len() > 1000,
        "the bundle is built, not a placeholder"
    );
    let again = http
        .get(format!("{}/ui/app.js", gw.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for missing in ["/ui/nope.js", "/ui/..%2FCargo.toml", "/ui/%2e%2e"] {
        let answer = http
            .get(format!("{}{missing}", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{missing}");
    }
}

#[tokio::test]
async fn the_session_endpoint_tells_the_master_key_from_a_virtual_key() {
    let gw = TestGateway::start("model_list: []\n").await;
    let (status, body) = gw.get("/ui/api/session", Some(MASTER_KEY)).await;
    assert_eq!((status, body), (200, json!({"role": "admin"})));

    let key = gw
        .generate_key(&json!({"key_alias": "viewer", "models": ["a", "b"]}))
        .await;
    let (status, body) = gw.get("/ui/api/session", Some(&key)).await;
    assert_eq!(status, 200);
    assert_eq!(body["role"], "key");
    assert_eq!(body["key_alias"], "viewer");
    assert_eq!(body["models"], json!(["a", "b"]));
    assert_eq!(body["token"], junction_store::hash_key(&key));

    let (status, body) = gw.get("/ui/api/session", None).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = gw.get("/ui/api/session", Some("sk-wrong")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn disable_admin_ui_turns_the_ui_off() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let db = TestDb::sqlite();
    let config = std::env::temp_dir().join(format!("junction-ui-off-{port}.yaml"));
    std::fs::write(&config, "general_settings:\n  master_key: sk-1\n").unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_junction"))
        .args([
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--config",
        ])
        .arg(&config)
        .env("DISABLE_ADMIN_UI", "True")
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while client()
        .get(format!("{base}/health/liveliness"))
        .send()
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for path in ["/ui", "/ui/", "/ui/app.js"] {
        let answer = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
    }
    let models = client()
        .get(format!("{base}/v1/models"))
        .bearer_auth("sk-1")
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 200, "the API is unaffected");
    child.kill().await.unwrap();
    let _ = std::fs::remove_file(&config);
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
}

#[tokio::test]
async fn a_first_time_user_manages_mcp_through_the_ui_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium package (.ci/run does)"
    );
    let llm = MockUpstream::start_with(MockOptions {
        record: true,
        tool_calls: vec![ScriptedToolCall::new(
            "clock-get_current_time",
            json!({"timezone": "Europe/Paris"}),
        )],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    // `everything` is configured in the file and outside the key's access group: the key
    // must not see it.
    let yaml = format!(
        "model_list:
  - model_name: mock
    litellm_params: {{model: openai/mock, api_base: {base}, api_key: sk-up}}
mcp_servers:
  everything:
    command: {everything}
    args: [\"stdio\"]
    access_groups: [demo]
general_settings:
  master_key: {MASTER_KEY}
  store_model_in_db: true
",
        base = llm.openai_base(),
        everything = node_bin("mcp-server-everything").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "everything")).await;

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node/browser/admin_ui.mjs");
    let shots = screenshot_dir();
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .env("JUNCTION_URL", &gw.url)
        .env("MASTER_KEY", MASTER_KEY)
        .env("TIME_COMMAND", venv_bin("mcp-server-time"))
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser flow failed (screenshots in {}):\n{stderr}\n{stdout}",
        shots.display()
    );
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no report from the browser script:\n{stdout}\n{stderr}"));
    let key = report["key"].as_str().unwrap();

    // The server the form added is stored, in the access group typed into the form.
    let (status, servers) = gw.get("/v1/mcp/server", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{servers}");
    let clock = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server_name"] == "clock" || s["alias"] == "clock")
        .unwrap_or_else(|| panic!("the clock server is not stored: {servers}"));
    assert_eq!(
        clock["mcp_access_groups"],
        json!(["timekeepers"]),
        "{clock}"
    );

    // The key from the Keys page sees only its group's tools over /mcp; the master key both.
    let session = mcp::Session::open_with_key(&gw, "/mcp", key).await;
    let tools = session.tool_names().await;
    assert!(!tools.is_empty(), "the key sees no tool");
    assert!(
        tools.iter().all(|t| t.starts_with("clock-")),
        "the key sees tools outside its access group: {tools:?}"
    );
    let admin = mcp::Session::open_with_key(&gw, "/mcp", MASTER_KEY).await;
    let all = admin.tool_names().await;
    assert!(all.iter().any(|t| t.starts_with("everything-")), "{all:?}");

    // The playground's question went through /v1/responses, which offered the clock tool to
    // the model and ran it.
    let offered = llm
        .requests()
        .iter()
        .any(|r| r.body.to_string().contains("clock-get_current_time"));
    assert!(offered, "the model was never offered the clock tool");
    assert!(shots.join("10-playground.png").exists());
}
