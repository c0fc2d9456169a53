//! OpenAPI specs served as MCP servers (`spec_path`), end to end: real clients in front of the
//! gateway, a mock petstore REST API behind it (`common/petstore.rs`), the specs as fixtures
//! (`tests/fixtures/openapi`: the public Petstore spec in Swagger 2.0, an OpenAPI 3.0 one, a
//! 3.1 one split over several files with a circular reference, and a broken one).
//!
//! What the API receives is read from the mock's record of requests, so every test checks the
//! HTTP request the gateway built, not only the tool result it returned.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::mcp::{self, Session, python};
use common::petstore::{Petstore, fixture_path};
use common::{MASTER_KEY, TestGateway};
use serde_json::{Value, json};

/// A gateway serving `servers` (YAML under `mcp_servers:`), once all of `ready` are healthy.
async fn gateway(servers: &str, ready: &[&str]) -> TestGateway {
    let gw = TestGateway::start(&format!("mcp_servers:\n{servers}")).await;
    mcp::wait_for_servers(&gw, |health| {
        ready.iter().all(|name| mcp::healthy(health, name))
    })
    .await;
    gw
}

/// Seed 001's petstore entry, pointed at the mock.
fn petstore_entry(name: &str, petstore: &Petstore, extra: &str) -> String {
    format!(
        "  {name}:\n    url: \"{}\"\n    spec_path: \"{}\"\n    auth_type: \"none\"\n{extra}",
        petstore.url,
        fixture_path("petstore.json")
    )
}

fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .unwrap_or_else(|| panic!("no content: {result}"))
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn run_python(script: &str, gw: &TestGateway) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(python())
            .arg(&script)
            .args([&gw.url, MASTER_KEY])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the script did not finish within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("ALL OK"),
        "{} failed\nstdout:\n{stdout}\nstderr:\n{stderr}",
        script.display()
    );
}

#[tokio::test]
async fn seed_001_fastmcp_example_runs_unchanged_against_the_petstore_spec() {
    let petstore = Petstore::start().await;
    let gw = gateway(
        &petstore_entry("petstore_mcp", &petstore, ""),
        &["petstore_mcp"],
    )
    .await;
    run_python("openapi_seed_001.py", &gw).await;

    let by_id = petstore.requests_to("/v2/pet/1");
    assert_eq!(by_id.len(), 1, "{:?}", petstore.requests());
    assert_eq!(by_id[0].method, "GET");
    let by_status = petstore.requests_to("/v2/pet/findByStatus");
    assert_eq!(by_status.len(), 1);
    assert_eq!(
        by_status[0].path_and_query,
        "/v2/pet/findByStatus?status=available"
    );
    // The gateway's key stays with the gateway.
    for request in petstore.requests() {
        assert!(
            !request.headers.values().any(|v| v.contains(MASTER_KEY)),
            "the gateway key reached the API: {request:?}"
        );
    }
}

#[tokio::test]
async fn every_petstore_operation_is_a_tool_with_its_parameters_and_body() {
    let petstore = Petstore::start().await;
    let gw = gateway(
        &petstore_entry("petstore_mcp", &petstore, ""),
        &["petstore_mcp"],
    )
    .await;
    let session = Session::open(&gw, "/mcp").await;
    let listed = session.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 20, "{names:?}");
    for expected in [
        "petstore_mcp-getpetbyid",
        "petstore_mcp-findpetsbystatus",
        "petstore_mcp-addpet",
        "petstore_mcp-updatepetwithform",
        "petstore_mcp-deletepet",
        "petstore_mcp-uploadfile",
        "petstore_mcp-loginuser",
        "petstore_mcp-createuserswithlistinput",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let tool = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == format!("petstore_mcp-{name}"))
            .unwrap()
            .clone()
    };
    let get = tool("getpetbyid");
    assert_eq!(get["description"], "Find pet by ID\n\nReturns a single pet");
    assert_eq!(get["inputSchema"]["required"], json!(["petId"]));
    assert_eq!(get["inputSchema"]["properties"]["petId"]["type"], "integer");
    assert_eq!(get["annotations"]["readOnlyHint"], true);
    let add = tool("addpet");
    let body = &add["inputSchema"]["properties"]["body"];
    assert_eq!(add["inputSchema"]["required"], json!(["body"]));
    assert_eq!(body["required"], json!(["name", "photoUrls"]), "{body}");
    assert_eq!(
        body["properties"]["category"]["properties"]["name"]["type"],
        "string"
    );
    let find = tool("findpetsbystatus");
    assert_eq!(find["inputSchema"]["properties"]["status"]["type"], "array");
    let delete = tool("deletepet");
    assert_eq!(delete["annotations"]["destructiveHint"], true);
    assert!(delete["inputSchema"]["properties"]["api_key"].is_object());

    // Path templating, repeated query values, JSON and form bodies, header parameters.
    let result = session
        .call(
            "petstore_mcp-findpetsbystatus",
            json!({"status": ["available", "sold"]}),
        )
        .await["result"]
        .clone();
    assert_eq!(result["isError"], false, "{result}");
    let found = result["structuredContent"]["result"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{result}");
    let result = session
        .call(
            "petstore_mcp-addpet",
            json!({"body": {"id": 7, "name": "Rex & co/2", "photoUrls": [], "status": "available"}}),
        )
        .await["result"]
        .clone();
    assert_eq!(
        result["structuredContent"]["name"], "Rex & co/2",
        "{result}"
    );
    let result = session
        .call(
            "petstore_mcp-updatepetwithform",
            json!({"petId": 7, "body": {"name": "Rex the 2nd", "status": "sold"}}),
        )
        .await["result"]
        .clone();
    assert_eq!(result["isError"], false, "{result}");
    let result = session
        .call("petstore_mcp-getpetbyid", json!({"petId": 7}))
        .await["result"]
        .clone();
    assert_eq!(
        result["structuredContent"]["name"], "Rex the 2nd",
        "{result}"
    );
    let result = session
        .call(
            "petstore_mcp-deletepet",
            json!({"petId": 7, "api_key": "del-key"}),
        )
        .await["result"]
        .clone();
    assert_eq!(
        result["structuredContent"]["api_key"], "del-key",
        "{result}"
    );
    let result = session
        .call(
            "petstore_mcp-loginuser",
            json!({"username": "a b", "password": "p&q"}),
        )
        .await["result"]
        .clone();
    assert_eq!(text(&result), "logged in user session:12345");
    assert!(
        result.get("structuredContent").is_none_or(Value::is_null),
        "{result}"
    );

    let sent = petstore.requests();
    let line = |r: &common::petstore::Recorded| format!("{} {}", r.method, r.path_and_query);
    let lines: Vec<String> = sent.iter().map(line).collect();
    assert!(
        lines.contains(&"GET /v2/pet/findByStatus?status=available&status=sold".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"GET /v2/user/login?username=a%20b&password=p%26q".to_owned()),
        "{lines:?}"
    );
    let form = sent
        .iter()
        .find(|r| r.method == "POST" && r.path() == "/v2/pet/7")
        .unwrap();
    assert_eq!(
        form.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(form.body, "name=Rex+the+2nd&status=sold");
    let added = sent
        .iter()
        .find(|r| r.method == "POST" && r.path() == "/v2/pet")
        .unwrap();
    assert_eq!(added.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&added.body).unwrap()["name"],
        "Rex & co/2"
    );
}

#[tokio::test]
async fn an_openapi_31_spec_split_over_files_with_a_cycle_loads_from_a_url() {
    let petstore = Petstore::start().await;
    let servers = format!(
        "  library:\n    url: \"{}/api\"\n    spec_path: \"{}\"\n",
        petstore.origin,
        petstore.spec_url("multi/openapi.yaml")
    );
    let gw = gateway(&servers, &["library"]).await;
    let (status, listed) = gw.get("/mcp-rest/tools/list", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{listed}");
    let tools = listed["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "createbook",
            "deletebook",
            "get__health",
            "getbook",
            "listbooks"
        ],
        "the spec files fetched: {:?}",
        petstore.requests_to("/specs")
    );
    let create = tools.iter().find(|t| t["name"] == "createbook").unwrap();
    let book = &create["inputSchema"]["properties"]["body"];
    // Book → author (another file) → books → Book again: expanded once, then cut.
    let author = &book["properties"]["author"];
    assert_eq!(author["type"], "object", "{book}");
    let inner = &author["properties"]["books"]["items"];
    assert!(
        inner["description"]
            .as_str()
            .unwrap_or("")
            .contains("recursive"),
        "{inner}"
    );
    assert!(inner.get("properties").is_none(), "{inner}");
    let get = tools.iter().find(|t| t["name"] == "getbook").unwrap();
    assert_eq!(get["inputSchema"]["required"], json!(["bookId"]), "{get}");

    // A call builds its request from parameters defined in another file; the mock answers
    // 404 for these paths, which comes back as a tool error with the status and body.
    petstore.clear_requests();
    let session = Session::open(&gw, "/mcp").await;
    let result = session
        .call(
            "library-deletebook",
            json!({"bookId": "b/1", "X-Request-Id": "req-9"}),
        )
        .await["result"]
        .clone();
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        text(&result).starts_with("HTTP 404 Not Found from DELETE http://"),
        "{result}"
    );
    assert_eq!(result["structuredContent"]["status"], 404, "{result}");
    let result = session
        .call(
            "library-listbooks",
            json!({"tag": ["sf", "classic"], "limit": 5}),
        )
        .await;
    assert_eq!(result["result"]["isError"], true, "{result}");
    let sent = petstore.requests();
    let lines: Vec<String> = sent
        .iter()
        .map(|r| format!("{} {}", r.method, r.path_and_query))
        .collect();
    assert_eq!(
        lines,
        [
            "DELETE /api/books/b%2F1",
            "GET /api/books?tag=sf,classic&limit=5"
        ],
        "{lines:?}"
    );
    assert_eq!(sent[0].header("x-request-id"), Some("req-9"));
}

#[tokio::test]
async fn every_auth_type_reaches_the_api_as_configured() {
    let petstore = Petstore::start().await;
    let spec30 = fixture_path("openapi30.json");
    let petstore_json = fixture_path("petstore.json");
    let multi = fixture_path("multi/openapi.yaml");
    let url = &petstore.url;
    // `pets_*` use the petstore spec (getPetById declares the `api_key` header scheme);
    // `v3_key` the 3.0 spec (an `X-API-Key` header scheme, global); `plain_key` a spec with
    // no scheme, so LiteLLM's `Authorization: ApiKey` is used.
    let servers = format!(
        r#"  pets_none:
    url: "{url}"
    spec_path: "{petstore_json}"
  pets_key:
    url: "{url}"
    spec_path: "{petstore_json}"
    auth_type: api_key
    auth_value: k-petstore
  v3_key:
    url: "{url}"
    spec_path: "{spec30}"
    auth_type: api_key
    auth_value: k-v3
  plain_key:
    url: "{url}"
    spec_path: "{multi}"
    auth_type: api_key
    auth_value: k-plain
  pets_bearer:
    url: "{url}"
    spec_path: "{petstore_json}"
    auth_type: bearer_token
    auth_value: t-bearer
  pets_basic:
    url: "{url}"
    spec_path: "{petstore_json}"
    auth_type: basic
    auth_value: "user:pa ss"
  pets_basic_encoded:
    url: "{url}"
    spec_path: "{petstore_json}"
    auth_type: basic
    auth_value: dXNlcjpwdw==
  pets_authorization:
    url: "{url}"
    spec_path: "{petstore_json}"
    auth_type: authorization
    auth_value: "Custom scheme-value"
  pets_static:
    url: "{url}"
    spec_path: "{petstore_json}"
    auth_type: bearer_token
    auth_value: t-static
    static_headers:
      X-Tenant: blue
"#
    );
    let names = [
        "pets_none",
        "pets_key",
        "v3_key",
        "plain_key",
        "pets_bearer",
        "pets_basic",
        "pets_basic_encoded",
        "pets_authorization",
        "pets_static",
    ];
    let gw = gateway(&servers, &names).await;
    let session = Session::open(&gw, "/mcp").await;
    let mut seen = Vec::new();
    for name in names {
        petstore.clear_requests();
        let (tool, arguments) = if name == "plain_key" {
            (format!("{name}-get__health"), json!({}))
        } else {
            (format!("{name}-getpetbyid"), json!({"petId": 1}))
        };
        let answer = session.call(&tool, arguments).await;
        assert!(answer.get("result").is_some(), "{name}: {answer}");
        let sent = petstore.requests();
        assert_eq!(sent.len(), 1, "{name}: {sent:?}");
        seen.push((name, sent[0].clone()));
    }
    let header = |name: &str, header: &str| {
        seen.iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, r)| r.header(header).map(str::to_owned))
    };
    assert_eq!(header("pets_none", "authorization"), None);
    assert_eq!(header("pets_none", "api_key"), None);
    assert_eq!(header("pets_key", "api_key").as_deref(), Some("k-petstore"));
    assert_eq!(header("pets_key", "authorization"), None);
    assert_eq!(header("v3_key", "x-api-key").as_deref(), Some("k-v3"));
    assert_eq!(
        header("plain_key", "authorization").as_deref(),
        Some("ApiKey k-plain")
    );
    assert_eq!(
        header("pets_bearer", "authorization").as_deref(),
        Some("Bearer t-bearer")
    );
    // user:pa ss
    assert_eq!(
        header("pets_basic", "authorization").as_deref(),
        Some("Basic dXNlcjpwYSBzcw==")
    );
    assert_eq!(
        header("pets_basic_encoded", "authorization").as_deref(),
        Some("Basic dXNlcjpwdw==")
    );
    assert_eq!(
        header("pets_authorization", "authorization").as_deref(),
        Some("Custom scheme-value")
    );
    assert_eq!(
        header("pets_static", "authorization").as_deref(),
        Some("Bearer t-static")
    );
    assert_eq!(header("pets_static", "x-tenant").as_deref(), Some("blue"));
    for (name, request) in &seen {
        assert!(
            !request.headers.values().any(|v| v.contains(MASTER_KEY)),
            "{name}: the gateway key reached the API: {request:?}"
        );
    }
}

#[tokio::test]
async fn failures_are_tool_errors_that_say_what_happened() {
    let petstore = Petstore::start().await;
    let closed = common::closed_port_url().await;
    let spec30 = fixture_path("openapi30.json");
    let servers = format!(
        "{}  quick:\n    url: \"{}\"\n    spec_path: \"{spec30}\"\n    timeout: 1\n  gone:\n    url: \"{closed}/v2\"\n    spec_path: \"{spec30}\"\n",
        petstore_entry("petstore_mcp", &petstore, ""),
        petstore.url,
    );
    let gw = gateway(&servers, &["petstore_mcp", "quick", "gone"]).await;
    let session = Session::open(&gw, "/mcp").await;

    let result = session
        .call("petstore_mcp-getpetbyid", json!({"petId": 999}))
        .await["result"]
        .clone();
    assert_eq!(result["isError"], true, "{result}");
    let message = text(&result);
    assert!(
        message.starts_with("HTTP 404 Not Found from GET http://127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("Pet not found"), "{message}");
    assert_eq!(
        result["structuredContent"]["body"]["message"],
        "Pet not found"
    );

    let result = session.call("quick-getstatus", json!({"code": 503})).await["result"].clone();
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"]["status"], 503);

    let started = Instant::now();
    let result = session.call("quick-slowoperation", json!({})).await["result"].clone();
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(&result).contains("timed out after 1 s"), "{result}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    let result = session.call("gone-getinventory", json!({})).await["result"].clone();
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(&result).contains("cannot connect"), "{result}");

    // Arguments the operation cannot take never reach the API.
    petstore.clear_requests();
    let result = session.call("petstore_mcp-getpetbyid", json!({})).await["result"].clone();
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(&result).contains("petId"), "{result}");
    let result = session
        .call("petstore_mcp-getpetbyid", json!({"petId": ".."}))
        .await["result"]
        .clone();
    assert_eq!(result["isError"], true, "{result}");
    assert!(petstore.requests().is_empty(), "{:?}", petstore.requests());
}

#[tokio::test]
async fn openapi_servers_get_the_prefixes_filters_and_permissions_of_any_server() {
    let petstore = Petstore::start().await;
    let servers = format!(
        "{}{}",
        petstore_entry(
            "petstore_mcp",
            &petstore,
            "    allowed_tools: [getpetbyid, findpetsbystatus, deletepet]\n    allowed_params:\n      findpetsbystatus: [status]\n    extra_headers: [x-trace-id]\n    access_groups: [pets]\n"
        ),
        petstore_entry(
            "other_api",
            &petstore,
            "    allowed_tools: [getinventory]\n"
        ),
    );
    let gw = gateway(&servers, &["petstore_mcp", "other_api"]).await;
    let session = Session::open(&gw, "/mcp").await;
    let mut names = session.tool_names().await;
    names.sort();
    assert_eq!(
        names,
        [
            "other_api-getinventory",
            "petstore_mcp-deletepet",
            "petstore_mcp-findpetsbystatus",
            "petstore_mcp-getpetbyid"
        ]
    );
    let refused = session
        .call(
            "petstore_mcp-findpetsbystatus",
            json!({"status": "sold", "limit": 1}),
        )
        .await;
    assert_eq!(
        refused["error"]["message"],
        "Parameters ['limit'] are not allowed for tool findpetsbystatus. Allowed parameters: ['status']. Contact proxy admin to allow these parameters.",
        "{refused}"
    );

    // Only the headers named in extra_headers go to the API.
    petstore.clear_requests();
    let answer = session
        .request_with(
            &[("x-trace-id", "trace-1"), ("x-other", "no")],
            "tools/call",
            json!({"name": "petstore_mcp-getpetbyid", "arguments": {"petId": 2}}),
        )
        .await;
    assert_eq!(
        answer["result"]["structuredContent"]["name"], "catty",
        "{answer}"
    );
    let sent = petstore.requests();
    assert_eq!(sent[0].header("x-trace-id"), Some("trace-1"));
    assert_eq!(sent[0].header("x-other"), None);

    // A key limited to the `pets` access group sees only that server's tools.
    let key = gw
        .generate_key(&json!({"object_permission": {"mcp_access_groups": ["pets"]}}))
        .await;
    let limited = Session::open_with_key(&gw, "/mcp", &key).await;
    let mut names = limited.tool_names().await;
    names.sort();
    assert_eq!(
        names,
        [
            "petstore_mcp-deletepet",
            "petstore_mcp-findpetsbystatus",
            "petstore_mcp-getpetbyid"
        ]
    );
    let refused = limited.call("other_api-getinventory", json!({})).await;
    assert!(
        refused.get("error").is_some() || refused["result"]["isError"] == true,
        "{refused}"
    );

    // LiteLLM's REST surface.
    let (status, health) = gw.get("/v1/mcp/server/health", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{health}");
    let (status, listed) = gw.get("/v1/mcp/server", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{listed}");
    let server_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server_name"] == "petstore_mcp")
        .map(|s| s["server_id"].as_str().unwrap().to_owned())
        .unwrap();
    let (status, result) = gw
        .post(
            "/mcp-rest/tools/call",
            Some(MASTER_KEY),
            &json!({"server_id": server_id, "name": "getpetbyid", "arguments": {"petId": 3}}),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert!(text(&result).contains("fishy"), "{result}");
}

#[tokio::test]
async fn a_broken_spec_stops_the_gateway_at_start_naming_the_server_and_the_problem() {
    let cases = [
        (fixture_path("broken.yaml"), "invalid YAML"),
        (
            "/nonexistent/junction/openapi.json".to_owned(),
            "cannot read",
        ),
    ];
    for (spec, problem) in cases {
        let config = std::env::temp_dir().join(format!(
            "junction-openapi-broken-{}.yaml",
            std::process::id()
        ));
        std::fs::write(
            &config,
            format!("mcp_servers:\n  broken_api:\n    url: http://127.0.0.1:9/v1\n    spec_path: \"{spec}\"\n"),
        )
        .unwrap();
        for command in [vec!["check", "--config"], vec!["--config"]] {
            let output = tokio::time::timeout(
                Duration::from_secs(60),
                tokio::process::Command::new(env!("CARGO_BIN_EXE_junction"))
                    .args(&command)
                    .arg(&config)
                    .args(if command.len() == 1 {
                        vec!["--port", "0"]
                    } else {
                        vec![]
                    })
                    .env("DATABASE_URL", "sqlite::memory:")
                    .kill_on_drop(true)
                    .output(),
            )
            .await
            .expect("junction did not exit on a broken spec")
            .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{command:?}: {stderr}");
            assert!(
                stderr.contains("mcp_servers.broken_api.spec_path") && stderr.contains(problem),
                "{command:?}: {stderr}"
            );
        }
        let _ = std::fs::remove_file(&config);
    }
}

#[tokio::test]
async fn v1_responses_runs_openapi_tools_in_its_loop() {
    use junction_mock_upstream::{MockOptions, MockUpstream, ScriptedToolCall};
    let petstore = Petstore::start().await;
    let llm = MockUpstream::start_with(MockOptions {
        record: true,
        tool_calls: vec![ScriptedToolCall::new(
            "petstore_mcp-getpetbyid",
            json!({"petId": 2}),
        )],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: sk-up}}\nmcp_servers:\n{}",
        llm.openai_base(),
        petstore_entry("petstore_mcp", &petstore, ""),
    );
    let gw = TestGateway::start(&yaml).await;
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "petstore_mcp")).await;
    let (status, response) = gw
        .post(
            "/v1/responses",
            Some(MASTER_KEY),
            &json!({
                "model": "gpt-4o",
                "input": "what is pet 2 called?",
                "tools": [{"type": "mcp", "server_label": "petstore_mcp", "server_url": "litellm_proxy",
                           "require_approval": "never", "allowed_tools": ["getpetbyid"]}]
            }),
        )
        .await;
    assert_eq!(status, 200, "{response}");
    let output = response["output"].as_array().unwrap();
    let kinds: Vec<&str> = output.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["mcp_list_tools", "mcp_call", "message"],
        "{response}"
    );
    assert_eq!(output[0]["tools"][0]["name"], "petstore_mcp-getpetbyid");
    assert_eq!(
        output[0]["tools"][0]["input_schema"]["properties"]["petId"]["type"],
        "integer"
    );
    assert_eq!(output[1]["status"], "completed", "{response}");
    assert!(
        output[1]["output"].as_str().unwrap().contains("catty"),
        "{response}"
    );
    assert_eq!(petstore.requests_to("/v2/pet/2").len(), 1);
}

#[tokio::test]
async fn an_openapi_server_can_be_added_through_the_api() {
    let petstore = Petstore::start().await;
    let yaml =
        format!("general_settings:\n  master_key: {MASTER_KEY}\n  store_model_in_db: true\n");
    let gw = TestGateway::start(&yaml).await;
    let (status, created) = gw
        .post(
            "/v1/mcp/server",
            Some(MASTER_KEY),
            &json!({"server_name": "stored_pets", "url": petstore.url,
                    "spec_path": fixture_path("petstore.json"),
                    "auth_type": "bearer_token", "auth_value": "t-stored"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["credentials"]["auth_value"], "****", "{created}");
    assert!(!created.to_string().contains("t-stored"), "{created}");
    mcp::wait_for_servers(&gw, |h| mcp::healthy(h, "stored_pets")).await;
    let session = Session::open(&gw, "/mcp").await;
    let result = session
        .call("stored_pets-getpetbyid", json!({"petId": 1}))
        .await["result"]
        .clone();
    assert_eq!(result["structuredContent"]["name"], "doggie", "{result}");
    assert_eq!(
        petstore.requests_to("/v2/pet/1")[0].header("authorization"),
        Some("Bearer t-stored")
    );

    // A spec that cannot be served is refused with the reason, and nothing is stored.
    let (status, refused) = gw
        .post(
            "/v1/mcp/server",
            Some(MASTER_KEY),
            &json!({"server_name": "bad_pets", "url": petstore.url,
                    "spec_path": fixture_path("broken.yaml")}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("invalid YAML"), "{refused}");
    let (_, listed) = gw.get("/v1/mcp/server", Some(MASTER_KEY)).await;
    assert!(!listed.to_string().contains("bad_pets"), "{listed}");
}
