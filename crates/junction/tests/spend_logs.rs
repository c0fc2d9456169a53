//! `GET /spend/logs` over HTTP: who may read which rows (401 without a key, 403 for another
//! key's rows or an anonymous caller), 400s naming a bad date or limit, and LiteLLM's field
//! names and filters over rows written straight into the gateway's database (the call sites
//! that record them are tested with the surfaces they belong to).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestDb, TestGateway};
use junction_store::{SpendLog, Store, hash_key};
use serde_json::{Value, json};

fn config() -> String {
    "model_list:\n  - model_name: demo\n    litellm_params:\n      model: openai/demo\n      mock_response: hello there\n".to_owned()
}

/// Asserts an OpenAI-style error with this status and, when given, this parameter.
#[track_caller]
fn assert_error(answer: &(u16, Value), status: u16, param: Option<&str>) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(
        answer.1["error"]["code"],
        status.to_string(),
        "{}",
        answer.1
    );
    if let Some(param) = param {
        assert_eq!(answer.1["error"]["param"], param, "{}", answer.1);
    }
}

fn request_ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("expected an array: {body}"))
        .iter()
        .map(|row| row["request_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn access_and_bad_parameters() {
    let gw = TestGateway::start(&config()).await;
    let key = gw.generate_key(&json!({})).await;
    let other = gw.generate_key(&json!({})).await;

    assert_error(&gw.get("/spend/logs", None).await, 401, None);
    assert_error(
        &gw.get("/spend/logs", Some("sk-not-a-key")).await,
        401,
        None,
    );

    // A fresh gateway has no rows, for the master key or a key reading its own.
    assert_eq!(
        gw.get("/spend/logs", Some(MASTER_KEY)).await,
        (200, json!([]))
    );
    assert_eq!(gw.get("/spend/logs", Some(&key)).await, (200, json!([])));
    for own in [key.clone(), hash_key(&key)] {
        let answer = gw
            .get(&format!("/spend/logs?api_key={own}"), Some(&key))
            .await;
        assert_eq!(answer, (200, json!([])));
    }

    // Another key's rows, by raw key or hash, are refused.
    for foreign in [other.clone(), hash_key(&other)] {
        let answer = gw
            .get(&format!("/spend/logs?api_key={foreign}"), Some(&key))
            .await;
        assert_error(&answer, 403, Some("api_key"));
    }
    // The master key may name any key.
    let answer = gw
        .get(&format!("/spend/logs?api_key={other}"), Some(MASTER_KEY))
        .await;
    assert_eq!(answer, (200, json!([])));

    for (query, param) in [
        ("start_date=yesterday", "start_date"),
        ("start_date=2024-02-30", "start_date"),
        ("end_date=2024-13-01", "end_date"),
        ("end_date=2024-05-01T25:00:00Z", "end_date"),
        ("start_date=2024-05-02&end_date=2024-05-01", "end_date"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("limit=10001", "limit"),
    ] {
        let answer = gw
            .get(&format!("/spend/logs?{query}"), Some(MASTER_KEY))
            .await;
        assert_error(&answer, 400, Some(param));
    }
    // A query string that cannot be decoded is our 400 too, not axum's text.
    let answer = gw
        .get("/spend/logs?limit=1&limit=2", Some(MASTER_KEY))
        .await;
    assert_error(&answer, 400, None);

    // Valid dates and blank filters (as LiteLLM's UI sends them) are fine.
    let answer = gw
        .get(
            "/spend/logs?start_date=2024-05-01&end_date=2024-05-01T23:00:00%2B02:00&user_id=&limit=5",
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(answer, (200, json!([])));
}

#[tokio::test]
async fn anonymous_callers_are_refused() {
    let yaml = format!(
        "{}general_settings:\n  master_key: {MASTER_KEY}\n  allow_unauthenticated: true\n",
        config()
    );
    let gw = TestGateway::start(&yaml).await;
    assert_error(&gw.get("/spend/logs", None).await, 403, None);
}

/// Rows as the recorder would write them: two keys, an MCP call that failed, a master-key
/// call, on two days.
async fn seed(db_url: &str, key: &str, other: &str) {
    let store = Store::connect(db_url).await.unwrap();
    let may_1 = 1_714_521_600_000; // 2024-05-01T00:00:00Z
    let day = 86_400_000;
    let base = SpendLog {
        call_type: "acompletion".into(),
        model: "demo".into(),
        model_group: Some("demo".into()),
        status: "success".into(),
        metadata: json!({}),
        ..SpendLog::default()
    };
    let rows = vec![
        SpendLog {
            request_id: "key-may-1".into(),
            api_key: hash_key(key),
            key_alias: Some("ci".into()),
            team_id: Some("team-1".into()),
            user_id: Some("alice".into()),
            start_time: may_1 + 1_000,
            end_time: may_1 + 1_750,
            prompt_tokens: 3,
            completion_tokens: 4,
            total_tokens: 7,
            spend: 0.5,
            ..base.clone()
        },
        SpendLog {
            request_id: "key-mcp-may-2".into(),
            call_type: "call_mcp_tool".into(),
            api_key: hash_key(key),
            model: "MCP: github-list_issues".into(),
            model_group: None,
            mcp_server: Some("github".into()),
            mcp_tool: Some("list_issues".into()),
            status: "failure".into(),
            error: Some("upstream timed out".into()),
            start_time: may_1 + day,
            end_time: may_1 + day + 30_000,
            ..base.clone()
        },
        SpendLog {
            request_id: "other-may-1".into(),
            api_key: hash_key(other),
            start_time: may_1 + 2_000,
            end_time: may_1 + 2_100,
            ..base.clone()
        },
        SpendLog {
            request_id: "master-may-2".into(),
            start_time: may_1 + day + 5,
            end_time: may_1 + day + 6,
            ..base
        },
    ];
    store.record_spend(&rows).await.unwrap();
    store.close().await;
}

async fn rows_filters_and_visibility(db: TestDb) {
    let gw = TestGateway::start_with_db(&config(), db).await;
    let key = gw.generate_key(&json!({"key_alias": "ci"})).await;
    let other = gw.generate_key(&json!({})).await;
    seed(&gw.db.url, &key, &other).await;

    let (status, all) = gw.get("/spend/logs", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        request_ids(&all),
        ["master-may-2", "key-mcp-may-2", "other-may-1", "key-may-1"],
        "newest first"
    );
    let row = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|r| r["request_id"] == id)
            .unwrap()
            .clone()
    };
    let first = row("key-may-1");
    assert_eq!(
        first,
        json!({
            "request_id": "key-may-1",
            "call_type": "acompletion",
            "api_key": hash_key(&key),
            "spend": 0.5,
            "total_tokens": 7,
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "startTime": "2024-05-01T00:00:01.000Z",
            "endTime": "2024-05-01T00:00:01.750Z",
            "request_duration_ms": 750,
            "model": "demo",
            "model_group": "demo",
            "api_base": null,
            "user": "alice",
            "team_id": "team-1",
            "organization_id": null,
            "status": "success",
            "metadata": {"user_api_key_alias": "ci"},
            "mcp_server": null,
            "mcp_tool": null,
        })
    );
    let mcp = row("key-mcp-may-2");
    assert_eq!(
        mcp["metadata"]["mcp_namespaced_tool_name"],
        "github/list_issues"
    );
    assert_eq!(
        mcp["metadata"]["error_information"]["error_message"],
        "upstream timed out"
    );
    assert_eq!(
        (&mcp["mcp_server"], &mcp["mcp_tool"]),
        (&json!("github"), &json!("list_issues"))
    );

    // A key sees its own rows only, with or without naming itself.
    let (status, own) = gw.get("/spend/logs", Some(&key)).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(request_ids(&own), ["key-mcp-may-2", "key-may-1"]);
    let (_, other_own) = gw.get("/spend/logs", Some(&other)).await;
    assert_eq!(request_ids(&other_own), ["other-may-1"]);

    // Filters, as the master key.
    let cases = [
        (format!("api_key={key}"), vec!["key-mcp-may-2", "key-may-1"]),
        (format!("api_key={}", hash_key(&other)), vec!["other-may-1"]),
        (
            "start_date=2024-05-01&end_date=2024-05-01".into(),
            vec!["other-may-1", "key-may-1"],
        ),
        (
            "start_date=2024-05-02".into(),
            vec!["master-may-2", "key-mcp-may-2"],
        ),
        ("end_date=2024-05-01T00:00:01Z".into(), vec!["key-may-1"]),
        ("start_date=2024-05-03".into(), vec![]),
        ("user_id=alice".into(), vec!["key-may-1"]),
        ("team_id=team-1".into(), vec!["key-may-1"]),
        ("request_id=other-may-1".into(), vec!["other-may-1"]),
        ("call_type=call_mcp_tool".into(), vec!["key-mcp-may-2"]),
        ("mcp_server=github".into(), vec!["key-mcp-may-2"]),
        ("limit=2".into(), vec!["master-may-2", "key-mcp-may-2"]),
    ];
    for (query, expected) in cases {
        let (status, body) = gw
            .get(&format!("/spend/logs?{query}"), Some(MASTER_KEY))
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(request_ids(&body), expected, "{query}");
    }
    // A key's filters narrow its own rows.
    let (_, body) = gw
        .get("/spend/logs?call_type=acompletion", Some(&key))
        .await;
    assert_eq!(request_ids(&body), ["key-may-1"]);
}

#[tokio::test]
async fn rows_filters_and_visibility_sqlite() {
    rows_filters_and_visibility(TestDb::sqlite()).await;
}

#[tokio::test]
async fn rows_filters_and_visibility_postgres() {
    rows_filters_and_visibility(TestDb::postgres().await).await;
}

/// Rows of `/spend/logs` for `key`'s hash once there are at least `count` (10 s at most: the
/// recorder writes in the background).
async fn logged(gw: &TestGateway, token: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = gw
            .get(&format!("/spend/logs?api_key={token}"), Some(MASTER_KEY))
            .await;
        assert_eq!(status, 200, "{body}");
        let rows = body.as_array().unwrap().clone();
        if rows.len() >= count {
            return rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} rows not logged: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every LLM call and every MCP tool call, on each surface, is one row charged to the key and
/// its team, MCP calls at LiteLLM's per-tool prices; a team whose budget is spent is refused.
#[tokio::test]
async fn llm_and_mcp_calls_are_logged_charged_and_held_to_the_team_budget() {
    use common::mcp::{Session, node_bin};
    use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
    let llm = MockUpstream::start_with(MockOptions {
        tool_calls: vec![ScriptedToolCall::new(
            "everything-echo",
            json!({"message": "from the model"}),
        )],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let yaml = format!(
        "model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt, api_base: {base}, api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.002}}
mcp_servers:
  everything:
    command: {everything}
    args: [stdio]
    mcp_info:
      mcp_server_cost_info:
        default_cost_per_query: 0.5
        tool_name_to_cost_per_query: {{echo: 2.0}}
",
        base = llm.openai_base(),
        everything = node_bin("mcp-server-everything").display()
    );
    let gw = TestGateway::start(&yaml).await;
    common::mcp::wait_for_servers(&gw, |h| common::mcp::healthy(h, "everything")).await;
    let (status, _) = gw
        .post(
            "/team/new",
            Some(MASTER_KEY),
            &json!({"team_id": "eng", "max_budget": 100.0}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, generated) = gw
        .post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"team_id": "eng", "key_alias": "payer",
                    "object_permission": {"mcp_servers": ["all-proxy-mcpservers"]}}),
        )
        .await;
    assert_eq!(status, 200, "{generated}");
    let key = generated["key"].as_str().unwrap().to_owned();
    let token = generated["token"].as_str().unwrap().to_owned();

    // 1. Chat Completions.
    let (status, chat) = gw
        .chat(
            &key,
            &json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{chat}");
    // 2. /mcp-rest: echo at its own price.
    let (status, _) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&key),
            &json!({"server_id": "everything", "name": "echo", "arguments": {"message": "rest"}}),
        )
        .await;
    assert_eq!(status, 200);
    // 3. /mcp: another tool at the server's default price.
    let session = Session::open_with_key(&gw, "/mcp", &key).await;
    let answer = session
        .call("everything-get-sum", json!({"a": 1, "b": 2}))
        .await;
    assert_eq!(
        answer["result"]["content"][0]["text"], "The sum of 1 and 2 is 3.",
        "{answer}"
    );
    // 4. /v1/responses: two model rounds around one gateway tool call.
    let (status, response) = gw
        .post(
            "/v1/responses",
            Some(&key),
            &json!({"model": "gpt", "input": "echo something",
                    "tools": [{"type": "mcp", "server_label": "everything",
                               "server_url": "litellm_proxy", "require_approval": "never"}]}),
        )
        .await;
    assert_eq!(status, 200, "{response}");

    let rows = logged(&gw, &token, 6).await;
    assert_eq!(rows.len(), 6, "{rows:#?}");
    let of = |call_type: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| r["call_type"] == call_type)
            .collect()
    };
    let chat_row = of("acompletion");
    assert_eq!(chat_row.len(), 1);
    let chat_row = chat_row[0];
    let usage = &chat["usage"];
    assert_eq!(chat_row["prompt_tokens"], usage["prompt_tokens"]);
    assert_eq!(chat_row["completion_tokens"], usage["completion_tokens"]);
    let chat_cost = usage["prompt_tokens"].as_f64().unwrap() * 0.001
        + usage["completion_tokens"].as_f64().unwrap() * 0.002;
    assert!(
        (chat_row["spend"].as_f64().unwrap() - chat_cost).abs() < 1e-9,
        "{chat_row}"
    );
    assert_eq!(chat_row["model"], "gpt");
    assert_eq!(chat_row["team_id"], "eng");
    assert_eq!(chat_row["status"], "success");
    assert_eq!(of("aresponses").len(), 2, "{rows:#?}");
    let tools = of("call_mcp_tool");
    assert_eq!(tools.len(), 3, "{rows:#?}");
    let price = |tool: &str| -> Vec<f64> {
        tools
            .iter()
            .filter(|r| r["mcp_tool"] == tool)
            .map(|r| r["spend"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(
        price("echo"),
        [2.0, 2.0],
        "REST and Responses, each at echo's price"
    );
    assert_eq!(price("get-sum"), [0.5], "the server's default price");
    let echo_row = tools.iter().find(|r| r["mcp_tool"] == "echo").unwrap();
    assert_eq!(echo_row["model"], "MCP: everything-echo");
    assert_eq!(echo_row["mcp_server"], "everything");
    assert_eq!(
        echo_row["metadata"]["mcp_namespaced_tool_name"],
        "everything/echo"
    );

    // The key and its team were charged the sum of the rows.
    let total: f64 = rows.iter().map(|r| r["spend"].as_f64().unwrap()).sum();
    assert!(total > 4.5);
    let (_, info) = gw
        .get(&format!("/key/info?key={token}"), Some(MASTER_KEY))
        .await;
    assert!(
        (info["info"]["spend"].as_f64().unwrap() - total).abs() < 1e-9,
        "{info}"
    );
    let (_, team) = gw.get("/team/info?team_id=eng", Some(MASTER_KEY)).await;
    assert!(
        (team["team_info"]["spend"].as_f64().unwrap() - total).abs() < 1e-9,
        "{team}"
    );

    // A spent team budget stops the key: 429 naming the team.
    let (status, _) = gw
        .post(
            "/team/update",
            Some(MASTER_KEY),
            &json!({"team_id": "eng", "max_budget": 1.0}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = gw
        .chat(
            &key,
            &json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 429, "{refused}");
    assert_eq!(refused["error"]["type"], "budget_exceeded");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("team eng"),
        "{refused}"
    );
}

/// A tool that answers `isError` is logged as a failure in its own words, so the logs say
/// why, not only that it failed.
#[tokio::test]
async fn a_failed_tool_call_is_logged_with_the_tools_error() {
    let yaml = format!(
        "mcp_servers:\n  time:\n    command: {}\n",
        common::mcp::venv_bin("mcp-server-time").display()
    );
    let gw = TestGateway::start(&yaml).await;
    common::mcp::wait_for_servers(&gw, |h| common::mcp::healthy(h, "time")).await;
    let key = gw
        .generate_key(&json!({"object_permission": {"mcp_servers": ["time"]}}))
        .await;
    let (status, answer) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(&key),
            &json!({"server_id": "time", "name": "get_current_time",
                    "arguments": {"timezone": "Mars/Olympus_Mons"}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["isError"], true, "{answer}");

    let rows = logged(&gw, &hash_key(&key), 1).await;
    assert_eq!(rows[0]["status"], "failure", "{rows:#?}");
    // LiteLLM's place for it.
    let error = rows[0]["metadata"]["error_information"]["error_message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.starts_with("the tool returned an error: ") && error.contains("Mars/Olympus_Mons"),
        "{error}"
    );
}
