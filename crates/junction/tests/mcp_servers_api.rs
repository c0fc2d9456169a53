//! MCP servers managed through LiteLLM's `/v1/mcp/server` API and kept in the database:
//! create, read, update, delete on SQLite; credentials sealed at rest and masked in answers,
//! yet used upstream and kept across a restart; two gateway processes sharing one Postgres,
//! where a change made on one is served by the other within 5 s.
//!
//! Upstreams are real: `server-everything` over stdio and a `fastmcp` server that echoes
//! the headers it was called with (and requires a bearer token).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::mcp::{EchoServer, node_bin};
use common::{MASTER_KEY, TestDb, TestGateway, client};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

fn settings(extra: &str) -> String {
    format!("general_settings:\n  master_key: {MASTER_KEY}\n  store_model_in_db: true\n{extra}")
}

async fn send(
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = client().request(method, url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `probe` until it holds; panics with `what` after `limit`. Returns the time taken.
async fn within<F, Fut>(limit: Duration, what: &str, mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if probe().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what} not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tool names (unprefixed, as LiteLLM's REST API shows them) `/mcp-rest/tools/list?server_id=`
/// lists for a server; empty when it is unknown or not connected yet.
async fn tools_of(base: &str, server: &str) -> Vec<String> {
    let (status, body) = send(
        reqwest::Method::GET,
        &format!("{base}/mcp-rest/tools/list?server_id={server}"),
        Some(MASTER_KEY),
        None,
    )
    .await;
    if status != 200 {
        return Vec::new();
    }
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

fn everything_body(name: &str) -> Value {
    json!({
        "server_name": name,
        "transport": "stdio",
        "command": node_bin("mcp-server-everything").display().to_string(),
        "args": ["stdio"],
        "description": "reference server",
        "mcp_access_groups": ["demo"],
    })
}

#[tokio::test]
async fn servers_are_created_read_updated_and_deleted_through_the_api() {
    let gw = TestGateway::start(&settings("")).await;
    let url = |path: &str| format!("{}{path}", gw.url);

    // Only the master key may change servers; a body without a name is refused.
    let key = gw
        .generate_key(&json!({"object_permission": {"mcp_access_groups": ["demo"]}}))
        .await;
    let (status, _) = send(
        reqwest::Method::POST,
        &url("/v1/mcp/server"),
        Some(&key),
        Some(&everything_body("ref")),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        reqwest::Method::POST,
        &url("/v1/mcp/server"),
        Some(MASTER_KEY),
        Some(&json!({"transport": "stdio", "command": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server_name")
    );
    // LiteLLM's rule: the tool-name separator may not appear in a server name.
    let (status, body) = send(
        reqwest::Method::POST,
        &url("/v1/mcp/server"),
        Some(MASTER_KEY),
        Some(&everything_body("my-ref")),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Server name cannot contain '-'. Use an alternative character instead Found: my-ref"
    );

    let (status, created) = send(
        reqwest::Method::POST,
        &url("/v1/mcp/server"),
        Some(MASTER_KEY),
        Some(&everything_body("ref")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["server_id"].as_str().unwrap().to_owned();
    assert_eq!(created["server_name"], "ref");
    assert_eq!(created["source"], "db");
    assert_eq!(created["mcp_access_groups"], json!(["demo"]));

    // Served at once: its tools appear, a permitted key may call them.
    within(
        Duration::from_secs(60),
        "the new server's tools",
        || async { tools_of(&gw.url, &id).await.iter().any(|t| t == "echo") },
    )
    .await;
    let (status, result) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&key),
            &json!({"server_id": id, "name": "echo", "arguments": {"message": "stored"}}),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["content"][0]["text"], "Echo: stored");

    // Read: by id and by name; the list shows it to the key its access group admits, without
    // connection details.
    let (status, by_id) = gw
        .get(&format!("/v1/mcp/server/{id}"), Some(MASTER_KEY))
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_id["status"], "healthy");
    assert!(
        by_id["command"]
            .as_str()
            .unwrap()
            .ends_with("mcp-server-everything")
    );
    let (status, listed) = gw.get("/v1/mcp/server", Some(&key)).await;
    assert_eq!(status, 200);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["server_id"], id.as_str());
    assert_eq!(
        listed[0]["command"],
        Value::Null,
        "no connection details for keys"
    );
    let (_, groups) = gw.get("/v1/mcp/access_groups", Some(MASTER_KEY)).await;
    assert_eq!(groups, json!({"access_groups": ["demo"]}));

    // Update: a tool filter takes effect at once; the server keeps its id.
    let (status, updated) = send(
        reqwest::Method::PUT,
        &url("/v1/mcp/server"),
        Some(MASTER_KEY),
        Some(&json!({"server_id": id, "allowed_tools": ["echo"], "alias": "reference"})),
    )
    .await;
    assert_eq!(status, 202, "{updated}");
    assert_eq!(updated["server_id"], id.as_str());
    assert_eq!(updated["allowed_tools"], json!(["echo"]));
    within(
        Duration::from_secs(60),
        "the filtered tool list",
        || async { tools_of(&gw.url, &id).await == ["echo"] },
    )
    .await;
    let (status, _) = send(
        reqwest::Method::PUT,
        &url("/v1/mcp/server"),
        Some(MASTER_KEY),
        Some(&json!({"server_id": "nope", "description": "x"})),
    )
    .await;
    assert_eq!(status, 404);

    // Delete: 202 with an empty body, then gone everywhere.
    let response = client()
        .delete(url(&format!("/v1/mcp/server/{id}")))
        .bearer_auth(MASTER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.text().await.unwrap(), "");
    let (status, body) = gw
        .get(&format!("/v1/mcp/server/{id}"), Some(MASTER_KEY))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["message"],
        format!("MCP Server not found, passed server_id={id}")
    );
    assert!(tools_of(&gw.url, &id).await.is_empty());
    let (status, _) = send(
        reqwest::Method::DELETE,
        &url(&format!("/v1/mcp/server/{id}")),
        Some(MASTER_KEY),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn without_store_model_in_db_changes_are_refused_with_the_reason() {
    let gw = TestGateway::start(&format!("general_settings:\n  master_key: {MASTER_KEY}\n")).await;
    let (status, body) = gw
        .post("/v1/mcp/server", Some(MASTER_KEY), &everything_body("ref"))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("store_model_in_db"),
        "{body}"
    );
}

#[tokio::test]
async fn credentials_are_sealed_at_rest_masked_in_answers_and_used_upstream() {
    const TOKEN: &str = "tok-stored-secret-7731";
    const TENANT: &str = "tenant-secret-0042";
    let echo = EchoServer::start(&[TOKEN]).await;
    let yaml = settings("  salt_key: salt-one\n");
    let gw = TestGateway::start(&yaml).await;
    let (status, created) = gw
        .post(
            "/v1/mcp/server",
            Some(MASTER_KEY),
            &json!({
                "server_name": "echo",
                "url": echo.url,
                "transport": "http",
                "auth_type": "bearer_token",
                "credentials": {"auth_value": TOKEN},
                "static_headers": {"X-Tenant": TENANT},
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["server_id"].as_str().unwrap().to_owned();
    assert!(!created.to_string().contains(TOKEN) && !created.to_string().contains(TENANT));
    assert_eq!(created["credentials"], json!({"auth_value": "****"}));
    assert_eq!(created["static_headers"], json!({"X-Tenant": "****"}));

    // The upstream requires the token: listing and calling prove it was sent.
    let call = |gw: &TestGateway| {
        let body = json!({"server_id": id, "name": "headers", "arguments": {}});
        let url = format!("{}/mcp-rest/tools/call", gw.url);
        async move { send(reqwest::Method::POST, &url, Some(MASTER_KEY), Some(&body)).await }
    };
    within(
        Duration::from_secs(30),
        "the echo server's tools",
        || async { tools_of(&gw.url, &id).await.iter().any(|t| t == "headers") },
    )
    .await;
    let (status, result) = call(&gw).await;
    assert_eq!(status, 200, "{result}");
    let seen: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(seen["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(seen["x-tenant"], TENANT);

    // Nothing readable in the database, nor in any answer.
    let db_path = gw.db.sqlite_path().unwrap().to_owned();
    let dump = {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db_path.display()))
            .await
            .unwrap();
        let rows = sqlx::query(
            "SELECT server_id, server_name, definition, credentials FROM junction_mcp_servers",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.iter()
            .map(|r| {
                (0..4)
                    .map(|i| {
                        r.try_get::<Option<String>, _>(i)
                            .unwrap()
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(dump.contains(&id) && dump.contains("jx1:"), "{dump}");
    assert!(!dump.contains(TOKEN) && !dump.contains(TENANT), "{dump}");
    for path in ["/v1/mcp/server".to_owned(), format!("/v1/mcp/server/{id}")] {
        let (_, body) = gw.get(&path, Some(MASTER_KEY)).await;
        assert!(!body.to_string().contains(TOKEN), "{body}");
    }

    // A restart with the same salt key serves it again, credentials and all.
    let db = gw.stop_keep_db().await;
    let gw = TestGateway::start_with_db(&yaml, db).await;
    within(
        Duration::from_secs(30),
        "the server after a restart",
        || async { tools_of(&gw.url, &id).await.iter().any(|t| t == "headers") },
    )
    .await;
    let (status, result) = call(&gw).await;
    assert_eq!(status, 200, "{result}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains(TOKEN)
    );

    // Under another key the credentials do not open: the gateway starts, without it.
    let db = gw.stop_keep_db().await;
    let gw = TestGateway::start_with_db(&settings("  salt_key: salt-two\n"), db).await;
    let (status, _) = gw
        .get(&format!("/v1/mcp/server/{id}"), Some(MASTER_KEY))
        .await;
    assert_eq!(status, 404);
}

/// `junction serve` as a child process; killed when dropped.
struct Replica {
    url: String,
    _child: Child,
}

impl Replica {
    async fn start(config: &std::path::Path) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_junction"))
            .args(["serve", "--config", config.to_str().unwrap()])
            .args(["--host", "127.0.0.1", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the gateway did not start within 30 s")
            .unwrap()
            .expect("the gateway exited before listening");
        Replica {
            url: line
                .strip_prefix("junction listening on ")
                .unwrap()
                .to_owned(),
            _child: child,
        }
    }

    async fn server_known(&self, id: &str) -> bool {
        let url = format!("{}/v1/mcp/server/{id}", self.url);
        send(reqwest::Method::GET, &url, Some(MASTER_KEY), None)
            .await
            .0
            == 200
    }
}

#[tokio::test]
async fn two_gateway_processes_sharing_postgres_see_each_others_changes_within_5_s() {
    let db = TestDb::postgres().await;
    let config =
        std::env::temp_dir().join(format!("junction-replicas-{}.yaml", std::process::id()));
    std::fs::write(
        &config,
        format!(
            "{}  database_url: \"{}\"\n  salt_key: shared-salt\n",
            settings(""),
            db.url
        ),
    )
    .unwrap();
    let (a, b) = tokio::join!(Replica::start(&config), Replica::start(&config));
    let _ = std::fs::remove_file(&config);

    // Added on A: B serves it within 5 s, and its tools work there.
    let (status, created) = send(
        reqwest::Method::POST,
        &format!("{}/v1/mcp/server", a.url),
        Some(MASTER_KEY),
        Some(&everything_body("shared")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["server_id"].as_str().unwrap().to_owned();
    assert!(
        a.server_known(&id).await,
        "the replica that made it serves it at once"
    );
    let took = within(
        Duration::from_secs(5),
        "replica B learning of the server",
        || b.server_known(&id),
    )
    .await;
    eprintln!("replica B served the new server after {took:?}");
    within(
        Duration::from_secs(60),
        "the server's tools on replica B",
        || async { tools_of(&b.url, &id).await.iter().any(|t| t == "echo") },
    )
    .await;
    let (status, result) = send(
        reqwest::Method::POST,
        &format!("{}/mcp-rest/tools/call", b.url),
        Some(MASTER_KEY),
        Some(&json!({"server_id": id, "name": "echo", "arguments": {"message": "via B"}})),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["content"][0]["text"], "Echo: via B");

    // Updated on B: A applies the new filter within 5 s (once the new session lists).
    let (status, _) = send(
        reqwest::Method::PUT,
        &format!("{}/v1/mcp/server", b.url),
        Some(MASTER_KEY),
        Some(&json!({"server_id": id, "disallowed_tools": ["echo"]})),
    )
    .await;
    assert_eq!(status, 202);
    within(
        Duration::from_secs(5),
        "replica A applying the update",
        || async {
            let url = format!("{}/v1/mcp/server/{id}", a.url);
            let (_, body) = send(reqwest::Method::GET, &url, Some(MASTER_KEY), None).await;
            body["disallowed_tools"] == json!(["echo"])
        },
    )
    .await;

    // Deleted on B: gone from A within 5 s.
    let (status, _) = send(
        reqwest::Method::DELETE,
        &format!("{}/v1/mcp/server/{id}", b.url),
        Some(MASTER_KEY),
        None,
    )
    .await;
    assert_eq!(status, 202);
    within(
        Duration::from_secs(5),
        "replica A dropping the server",
        || async { !a.server_known(&id).await },
    )
    .await;
    assert!(tools_of(&a.url, &id).await.is_empty());
    drop((a, b));
    drop(db);
}
