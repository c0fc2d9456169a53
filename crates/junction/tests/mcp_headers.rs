//! LiteLLM's per-request upstream headers on `/mcp` and `/mcp-rest`: `extra_headers`,
//! `static_headers`, per-server credentials `x-mcp-<alias>-<header>`, the legacy `x-mcp-auth`
//! (and its renamed form), and the rule above them all: the gateway's key never reaches an
//! upstream. The upstream is a real `fastmcp` server (`python/header_echo_server.py`) whose
//! tools answer with the headers they were called with, optionally requiring a bearer token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::mcp::{EchoServer, Session, wait_for_servers};
use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};

/// The text of a successful tool result.
fn text(answer: &Value) -> String {
    let result = &answer["result"];
    assert_eq!(result["isError"], false, "{answer}");
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

/// The headers the upstream saw, from a `headers` tool result.
fn seen(answer: &Value) -> Value {
    serde_json::from_str(&text(answer)).unwrap()
}

fn never_the_key(headers: &Value) {
    let dump = headers.to_string();
    assert!(
        !dump.contains(MASTER_KEY),
        "the gateway key leaked upstream: {dump}"
    );
    assert!(headers.get("x-litellm-api-key").is_none(), "{dump}");
}

#[tokio::test]
async fn extra_headers_forward_only_the_listed_ones_and_static_headers_win() {
    let echo = EchoServer::start(&[]).await;
    let gw = TestGateway::start(&format!(
        "mcp_servers:\n  echo:\n    url: {}\n    extra_headers: [\"X-Tenant\", \"Authorization\", \"x-pinned\"]\n    static_headers:\n      x-static: fixed\n      x-pinned: by-config\n",
        echo.url
    ))
    .await;
    wait_for_servers(&gw, |h| common::mcp::healthy(h, "echo")).await;
    let session = Session::open(&gw, "/mcp").await;

    // The key in x-litellm-api-key: the client's Authorization is its own, and is forwarded.
    let answer = session
        .request_with(
            &[
                ("x-tenant", "t1"),
                ("x-other", "not listed"),
                ("authorization", "Bearer upstream-token"),
                ("x-pinned", "by-client"),
            ],
            "tools/call",
            json!({"name": "echo-headers", "arguments": {}}),
        )
        .await;
    let headers = seen(&answer);
    assert_eq!(headers["x-tenant"], "t1", "{headers}");
    assert_eq!(headers["authorization"], "Bearer upstream-token");
    assert_eq!(headers["x-static"], "fixed");
    assert_eq!(headers["x-pinned"], "by-config", "static headers win");
    assert!(headers.get("x-other").is_none(), "{headers}");
    never_the_key(&headers);

    // Without the listed headers, the shared session serves: static headers only.
    let headers = seen(&session.call("echo-headers", json!({})).await);
    assert!(headers.get("x-tenant").is_none(), "{headers}");
    assert_eq!(headers["x-static"], "fixed");
    never_the_key(&headers);

    // The key in Authorization: that header is the gateway's, never forwarded, even though
    // `extra_headers` lists it.
    let answer = client()
        .post(format!("{}/mcp-rest/tools/call", gw.url))
        .bearer_auth(MASTER_KEY)
        .header("x-tenant", "t2")
        .json(&json!({"server_id": "echo", "name": "headers", "arguments": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    let headers: Value =
        serde_json::from_str(body["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(headers["x-tenant"], "t2", "{headers}");
    assert!(headers.get("authorization").is_none(), "{headers}");
    never_the_key(&headers);
    gw.stop().await;
}

#[tokio::test]
async fn per_server_credentials_reach_their_server_only_and_unlock_its_tools() {
    // `github` needs each user's own token; `other` takes anything.
    let github = EchoServer::start(&["user-1", "user-2"]).await;
    let other = EchoServer::start(&[]).await;
    let gw = TestGateway::start(&format!(
        "mcp_servers:\n  github:\n    url: {}\n    auth_type: bearer_token\n  other:\n    url: {}\n",
        github.url, other.url
    ))
    .await;
    // Without a credential the gateway cannot reach `github`: it is unhealthy, not hidden.
    wait_for_servers(&gw, |h| {
        common::mcp::healthy(h, "other")
            && h.as_array().is_some_and(|servers| {
                servers
                    .iter()
                    .any(|s| s["server_name"] == "github" && s["status"] == "unhealthy")
            })
    })
    .await;
    let session = Session::open(&gw, "/mcp").await;
    let names = session.tool_names().await;
    assert!(!names.iter().any(|n| n.starts_with("github-")), "{names:?}");

    let user1 = [("x-mcp-github-authorization", "Bearer user-1")];
    let listed = session.request_with(&user1, "tools/list", json!({})).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"github-whoami"), "{names:?}");
    assert!(names.contains(&"other-headers"), "{names:?}");

    let call = |name: &'static str| json!({"name": name, "arguments": {}});
    let whoami = session
        .request_with(&user1, "tools/call", call("github-whoami"))
        .await;
    assert_eq!(text(&whoami), "user-1");
    // Another user's token gets a session of its own.
    let user2 = [("x-mcp-github-authorization", "Bearer user-2")];
    let whoami = session
        .request_with(&user2, "tools/call", call("github-whoami"))
        .await;
    assert_eq!(text(&whoami), "user-2");
    // The credential for `github` never reaches `other`.
    let headers = seen(
        &session
            .request_with(&user1, "tools/call", call("other-headers"))
            .await,
    );
    assert!(headers.get("authorization").is_none(), "{headers}");
    assert!(!headers.to_string().contains("user-1"), "{headers}");
    never_the_key(&headers);

    // A wrong token: the upstream refuses, and the call says so.
    let refused = session
        .request_with(
            &[("x-mcp-github-authorization", "Bearer stolen")],
            "tools/call",
            call("github-whoami"),
        )
        .await;
    assert!(
        refused["result"]["isError"] == true || refused.get("error").is_some(),
        "{refused}"
    );
    // Without a credential, the tool is not callable.
    let anonymous = session.call("github-whoami", json!({})).await;
    assert!(
        anonymous["result"]["isError"] == true || anonymous.get("error").is_some(),
        "{anonymous}"
    );

    // The REST API takes the same headers.
    let rest = client()
        .post(format!("{}/mcp-rest/tools/call", gw.url))
        .header("x-litellm-api-key", MASTER_KEY)
        .header("x-mcp-github-authorization", "Bearer user-2")
        .json(&json!({"server_id": "github", "name": "whoami", "arguments": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);
    let body: Value = rest.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "user-2", "{body}");
    gw.stop().await;
}

#[tokio::test]
async fn legacy_x_mcp_auth_is_formatted_per_auth_type_and_can_be_renamed() {
    let typed = EchoServer::start(&["static", "from-client"]).await;
    let untyped = EchoServer::start(&[]).await;
    let servers = format!(
        "mcp_servers:\n  typed:\n    url: {}\n    auth_type: bearer_token\n    auth_value: static\n  untyped:\n    url: {}\n",
        typed.url, untyped.url
    );
    let gw = TestGateway::start(&servers).await;
    wait_for_servers(&gw, |h| {
        common::mcp::healthy(h, "typed") && common::mcp::healthy(h, "untyped")
    })
    .await;
    let session = Session::open(&gw, "/mcp").await;
    let call = |name: &'static str| json!({"name": name, "arguments": {}});
    assert_eq!(
        text(&session.call("typed-whoami", json!({})).await),
        "static"
    );
    let legacy = [("x-mcp-auth", "from-client")];
    let whoami = session
        .request_with(&legacy, "tools/call", call("typed-whoami"))
        .await;
    assert_eq!(text(&whoami), "from-client");
    // A server without auth_type has no way to send it (as in LiteLLM).
    let headers = seen(
        &session
            .request_with(&legacy, "tools/call", call("untyped-headers"))
            .await,
    );
    assert!(headers.get("authorization").is_none(), "{headers}");
    // The per-server header wins over the legacy one.
    let both = [
        ("x-mcp-auth", "static"),
        ("x-mcp-typed-authorization", "Bearer from-client"),
    ];
    let whoami = session
        .request_with(&both, "tools/call", call("typed-whoami"))
        .await;
    assert_eq!(text(&whoami), "from-client");
    gw.stop().await;

    // Renamed in general_settings: the new name works, x-mcp-auth no longer does.
    let gw = TestGateway::start(&format!(
        "{servers}general_settings:\n  master_key: {MASTER_KEY}\n  mcp_client_side_auth_header_name: X-Upstream-Auth\n"
    ))
    .await;
    wait_for_servers(&gw, |h| common::mcp::healthy(h, "typed")).await;
    let session = Session::open(&gw, "/mcp").await;
    let whoami = session
        .request_with(
            &[("x-upstream-auth", "from-client")],
            "tools/call",
            call("typed-whoami"),
        )
        .await;
    assert_eq!(text(&whoami), "from-client");
    let whoami = session
        .request_with(&legacy, "tools/call", call("typed-whoami"))
        .await;
    assert_eq!(text(&whoami), "static");
    gw.stop().await;
}
