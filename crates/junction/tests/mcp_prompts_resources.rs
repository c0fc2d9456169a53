//! Prompts, resources and resource templates through the gateway's own MCP endpoint (`/mcp`,
//! streamable HTTP), in front of real servers: server-everything over stdio (prompts, static
//! documents, templates), `mcp-server-time` (alias `clock`, none of those) and a server that
//! cannot start. Raw JSON-RPC over HTTP, as any client sends it.
//!
//! What is pinned: names prefixed as tools are, unique URIs unchanged, requests routed to the
//! right server with the upstream's own name and URI, scoping by path (what is outside the
//! scope is unknown), and the JSON-RPC error codes: -32602 for an unknown prompt, -32002 for
//! an unknown resource, -32603 naming the server when it is down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestGateway;
use common::mcp::{self, Session, node_bin, venv_bin};
use serde_json::json;

const ARCHITECTURE: &str = "demo://resource/static/document/architecture.md";
const TEXT_TEMPLATE: &str = "demo://resource/dynamic/text/{resourceId}";

/// A gateway in front of server-everything, mcp-server-time (alias `clock`) and a server
/// that cannot start; returns once the first two are in the catalog.
async fn gateway() -> TestGateway {
    let yaml = format!(
        r#"
mcp_servers:
  everything:
    command: {everything}
    args: ["stdio"]
  time:
    command: {time}
    alias: clock
  broken:
    command: /nonexistent/junction-no-such-server
"#,
        everything = node_bin("mcp-server-everything").display(),
        time = venv_bin("mcp-server-time").display(),
    );
    let gw = TestGateway::start(&yaml).await;
    // `tools_count` comes from the catalog, which holds prompts and resources too.
    mcp::wait_for_servers(&gw, |h| {
        mcp::healthy(h, "everything") && mcp::healthy(h, "time")
    })
    .await;
    gw
}

/// A session whose `initialize` declared prompts and resources with change notifications.
async fn open<'a>(gw: &'a TestGateway, path: &str) -> Session<'a> {
    let session = Session::open(gw, path).await;
    let capabilities = &session.initialized["capabilities"];
    assert_eq!(
        capabilities["prompts"]["listChanged"], true,
        "{capabilities}"
    );
    assert_eq!(
        capabilities["resources"]["listChanged"], true,
        "{capabilities}"
    );
    session
}

#[tokio::test]
async fn prompts_are_listed_prefixed_and_filled_in_on_their_server() {
    let gw = gateway().await;
    let session = open(&gw, "/mcp").await;

    let listed = session.request("prompts/list", json!({})).await;
    let prompts = listed["result"]["prompts"].as_array().unwrap();
    let names: Vec<&str> = prompts
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in ["everything-simple-prompt", "everything-args-prompt"] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    // Only the name changes.
    let args_prompt = prompts
        .iter()
        .find(|p| p["name"] == "everything-args-prompt")
        .unwrap();
    assert_eq!(args_prompt["title"], "Arguments Prompt");
    assert_eq!(args_prompt["arguments"][0]["name"], "city");
    assert_eq!(args_prompt["arguments"][0]["required"], true);

    let filled = session
        .request(
            "prompts/get",
            json!({"name": "everything-args-prompt", "arguments": {"city": "Paris"}}),
        )
        .await;
    assert_eq!(
        filled["result"]["messages"],
        json!([{"role": "user", "content": {"type": "text", "text": "What's weather in Paris?"}}]),
        "{filled}"
    );
    let simple = session
        .request("prompts/get", json!({"name": "everything-simple-prompt"}))
        .await;
    assert_eq!(
        simple["result"]["messages"][0]["content"]["text"],
        "This is a simple prompt without arguments.",
        "{simple}"
    );

    let unknown = session
        .request("prompts/get", json!({"name": "everything-no-such-prompt"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert_eq!(
        unknown["error"]["message"],
        "unknown prompt everything-no-such-prompt"
    );
    // A server that is down: an internal error that names it.
    let down = session
        .request("prompts/get", json!({"name": "broken-anything"}))
        .await;
    assert_eq!(down["error"]["code"], -32603, "{down}");
    let message = down["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("MCP server broken is unavailable"),
        "{message}"
    );

    // Scoped to the clock: it has no prompts, and everything's are unknown there.
    let clock = open(&gw, "/clock/mcp").await;
    assert_eq!(
        clock.listed("prompts/list", "prompts", "name").await,
        Vec::<String>::new()
    );
    let outside = clock
        .request("prompts/get", json!({"name": "everything-simple-prompt"}))
        .await;
    assert_eq!(outside["error"]["code"], -32602, "{outside}");
    assert_eq!(
        outside["error"]["message"],
        "unknown prompt everything-simple-prompt"
    );
    // Within everything's scope, the bare name is enough.
    let scoped = open(&gw, "/mcp/everything").await;
    let bare = scoped
        .request("prompts/get", json!({"name": "simple-prompt"}))
        .await;
    assert_eq!(
        bare["result"]["messages"][0]["content"]["text"],
        "This is a simple prompt without arguments.",
        "{bare}"
    );
}

#[tokio::test]
async fn resources_and_templates_are_listed_and_read_from_their_server() {
    let gw = gateway().await;
    let session = open(&gw, "/mcp").await;

    let listed = session.request("resources/list", json!({})).await;
    let resources = listed["result"]["resources"].as_array().unwrap();
    let document = resources
        .iter()
        .find(|r| r["uri"] == ARCHITECTURE)
        .unwrap_or_else(|| panic!("{ARCHITECTURE} missing: {listed}"));
    assert_eq!(document["name"], "everything-architecture.md");
    assert_eq!(document["mimeType"], "text/markdown");
    assert!(
        resources
            .iter()
            .filter(|r| r["uri"]
                .as_str()
                .unwrap()
                .starts_with("demo://resource/static/document/"))
            .count()
            >= 3,
        "{listed}"
    );

    let read = session
        .request("resources/read", json!({"uri": ARCHITECTURE}))
        .await;
    let content = &read["result"]["contents"][0];
    assert_eq!(content["uri"], ARCHITECTURE, "{read}");
    assert_eq!(content["mimeType"], "text/markdown");
    assert!(!content["text"].as_str().unwrap().is_empty(), "{read}");

    let templates = session
        .listed(
            "resources/templates/list",
            "resourceTemplates",
            "uriTemplate",
        )
        .await;
    assert!(
        templates.iter().any(|t| t == TEXT_TEMPLATE),
        "{templates:?}"
    );
    let names = session
        .listed("resources/templates/list", "resourceTemplates", "name")
        .await;
    assert!(
        names
            .iter()
            .any(|n| n == "everything-Dynamic Text Resource"),
        "{names:?}"
    );
    // An expansion of a template goes to the template's server.
    let expanded = session
        .request(
            "resources/read",
            json!({"uri": "demo://resource/dynamic/text/7"}),
        )
        .await;
    assert_eq!(
        expanded["result"]["contents"][0]["uri"], "demo://resource/dynamic/text/7",
        "{expanded}"
    );

    let unknown = session
        .request("resources/read", json!({"uri": "nowhere://x"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32002, "{unknown}");
    assert_eq!(unknown["error"]["message"], "unknown resource nowhere://x");

    // Scoped to the clock: everything's resources are neither listed nor readable there.
    let clock = open(&gw, "/clock/mcp").await;
    let uris = clock.listed("resources/list", "resources", "uri").await;
    assert!(!uris.iter().any(|u| u.starts_with("demo://")), "{uris:?}");
    let templates = clock
        .listed(
            "resources/templates/list",
            "resourceTemplates",
            "uriTemplate",
        )
        .await;
    assert!(
        !templates.iter().any(|t| t == TEXT_TEMPLATE),
        "{templates:?}"
    );
    let outside = clock
        .request("resources/read", json!({"uri": ARCHITECTURE}))
        .await;
    assert_eq!(outside["error"]["code"], -32002, "{outside}");
    assert_eq!(
        outside["error"]["message"],
        format!("unknown resource {ARCHITECTURE}")
    );
}
