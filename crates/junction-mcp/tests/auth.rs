//! Credentials over streamable HTTP: refused credentials give `McpError::Unauthorized` with a
//! message that says so (not a generic transport error), the configured headers reach the
//! server, and an OAuth2 token the server stops accepting is replaced by a fresh one.
//!
//! The server is the scripted one of `common/fake.rs`, which checks the `Authorization`
//! header against the token it currently accepts and serves an OAuth2 token endpoint handing
//! out `tok-1`, `tok-2`, ….

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::any;
use common::fake;
use common::init_logs;
use junction_mcp::{
    Auth, ClientConfig, McpClient, McpError, OAuth2ClientCredentials, TransportConfig,
};

fn http_config(base: &str) -> ClientConfig {
    ClientConfig::new(
        "secured",
        TransportConfig::StreamableHttp {
            url: format!("{base}/mcp"),
        },
    )
}

fn oauth(base: &str) -> Auth {
    Auth::OAuth2(OAuth2ClientCredentials {
        token_url: format!("{base}/token"),
        client_id: "junction".into(),
        client_secret: "s3cret".into(),
        scopes: vec!["mcp".into()],
    })
}

fn unauthorized(result: Result<McpClient, McpError>) -> String {
    match result {
        Err(McpError::Unauthorized { server, message }) => {
            assert_eq!(server, "secured");
            message
        }
        Err(other) => panic!("expected an auth error, got {other:?}"),
        Ok(_) => panic!("connected with refused credentials"),
    }
}

#[tokio::test]
async fn a_wrong_bearer_token_is_an_auth_error_and_the_headers_reach_the_server() {
    init_logs();
    let (base, fake) = fake::start().await;
    fake.accept("right");
    let config = http_config(&base)
        .with_auth(Auth::BearerToken("wrong".into()))
        .with_header("X-Team", "blue");
    let message = unauthorized(McpClient::connect(config).await);
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("credentials"), "{message}");
    let requests = fake.requests.lock().unwrap();
    assert_eq!(requests[0][header::AUTHORIZATION], "Bearer wrong");
    assert_eq!(requests[0]["x-team"], "blue");
}

#[tokio::test]
async fn the_right_token_connects_and_api_keys_go_in_x_api_key() {
    init_logs();
    let (base, fake) = fake::start().await;
    fake.accept("right");
    let config = http_config(&base)
        .with_auth(Auth::ApiKey("key-1".into()))
        .with_header("Authorization", "Bearer right");
    let client = McpClient::connect(config).await.unwrap();
    assert_eq!(client.list_tools().await.unwrap().len(), 2);
    client.ping().await.unwrap();
    for headers in fake.requests.lock().unwrap().iter() {
        assert_eq!(headers["x-api-key"], "key-1");
    }
    client.close().await;
}

#[tokio::test]
async fn a_401_challenge_or_a_403_is_an_auth_error_saying_what_is_missing() {
    init_logs();
    let challenge = fake::serve(Router::new().route(
        "/mcp",
        any(|| async {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, r#"Bearer realm="mcp""#)],
                "",
            )
        }),
    ))
    .await;
    let message = unauthorized(McpClient::connect(http_config(&challenge)).await);
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("none are configured"), "{message}");

    let forbidden = fake::serve(Router::new().route(
        "/mcp",
        any(|| async { (StatusCode::FORBIDDEN, "not for you") }),
    ))
    .await;
    let config = http_config(&forbidden).with_auth(Auth::Token("gh".into()));
    let message = unauthorized(McpClient::connect(config).await);
    assert!(message.contains("403"), "{message}");
}

#[tokio::test]
async fn oauth2_tokens_are_fetched_and_replaced_when_refused() {
    init_logs();
    let (base, fake) = fake::start().await;
    fake.accept("tok-1");
    let client = McpClient::connect(http_config(&base).with_auth(oauth(&base)))
        .await
        .unwrap();
    assert_eq!(client.list_tools().await.unwrap().len(), 2);
    assert_eq!(fake.tokens_issued.load(Ordering::SeqCst), 1);

    // The server stops accepting tok-1 (revoked): the next call gets tok-2 and goes through,
    // on a new session opened with it. A refused request did not run, so even a tool call
    // is sent again.
    fake.accept("tok-2");
    let result = client.call_tool("count", None).await.unwrap();
    assert_eq!(common::first_text(&result), "1");
    assert_eq!(fake.runs("count"), 1);
    assert_eq!(fake.tokens_issued.load(Ordering::SeqCst), 2);
    assert_eq!(fake.sessions.load(Ordering::SeqCst), 2);
    let last = fake.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last[header::AUTHORIZATION], "Bearer tok-2");

    // A token the server never accepts ends in an auth error after one fresh attempt.
    fake.accept("never");
    match client.list_tools().await {
        Err(McpError::Unauthorized { message, .. }) => {
            assert!(message.contains("OAuth2"), "{message}")
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    client.close().await;
}

#[tokio::test]
async fn a_failing_token_endpoint_is_an_auth_error() {
    init_logs();
    let (base, fake) = fake::start().await;
    *fake.token_status.lock().unwrap() = Some(StatusCode::INTERNAL_SERVER_ERROR);
    let message =
        unauthorized(McpClient::connect(http_config(&base).with_auth(oauth(&base))).await);
    assert!(message.contains("OAuth2 token request"), "{message}");
    assert!(
        fake.requests.lock().unwrap().is_empty(),
        "no MCP request without a token"
    );
}
