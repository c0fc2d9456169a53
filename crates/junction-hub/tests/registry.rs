//! The registry against real MCP servers: server-everything over stdio and streamable HTTP,
//! and the Python `mcp-server-time` over stdio, configured through `config.yaml` text as a
//! user would write it.
//!
//! What matters here is what the gateway promises: one catalog of prefixed names over every
//! transport, calls routed by exposed or bare name, filters applied, a broken or slow server
//! never holding up boot or the others, and a server that comes up late joining on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{EverythingHttp, free_port, init_logs, url_on, wait_until};
use junction_config::McpServerConfig;
use junction_hub::naming::NameError;
use junction_hub::server_id::config_server_id;
use junction_hub::{HubError, Registry, RegistryOptions, ServerStatus};
use junction_mcp::model::{CallToolResult, GetPromptResult, ReadResourceResult};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

/// Short waits, so retries happen within a test's patience.
fn fast() -> RegistryOptions {
    RegistryOptions {
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(500),
        ..RegistryOptions::default()
    }
}

fn servers(yaml: &str) -> BTreeMap<String, McpServerConfig> {
    junction_config::parse(yaml, &|_| None)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
        .mcp_servers
}

async fn start(yaml: &str) -> Arc<Registry> {
    Registry::start_with(&servers(yaml), "-", fast())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn args(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => panic!("arguments must be an object, not {other}"),
    }
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .find_map(|block| block.as_text().map(|t| t.text.clone()))
        .unwrap_or_else(|| panic!("no text in {result:?}"))
}

fn status(registry: &Registry, server: &str) -> ServerStatus {
    registry
        .health()
        .into_iter()
        .find(|h| h.server_name == server)
        .unwrap_or_else(|| panic!("no server {server}"))
        .status
}

async fn wait_healthy(registry: &Registry, servers: &[&str]) {
    wait_until("the servers are healthy", Duration::from_secs(60), || {
        servers
            .iter()
            .all(|s| status(registry, s) == ServerStatus::Healthy)
    })
    .await;
}

fn stdio_everything(name: &str) -> String {
    format!(
        "  {name}:\n    command: {}\n    args: [\"stdio\"]\n",
        common::everything()
    )
}

fn stdio_time(name: &str) -> String {
    format!("  {name}:\n    command: {}\n", common::time_server())
}

#[tokio::test]
async fn one_catalog_over_stdio_http_and_python_servers() {
    init_logs();
    let web = EverythingHttp::start().await;
    let yaml = format!(
        "mcp_servers:\n{}  web:\n    url: {}\n{}",
        stdio_everything("everything"),
        web.url(),
        stdio_time("time"),
    );
    let registry = start(&yaml).await;
    wait_healthy(&registry, &["everything", "web", "time"]).await;

    let catalog = registry.catalog();
    let names: Vec<&str> = catalog
        .names()
        .entries()
        .iter()
        .map(|e| e.exposed.as_str())
        .collect();
    for expected in [
        "everything-echo",
        "everything-get-sum",
        "web-echo",
        "time-get_current_time",
        "time-convert_time",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    // Only the name changes: schemas, annotations and descriptions are the upstream's own.
    let (exposed, tool) = catalog
        .tools(Some(&["everything".to_owned()]))
        .into_iter()
        .find(|(e, _)| e.original == "get-structured-content")
        .expect("get-structured-content is listed");
    assert_eq!(exposed.exposed, "everything-get-structured-content");
    assert_eq!(tool.name, "everything-get-structured-content");
    let upstream = catalog
        .tool("everything", "get-structured-content")
        .unwrap();
    assert_eq!(upstream.name, "get-structured-content");
    assert!(tool.output_schema.is_some());
    assert_eq!(tool.output_schema, upstream.output_schema);
    assert_eq!(tool.input_schema, upstream.input_schema);
    assert_eq!(tool.annotations, upstream.annotations);
    assert_eq!(tool.description, upstream.description);
    assert!(
        catalog
            .tools(Some(&["time".to_owned()]))
            .iter()
            .all(|(e, _)| e.server == "time")
    );

    // By exposed name, over each transport.
    let echoed = registry
        .call_tool("everything-echo", args(json!({"message": "stdio"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "Echo: stdio");
    let echoed = registry
        .call_tool("web-echo", args(json!({"message": "http"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "Echo: http");
    // A bare name one server has is enough…
    let now = registry
        .call_tool("get_current_time", args(json!({"timezone": "UTC"})))
        .await
        .unwrap();
    assert_ne!(now.is_error, Some(true), "{now:?}");
    assert!(text(&now).contains("UTC"), "{}", text(&now));
    // …one that two servers have is refused with both candidates, never guessed.
    match registry
        .call_tool("echo", args(json!({"message": "?"})))
        .await
    {
        Err(HubError::UnknownTool(NameError::Ambiguous { candidates, .. })) => {
            assert_eq!(candidates, ["everything-echo", "web-echo"]);
        }
        other => panic!("expected an ambiguity, got {other:?}"),
    }
    assert!(matches!(
        registry.call_tool("no-such-tool", None).await,
        Err(HubError::UnknownTool(NameError::Unknown(_)))
    ));

    // The REST form: a server (by name or LiteLLM's id) and the upstream name.
    let sum = registry
        .call_tool_on(
            &junction_hub::Caller::default(),
            "web",
            "get-sum",
            args(json!({"a": 2, "b": 3})),
        )
        .await
        .unwrap();
    assert!(text(&sum).contains('5'), "{}", text(&sum));
    let time_id = config_server_id("time", None, None, None, None);
    assert_eq!(registry.find_server(&time_id).unwrap().name, "time");
    let by_id = registry
        .call_tool_on(
            &junction_hub::Caller::default(),
            &time_id,
            "get_current_time",
            args(json!({"timezone": "UTC"})),
        )
        .await
        .unwrap();
    assert_ne!(by_id.is_error, Some(true));
    assert!(matches!(
        registry
            .call_tool_on(&junction_hub::Caller::default(), "nowhere", "echo", None)
            .await,
        Err(HubError::UnknownServer(_))
    ));
    // A tool that fails answers with a result for the model, not an error.
    let failed = registry
        .call_tool(
            "time-get_current_time",
            args(json!({"timezone": "Not/A_Zone"})),
        )
        .await
        .unwrap();
    assert_eq!(failed.is_error, Some(true), "{failed:?}");

    let health = registry.health();
    assert_eq!(
        health
            .iter()
            .map(|h| h.server_name.as_str())
            .collect::<Vec<_>>(),
        ["everything", "time", "web"]
    );
    for h in &health {
        assert_eq!(h.status, ServerStatus::Healthy);
        assert_eq!(h.error, None);
        assert!(h.last_health_check.is_some());
        assert_eq!(
            h.tools_count,
            catalog.server_tools(&h.server_name).unwrap().len()
        );
    }
    assert_eq!(health[1].tools_count, 2);
    assert_eq!(health[1].server_id, time_id);
    registry.shutdown().await;
}

#[tokio::test]
async fn a_broken_or_slow_server_holds_up_neither_boot_nor_the_others() {
    init_logs();
    // Accepts connections and never answers: connecting to it hangs.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/mcp", silent.local_addr().unwrap());
    let yaml = format!(
        "mcp_servers:\n  broken:\n    command: /nonexistent/junction-no-such-server\n  slow:\n    url: {silent_url}\n{}",
        stdio_time("time"),
    );
    let servers = servers(&yaml);
    let started = Instant::now();
    let registry = Registry::start_with(&servers, "-", fast()).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "start took {:?}",
        started.elapsed()
    );

    wait_healthy(&registry, &["time"]).await;
    wait_until("broken is unhealthy", Duration::from_secs(10), || {
        status(&registry, "broken") == ServerStatus::Unhealthy
    })
    .await;
    let broken = registry
        .health()
        .into_iter()
        .find(|h| h.server_name == "broken")
        .unwrap();
    let error = broken.error.expect("an unhealthy server says why");
    assert!(
        error.starts_with(
            "cannot connect to MCP server broken: cannot start \"/nonexistent/junction-no-such-server\""
        ),
        "{error}"
    );
    assert_eq!(broken.tools_count, 0);
    assert!(broken.last_health_check.is_some());
    assert_eq!(status(&registry, "slow"), ServerStatus::Connecting);

    // The catalog has what is known; the others still work.
    let catalog = registry.catalog();
    assert!(!catalog.has_server("broken") && !catalog.has_server("slow"));
    assert!(catalog.has_server("time"));
    let now = registry
        .call_tool("time-get_current_time", args(json!({"timezone": "UTC"})))
        .await
        .unwrap();
    assert_ne!(now.is_error, Some(true));
    match registry.call_tool("broken-anything", None).await {
        Err(HubError::Unavailable { server, reason }) => {
            assert_eq!(server, "broken");
            assert!(reason.contains("broken"), "{reason}");
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(matches!(
        registry
            .call_tool_on(&junction_hub::Caller::default(), "slow", "x", None)
            .await,
        Err(HubError::Unavailable { .. })
    ));

    // Shutting down does not wait for the hanging connection either.
    let stopping = Instant::now();
    registry.shutdown().await;
    assert!(stopping.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[tokio::test]
async fn allowed_and_disallowed_tools_and_params_apply() {
    init_logs();
    let yaml = format!(
        "mcp_servers:\n{}    allowed_tools: [\"echo\", \"everything-get-sum\"]\n    allowed_params:\n      echo: [\"message\"]\n{}    disallowed_tools: [\"convert_time\"]\n",
        stdio_everything("everything"),
        stdio_time("time"),
    );
    let registry = start(&yaml).await;
    wait_healthy(&registry, &["everything", "time"]).await;
    let catalog = registry.catalog();
    let names: Vec<&str> = catalog
        .names()
        .entries()
        .iter()
        .map(|e| e.exposed.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "everything-echo",
            "everything-get-sum",
            "time-get_current_time"
        ]
    );
    let counts: Vec<usize> = registry.health().iter().map(|h| h.tools_count).collect();
    assert_eq!(counts, [2, 1]);

    let refusal = |result: Result<CallToolResult, HubError>| match result {
        Err(HubError::Forbidden(refusal)) => refusal.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        refusal(
            registry
                .call_tool("everything-echo", args(json!({"message": "x", "extra": 1})))
                .await
        ),
        "Parameters ['extra'] are not allowed for tool echo. Allowed parameters: ['message']. \
         Contact proxy admin to allow these parameters."
    );
    assert_eq!(
        refusal(
            registry
                .call_tool_on(
                    &junction_hub::Caller::default(),
                    "everything",
                    "get-tiny-image",
                    None
                )
                .await
        ),
        "Tool get-tiny-image is not allowed for server everything. \
         Contact proxy admin to allow this tool."
    );
    assert_eq!(
        refusal(
            registry
                .call_tool_on(
                    &junction_hub::Caller::default(),
                    "time",
                    "convert_time",
                    args(json!({"time": "10:00"}))
                )
                .await
        ),
        "Tool convert_time is not allowed for server time. Contact proxy admin to allow this tool."
    );
    // A hidden tool is not callable by its prefixed name either.
    assert!(matches!(
        registry.call_tool("time-convert_time", None).await,
        Err(HubError::UnknownTool(_))
    ));
    let echoed = registry
        .call_tool("everything-echo", args(json!({"message": "ok"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "Echo: ok");
    registry.shutdown().await;
}

#[tokio::test]
async fn a_server_that_comes_up_later_joins_the_catalog() {
    init_logs();
    let port = free_port();
    let yaml = format!("mcp_servers:\n  web:\n    url: {}\n", url_on(port));
    let registry = start(&yaml).await;
    let mut catalogs = registry.subscribe();
    wait_until("web is unhealthy", Duration::from_secs(10), || {
        status(&registry, "web") == ServerStatus::Unhealthy
    })
    .await;
    assert!(registry.health()[0].error.is_some());
    assert!(matches!(
        registry.call_tool("web-echo", None).await,
        Err(HubError::Unavailable { .. })
    ));

    let _web = EverythingHttp::start_on(port).await;
    tokio::time::timeout(
        Duration::from_secs(30),
        catalogs.wait_for(|catalog| catalog.has_server("web")),
    )
    .await
    .expect("web joins the catalog within 30 s")
    .unwrap();
    let health = &registry.health()[0];
    assert_eq!(health.status, ServerStatus::Healthy);
    assert_eq!(health.error, None);
    let echoed = registry
        .call_tool("web-echo", args(json!({"message": "back"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "Echo: back");
    registry.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_stdio_servers() {
    init_logs();
    let dir = std::env::temp_dir().join(format!(
        "junction-hub-shutdown-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let yaml = format!(
        "mcp_servers:\n  everything:\n    command: sh\n    args: [\"-c\", \"echo $$ > {}; exec {} stdio\"]\n",
        pid_file.display(),
        common::everything()
    );
    let registry = start(&yaml).await;
    wait_healthy(&registry, &["everything"]).await;
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(common::process_exists(pid));
    registry.shutdown().await;
    wait_until("the stdio server is gone", Duration::from_secs(15), || {
        !common::process_exists(pid)
    })
    .await;
    assert!(matches!(
        registry
            .call_tool_on(&junction_hub::Caller::default(), "everything", "echo", None)
            .await,
        Err(HubError::Unavailable { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn config_errors_name_the_yaml_path_and_start_nothing() {
    let yaml = "mcp_servers:\n  gh:\n    url: https://example.invalid/mcp\n    auth_type: magic\n    auth_value: x\n";
    match Registry::start(&servers(yaml), "-").await {
        Err(HubError::Config(error)) => {
            assert_eq!(error.path, "mcp_servers.gh.auth_type");
            assert!(
                error
                    .to_string()
                    .starts_with("mcp_servers.gh.auth_type: unknown auth_type")
            );
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

async fn wait_listed(registry: &Registry, servers: &[&str]) {
    wait_until("the servers are listed", Duration::from_secs(60), || {
        let catalog = registry.catalog();
        servers.iter().all(|s| catalog.has_server(s))
    })
    .await;
}

fn prompt_text(result: &GetPromptResult) -> String {
    let message = result
        .messages
        .first()
        .unwrap_or_else(|| panic!("no message in {result:?}"));
    serde_json::to_value(&message.content).unwrap()["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {result:?}"))
        .to_owned()
}

fn content_uri_and_text(result: &ReadResourceResult) -> (String, String) {
    let content = serde_json::to_value(&result.contents[0]).unwrap();
    (
        content["uri"].as_str().unwrap().to_owned(),
        content["text"].as_str().unwrap_or_default().to_owned(),
    )
}

const ARCHITECTURE: &str = "demo://resource/static/document/architecture.md";

#[tokio::test]
async fn prompts_resources_and_templates_are_listed_prefixed_and_routed() {
    init_logs();
    let yaml = format!(
        "mcp_servers:\n{}{}  broken:\n    command: /nonexistent/junction-no-such-server\n",
        stdio_everything("everything"),
        stdio_time("time"),
    );
    let registry = start(&yaml).await;
    wait_listed(&registry, &["everything", "time"]).await;
    let catalog = registry.catalog();

    // Prompts: named as tools are; everything else is the upstream's own.
    let prompts = catalog.prompts(None);
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    for expected in ["everything-simple-prompt", "everything-args-prompt"] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert!(
        names.iter().all(|n| n.starts_with("everything-")),
        "{names:?}"
    );
    let args_prompt = prompts
        .iter()
        .find(|p| p.name == "everything-args-prompt")
        .unwrap();
    assert_eq!(args_prompt.title.as_deref(), Some("Arguments Prompt"));
    let arguments: Vec<&str> = args_prompt
        .arguments
        .iter()
        .flatten()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(arguments, ["city", "state"]);
    assert_eq!(
        catalog.prompt("everything", "args-prompt").unwrap().name,
        "args-prompt"
    );
    assert!(catalog.prompts(Some(&["time".to_owned()])).is_empty());

    // Getting one: by exposed name, and by bare name when only one server has it.
    let filled = registry
        .get_prompt("everything-args-prompt", args(json!({"city": "Paris"})))
        .await
        .unwrap();
    assert_eq!(prompt_text(&filled), "What's weather in Paris?");
    let simple = registry.get_prompt("simple-prompt", None).await.unwrap();
    assert_eq!(
        prompt_text(&simple),
        "This is a simple prompt without arguments."
    );
    match registry.get_prompt("everything-no-such-prompt", None).await {
        Err(error @ HubError::UnknownPrompt(NameError::Unknown(_))) => {
            assert_eq!(
                error.to_string(),
                "unknown prompt everything-no-such-prompt"
            );
        }
        other => panic!("expected an unknown prompt, got {other:?}"),
    }
    // Outside the scope, a prompt is unknown.
    assert!(matches!(
        registry
            .get_prompt_in(
                &junction_hub::Caller::default(),
                Some(&["time".to_owned()]),
                "everything-simple-prompt",
                None
            )
            .await,
        Err(HubError::UnknownPrompt(NameError::Unknown(_)))
    ));
    // The upstream's own refusal (a required argument is missing) keeps its code.
    let refused = registry
        .get_prompt("everything-args-prompt", None)
        .await
        .unwrap_err();
    assert!(refused.upstream_code().is_some(), "{refused:?}");
    // A prompt of a server that is down: it says so.
    match registry.get_prompt("broken-anything", None).await {
        Err(HubError::Unavailable { server, .. }) => assert_eq!(server, "broken"),
        other => panic!("expected unavailable, got {other:?}"),
    }

    // Resources: unique URIs unchanged, names prefixed.
    let resources = catalog.resources(None);
    let document = resources
        .iter()
        .find(|r| r.uri == ARCHITECTURE)
        .unwrap_or_else(|| panic!("{ARCHITECTURE} missing from {resources:?}"));
    assert_eq!(document.name, "everything-architecture.md");
    assert_eq!(document.mime_type.as_deref(), Some("text/markdown"));
    assert!(
        resources
            .iter()
            .filter(|r| r.uri.starts_with("demo://resource/static/document/"))
            .count()
            >= 3,
        "{resources:?}"
    );
    assert_eq!(
        catalog.resource("everything", ARCHITECTURE).unwrap().name,
        "architecture.md"
    );
    let read = registry.read_resource(ARCHITECTURE).await.unwrap();
    let (uri, text) = content_uri_and_text(&read);
    assert_eq!(uri, ARCHITECTURE);
    assert!(!text.is_empty());

    // Templates, and reading an expansion of one.
    let templates = catalog.resource_templates(None);
    let dynamic = templates
        .iter()
        .find(|t| t.uri_template == "demo://resource/dynamic/text/{resourceId}")
        .unwrap_or_else(|| panic!("text template missing from {templates:?}"));
    assert_eq!(dynamic.name, "everything-Dynamic Text Resource");
    let expanded = registry
        .read_resource("demo://resource/dynamic/text/1")
        .await
        .unwrap();
    assert_eq!(
        content_uri_and_text(&expanded).0,
        "demo://resource/dynamic/text/1"
    );

    assert!(matches!(
        registry.read_resource("nowhere://x").await,
        Err(HubError::UnknownResource(NameError::UnknownResource(_)))
    ));
    // Outside the scope, a resource is unknown.
    assert!(matches!(
        registry
            .read_resource_in(
                &junction_hub::Caller::default(),
                Some(&["time".to_owned()]),
                ARCHITECTURE
            )
            .await,
        Err(HubError::UnknownResource(_))
    ));
    // A server without prompts or resources is healthy all the same.
    assert_eq!(status(&registry, "time"), ServerStatus::Healthy);
    registry.shutdown().await;
}

#[tokio::test]
async fn a_uri_two_servers_share_is_namespaced_and_reads_come_back_namespaced() {
    init_logs();
    let yaml = format!(
        "mcp_servers:\n{}{}",
        stdio_everything("everything"),
        stdio_everything("again"),
    );
    let registry = start(&yaml).await;
    wait_listed(&registry, &["everything", "again"]).await;
    let catalog = registry.catalog();

    let uris: Vec<String> = catalog.resources(None).into_iter().map(|r| r.uri).collect();
    let ours = format!("mcp://everything/{ARCHITECTURE}");
    let theirs = format!("mcp://again/{ARCHITECTURE}");
    assert!(uris.contains(&ours), "{uris:?}");
    assert!(uris.contains(&theirs), "{uris:?}");
    assert!(!uris.iter().any(|u| u == ARCHITECTURE), "{uris:?}");
    // Scoping keeps the exposed URIs: a URI means the same everywhere.
    let scoped: Vec<String> = catalog
        .resources(Some(&["again".to_owned()]))
        .into_iter()
        .map(|r| r.uri)
        .collect();
    assert!(scoped.contains(&theirs), "{scoped:?}");
    assert!(scoped.iter().all(|u| u.starts_with("mcp://again/")));
    let templates: Vec<String> = catalog
        .resource_templates(None)
        .into_iter()
        .map(|t| t.uri_template)
        .collect();
    assert!(
        templates.contains(&"mcp://again/demo://resource/dynamic/text/{resourceId}".to_owned()),
        "{templates:?}"
    );

    // Read by namespaced URI: the server gets its own URI, the client sees the exposed one.
    let read = registry.read_resource(&theirs).await.unwrap();
    assert_eq!(content_uri_and_text(&read).0, theirs);
    let expanded = registry
        .read_resource("mcp://again/demo://resource/dynamic/text/2")
        .await
        .unwrap();
    assert_eq!(
        content_uri_and_text(&expanded).0,
        "mcp://again/demo://resource/dynamic/text/2"
    );
    // The shared upstream URI names two resources: refused with both, never guessed.
    match registry.read_resource(ARCHITECTURE).await {
        Err(HubError::UnknownResource(NameError::AmbiguousResource { candidates, .. })) => {
            assert_eq!(candidates, [theirs.clone(), ours.clone()]);
        }
        other => panic!("expected an ambiguity, got {other:?}"),
    }
    // Within one server's scope it is that server's.
    let read = registry
        .read_resource_in(
            &junction_hub::Caller::default(),
            Some(&["everything".to_owned()]),
            ARCHITECTURE,
        )
        .await
        .unwrap();
    assert_eq!(content_uri_and_text(&read).0, ours);

    // Prompts of both, prefixed; a bare name is ambiguous.
    let names: Vec<String> = catalog.prompts(None).into_iter().map(|p| p.name).collect();
    assert!(
        names.contains(&"again-simple-prompt".to_owned()),
        "{names:?}"
    );
    assert!(matches!(
        registry.get_prompt("simple-prompt", None).await,
        Err(HubError::UnknownPrompt(NameError::Ambiguous { .. }))
    ));
    let scoped = registry
        .get_prompt_in(
            &junction_hub::Caller::default(),
            Some(&["again".to_owned()]),
            "simple-prompt",
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        prompt_text(&scoped),
        "This is a simple prompt without arguments."
    );
    registry.shutdown().await;
}

/// `target/debug/mcp-fixture` (built by scripts/test): an rmcp server of the stateless
/// 2026-07-28 revision, which answers `ping` with method-not-found.
fn fixture_binary() -> std::path::PathBuf {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/mcp-fixture");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p junction-mcp-fixture`",
        path.display()
    );
    path
}

#[tokio::test]
async fn a_server_that_answers_ping_with_an_error_is_alive() {
    let yaml = format!(
        "mcp_servers:\n  fixture:\n    command: {}\n",
        fixture_binary().display()
    );
    let options = RegistryOptions {
        health_interval: Duration::from_millis(20),
        ..fast()
    };
    let registry = Registry::start_with(&servers(&yaml), "-", options)
        .await
        .unwrap();
    common::wait_until("the fixture is healthy", Duration::from_secs(30), || {
        registry.health()[0].status == ServerStatus::Healthy
    })
    .await;
    // Dozens of health pings later, it is still healthy and its tools still listed.
    let until = tokio::time::Instant::now() + Duration::from_millis(600);
    while tokio::time::Instant::now() < until {
        let health = &registry.health()[0];
        assert_eq!(health.status, ServerStatus::Healthy, "{health:?}");
        assert!(health.tools_count > 0, "{health:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    registry.shutdown().await;
}

#[tokio::test]
async fn mcp_aliases_name_the_prefix_of_servers_without_their_own_alias() {
    let yaml = format!(
        "mcp_servers:\n{}{}    alias: own\n",
        stdio_time("clock"),
        stdio_time("other"),
    );
    let options = RegistryOptions {
        mcp_aliases: BTreeMap::from([
            ("tm".to_owned(), "clock".to_owned()),
            ("zz".to_owned(), "clock".to_owned()),
            ("ignored".to_owned(), "other".to_owned()),
        ]),
        ..fast()
    };
    let registry = Registry::start_with(&servers(&yaml), "-", options)
        .await
        .unwrap();
    wait_until("both servers listed", Duration::from_secs(60), || {
        registry.health().iter().all(|h| h.tools_count > 0)
    })
    .await;
    let names: Vec<String> = registry
        .catalog()
        .tools(None)
        .into_iter()
        .map(|(exposed, _)| exposed.exposed)
        .collect();
    assert!(
        names.contains(&"tm-get_current_time".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"own-get_current_time".to_owned()),
        "{names:?}"
    );
    // The id is LiteLLM's hash of the entry as configured (no alias).
    let clock = registry.find_server("clock").unwrap();
    assert_eq!(clock.id, config_server_id("clock", None, None, None, None));
    assert!(registry.find_server(&clock.id).is_some());
    registry.shutdown().await;
}
