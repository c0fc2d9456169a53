//! MCP permissions of keys, teams and organisations (LiteLLM's `object_permission`), over
//! every surface that reaches MCP servers: `/mcp` (unscoped and by path), `/mcp-rest` and
//! `/v1/responses`; on SQLite and on Postgres.
//!
//! Three real stdio servers: `github` and `wiki` (two server-everything processes, in the
//! access groups `dev` and `docs`) and `time` (mcp-server-time, `allow_all_keys: true`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::mcp::{self, initialize_body, node_bin, venv_bin};
use common::{MASTER_KEY, TestDb, TestGateway};
use junction_mock_upstream::MockUpstream;
use serde_json::{Value, json};

async fn start(db: TestDb) -> (MockUpstream, TestGateway) {
    let llm = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o, api_base: {base}, api_key: sk-up}}
mcp_servers:
  github:
    command: {everything}
    args: [\"stdio\"]
    access_groups: [dev]
  wiki:
    command: {everything}
    args: [\"stdio\"]
    access_groups: [docs]
  time:
    command: {time}
    allow_all_keys: true
general_settings:
  master_key: {MASTER_KEY}
",
        base = llm.openai_base(),
        everything = node_bin("mcp-server-everything").display(),
        time = venv_bin("mcp-server-time").display(),
    );
    let gw = TestGateway::start_with_db(&yaml, db).await;
    mcp::wait_for_servers(&gw, |h| {
        ["github", "wiki", "time"]
            .iter()
            .all(|s| mcp::healthy(h, s))
    })
    .await;
    (llm, gw)
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// The servers whose tools a key lists on `/mcp` (by exposed-name prefix), or the HTTP
/// status and error message when the endpoint refuses the key.
async fn mcp_servers(
    gw: &TestGateway,
    path: &str,
    key: &str,
) -> Result<BTreeSet<String>, (u16, String)> {
    let tools = mcp_tools(gw, path, key).await?;
    Ok(tools
        .iter()
        .map(|t| t.split('-').next().unwrap().to_owned())
        .collect())
}

async fn mcp_tools(gw: &TestGateway, path: &str, key: &str) -> Result<Vec<String>, (u16, String)> {
    let auth = [("x-litellm-api-key", key)];
    let init = mcp::post(gw, path, &auth, &initialize_body()).await;
    if init.status != 200 {
        return Err((init.status, init.message.to_string()));
    }
    let session = init.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let headers = [
        ("x-litellm-api-key", key),
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let listed = mcp::post(
        gw,
        path,
        &headers,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.message);
    Ok(listed.message["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect())
}

async fn mcp_call(gw: &TestGateway, key: &str, tool: &str, arguments: Value) -> Value {
    let auth = [("x-litellm-api-key", key)];
    let init = mcp::post(gw, "/mcp", &auth, &initialize_body()).await;
    assert_eq!(init.status, 200, "{}", init.message);
    let session = init.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let headers = [
        ("x-litellm-api-key", key),
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                      "params": {"name": tool, "arguments": arguments}});
    mcp::post(gw, "/mcp", &headers, &body).await.message
}

/// The servers of `/mcp-rest/tools/list` (by each tool's `mcp_info.server_name`).
async fn rest_servers(gw: &TestGateway, key: &str) -> BTreeSet<String> {
    let (status, body) = gw.get("/mcp-rest/tools/list", Some(key)).await;
    assert_eq!(status, 200, "{body}");
    body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["mcp_info"]["server_name"].as_str().unwrap().to_owned())
        .collect()
}

/// The servers whose tools `/v1/responses` offers the model for `server_url`.
async fn responses_servers(
    gw: &TestGateway,
    key: &str,
    server_url: &str,
) -> Result<BTreeSet<String>, (u16, String)> {
    let (status, body) = gw
        .post(
            "/v1/responses",
            Some(key),
            &json!({"model": "gpt-4o", "input": "hi", "tool_choice": "none", "store": false,
                    "tools": [{"type": "mcp", "server_label": "gateway", "server_url": server_url,
                               "require_approval": "never"}]}),
        )
        .await;
    if status != 200 {
        return Err((status, body.to_string()));
    }
    let listing = body["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "mcp_list_tools")
        .unwrap_or_else(|| panic!("no mcp_list_tools item: {body}"));
    Ok(listing["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["name"]
                .as_str()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect())
}

async fn ok(status_body: (u16, Value)) -> Value {
    let (status, body) = status_body;
    assert!(status == 200 || status == 201, "{status}: {body}");
    body
}

async fn permission_matrix(db: TestDb) {
    let (_llm, gw) = start(db).await;
    ok(gw
        .post(
            "/organization/new",
            Some(MASTER_KEY),
            &json!({"organization_id": "org-docs", "organization_alias": "docs-only",
                    "object_permission": {"mcp_servers": ["wiki"]}}),
        )
        .await)
    .await;
    ok(gw
        .post(
            "/team/new",
            Some(MASTER_KEY),
            &json!({"team_id": "team-both", "team_alias": "both",
                    "object_permission": {"mcp_servers": ["github", "wiki"]}}),
        )
        .await)
    .await;
    ok(gw
        .post(
            "/team/new",
            Some(MASTER_KEY),
            &json!({"team_id": "team-capped", "team_alias": "capped", "organization_id": "org-docs",
                    "object_permission": {"mcp_servers": ["github", "wiki"]}}),
        )
        .await)
    .await;

    // (what the key is given, the servers it may use; `time` is open to every key)
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({}), &["time"]),
        (
            json!({"object_permission": {"mcp_servers": ["github"]}}),
            &["github", "time"],
        ),
        (
            json!({"object_permission": {"mcp_access_groups": ["docs"]}}),
            &["time", "wiki"],
        ),
        (json!({"team_id": "team-both"}), &["github", "time", "wiki"]),
        (
            json!({"team_id": "team-both", "object_permission": {"mcp_servers": ["github"]}}),
            &["github", "time"],
        ),
        (json!({"team_id": "team-capped"}), &["time", "wiki"]),
        (
            json!({"team_id": "team-capped", "object_permission": {"mcp_servers": ["github"]}}),
            &["time"],
        ),
    ];
    for (given, allowed) in &cases {
        let key = gw.generate_key(given).await;
        let want = set(allowed);
        assert_eq!(
            mcp_servers(&gw, "/mcp", &key).await.unwrap(),
            want,
            "/mcp for {given}"
        );
        assert_eq!(rest_servers(&gw, &key).await, want, "/mcp-rest for {given}");
        assert_eq!(
            responses_servers(&gw, &key, "litellm_proxy").await.unwrap(),
            want,
            "/v1/responses for {given}"
        );
        // A server named in the path that the key may not use: a 403 that names it.
        for server in ["github", "wiki"] {
            let by_path = mcp_servers(&gw, &format!("/mcp/{server}"), &key).await;
            let by_rest = gw
                .get(
                    &format!("/mcp-rest/tools/list?server_id={server}"),
                    Some(&key),
                )
                .await;
            let by_responses =
                responses_servers(&gw, &key, &format!("litellm_proxy/mcp/{server}")).await;
            if want.contains(server) {
                assert_eq!(by_path.unwrap(), set(&[server]), "{given}");
                assert_eq!(by_rest.0, 200, "{given}: {}", by_rest.1);
                assert_eq!(by_responses.unwrap(), set(&[server]), "{given}");
            } else {
                let (status, message) = by_path.unwrap_err();
                assert_eq!(status, 403, "/mcp/{server} for {given}: {message}");
                assert!(message.contains(&format!("'{server}'")), "{message}");
                assert_eq!(by_rest.0, 403, "{given}: {}", by_rest.1);
                assert!(by_rest.1.to_string().contains(server), "{}", by_rest.1);
                let (status, message) = by_responses.unwrap_err();
                assert_eq!(status, 403, "{given}: {message}");
                assert!(message.contains(server), "{message}");
            }
        }
    }

    // `no-mcp-servers` refuses even the open server: the unscoped endpoint says so.
    let nothing = gw
        .generate_key(&json!({"object_permission": {"mcp_servers": ["no-mcp-servers"]}}))
        .await;
    let (status, message) = mcp_servers(&gw, "/mcp", &nothing).await.unwrap_err();
    assert_eq!(status, 403, "{message}");
    assert!(message.contains("may not use any MCP server"), "{message}");

    // Tool permissions: only `echo` of github, listed and callable; other tools refused.
    let echo_only = gw
        .generate_key(&json!({"object_permission": {
            "mcp_servers": ["github"], "mcp_tool_permissions": {"github": ["echo"]}}}))
        .await;
    let tools = mcp_tools(&gw, "/mcp/github", &echo_only).await.unwrap();
    assert_eq!(tools, ["github-echo"]);
    let called = mcp_call(&gw, &echo_only, "github-echo", json!({"message": "hi"})).await;
    assert_eq!(called["result"]["isError"], Value::Null, "{called}");
    let refused = mcp_call(&gw, &echo_only, "github-get-sum", json!({"a": 1, "b": 2})).await;
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert!(
        refused["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("may not call tool 'get-sum'"),
        "{refused}"
    );
    let (status, body) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&echo_only),
            &json!({"server_id": "github", "name": "get-sum", "arguments": {"a": 1, "b": 2}}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = gw
        .get("/mcp-rest/tools/list?server_id=github", Some(&echo_only))
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo"]);

    // Health only of the servers the key may use.
    let (status, body) = gw.get("/v1/mcp/server/health", Some(&echo_only)).await;
    assert_eq!(status, 200, "{body}");
    let named: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["server_name"].as_str().unwrap())
        .collect();
    assert!(!named.contains(&"wiki"), "{body}");
    assert!(named.contains(&"github"), "{body}");
    let (status, body) = gw
        .get("/v1/mcp/server/health?server_ids=wiki", Some(&echo_only))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["status"], "unknown", "{body}");

    // Every access group the servers name, for any key.
    let (status, body) = gw.get("/v1/mcp/access_groups", Some(&echo_only)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"access_groups": ["dev", "docs"]}));

    // The master key sees everything.
    assert_eq!(
        mcp_servers(&gw, "/mcp", MASTER_KEY).await.unwrap(),
        set(&["github", "time", "wiki"])
    );
    gw.stop().await;
}

#[tokio::test]
async fn permissions_of_keys_teams_and_organisations_on_sqlite() {
    permission_matrix(TestDb::sqlite()).await;
}

#[tokio::test]
async fn permissions_of_keys_teams_and_organisations_on_postgres() {
    permission_matrix(TestDb::postgres().await).await;
}
