//! The crate as a library user sees it: load a spec, hand the server to a
//! `junction_mcp::McpClient`, list and call its tools against a real HTTP API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::get;
use junction_mcp::{Auth, ClientConfig, McpClient, TransportConfig};
use junction_openapi::{OpenApiOptions, OpenApiServer, SpecError};
use serde_json::{Map, Value, json};

/// An API answering `GET /things/{id}` with the id and the `Authorization` it received.
async fn api() -> String {
    let app = axum::Router::new().route(
        "/things/{id}",
        get(
            |axum::extract::Path(id): axum::extract::Path<String>, headers: HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                Json(json!({"id": id, "authorization": auth}))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn spec_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("junction-openapi-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

const SPEC: &str = "
openapi: 3.0.3
info: {title: Things, version: '2.1'}
paths:
  /things/{id}:
    get:
      operationId: getThing
      summary: One thing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
";

#[tokio::test]
async fn an_mcp_client_lists_and_calls_the_operations_with_each_sessions_credentials() {
    let url = api().await;
    let path = spec_file("things.yaml", SPEC);
    let server = OpenApiServer::load(
        "things",
        path.to_str().unwrap(),
        OpenApiOptions {
            base_url: Some(url.clone()),
            ..OpenApiOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(server.base_url(), format!("{url}/"));
    assert_eq!(server.tools()[0].name, "getthing");

    let config = ClientConfig::new("things", TransportConfig::Local(Arc::new(server)))
        .with_auth(Auth::BearerToken("secret-1".into()));
    let client = McpClient::connect(config).await.unwrap();
    let tools = client.list_tools().await.unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].description.as_deref(), Some("One thing"));
    let mut arguments = Map::new();
    arguments.insert("id".into(), Value::String("a b".into()));
    let result = client.call_tool("getthing", Some(arguments)).await.unwrap();
    assert_eq!(result.is_error, Some(false));
    assert_eq!(
        result.structured_content,
        Some(json!({"id": "a b", "authorization": "Bearer secret-1"}))
    );
    client.close().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn a_spec_without_a_base_url_or_with_a_broken_ref_is_refused() {
    let path = spec_file("nobase.yaml", SPEC);
    let error = OpenApiServer::load("things", path.to_str().unwrap(), OpenApiOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SpecError::Invalid(m) if m.contains("set `url`")),
        "{error}"
    );
    let broken = spec_file(
        "broken-ref.yaml",
        "openapi: 3.1.0\npaths:\n  /a:\n    get:\n      parameters: [{$ref: './missing.yaml#/P'}]\n",
    );
    let error = OpenApiServer::load(
        "things",
        broken.to_str().unwrap(),
        OpenApiOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, SpecError::Unreadable(m) if m.contains("missing.yaml")),
        "{error}"
    );
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(broken);
}
