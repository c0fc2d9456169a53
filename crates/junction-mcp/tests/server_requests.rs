//! Requests a real server sends to its client (`sampling/createMessage`,
//! `elicitation/create`, `roots/list`) reach the [`ServerRequestHandler`] of
//! `McpClient::connect_with`, and its answers reach the server: server-everything's
//! `trigger-sampling-request`, `trigger-elicitation-request` and `get-roots-list` tools put
//! what the client answered in their results.
//!
//! server-everything offers those tools only to a client that announced the matching
//! capability, which shows what the client announced: the handler's capabilities, or none.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(
    deprecated,
    reason = "sampling and roots are deprecated by SEP-2577, but servers still use them"
)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use futures_util::future::BoxFuture;
use junction_mcp::model::{
    ClientCapabilities, ClientResult, CreateMessageResult, ElicitResult, ElicitationAction,
    ErrorData, ListRootsResult, Root, SamplingMessage, ServerRequest,
};
use junction_mcp::{ClientConfig, ClientHooks, McpClient, ServerRequestHandler};
use serde_json::{Value, json};

/// Answers like a user and a model would, and records every request (as JSON) it got.
struct Answering {
    capabilities: ClientCapabilities,
    /// `(server, request)`, in arrival order.
    seen: Mutex<Vec<(String, Value)>>,
    /// Answer sampling with an elicitation result, to see how the client handles it.
    mismatch: bool,
}

impl Answering {
    fn new(capabilities: ClientCapabilities) -> Arc<Answering> {
        Arc::new(Answering {
            capabilities,
            seen: Mutex::new(Vec::new()),
            mismatch: false,
        })
    }

    fn everything() -> Arc<Answering> {
        Self::new(
            ClientCapabilities::builder()
                .enable_sampling()
                .enable_elicitation()
                .enable_roots()
                .build(),
        )
    }

    fn requests(&self, method: &str) -> Vec<(String, Value)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, request)| request["method"] == method)
            .cloned()
            .collect()
    }
}

impl ServerRequestHandler for Answering {
    fn capabilities(&self) -> ClientCapabilities {
        self.capabilities.clone()
    }

    fn handle(
        &self,
        server: &str,
        request: ServerRequest,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>> {
        self.seen
            .lock()
            .unwrap()
            .push((server.to_owned(), serde_json::to_value(&request).unwrap()));
        let answer = match request {
            ServerRequest::CreateMessageRequest(_) if self.mismatch => Ok(
                ClientResult::ElicitResult(ElicitResult::new(ElicitationAction::Decline)),
            ),
            ServerRequest::CreateMessageRequest(_) => {
                Ok(ClientResult::CreateMessageResult(Box::new(
                    CreateMessageResult::new(
                        SamplingMessage::assistant_text("the relayed model says hi"),
                        "relay-model".to_owned(),
                    )
                    .with_stop_reason(CreateMessageResult::STOP_REASON_END_TURN),
                )))
            }
            ServerRequest::ElicitRequest(_) => Ok(ClientResult::ElicitResult(
                ElicitResult::new(ElicitationAction::Accept)
                    .with_content(json!({"name": "Ada Lovelace", "check": true})),
            )),
            ServerRequest::ListRootsRequest(_) => {
                Ok(ClientResult::ListRootsResult(ListRootsResult::new(vec![
                    Root::new("file:///srv/relayed-project").with_name("relayed project"),
                ])))
            }
            other => Err(ErrorData::internal_error(
                format!(
                    "unexpected request {}",
                    serde_json::to_value(&other).unwrap()
                ),
                None,
            )),
        };
        // Answered from a task, as a relay would.
        Box::pin(async move {
            tokio::task::yield_now().await;
            answer
        })
    }
}

async fn tool_names(client: &McpClient) -> Vec<String> {
    client
        .list_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect()
}

/// All the text blocks of a tool result, joined.
fn all_text(result: &junction_mcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sampling, elicitation and roots on one session of `config`'s server-everything.
async fn relay_all_three(config: ClientConfig) {
    let name = config.name.clone();
    let handler = Answering::everything();
    let hooks = ClientHooks {
        notifications: None,
        requests: Some(handler.clone()),
    };
    let client = McpClient::connect_with(config, hooks).await.unwrap();
    let tools = tool_names(&client).await;
    for conditional in [
        "trigger-sampling-request",
        "trigger-elicitation-request",
        "get-roots-list",
    ] {
        assert!(
            tools.iter().any(|t| t == conditional),
            "{conditional} missing from {tools:?}: the capabilities were not announced"
        );
    }

    // Sampling: the server's prompt reaches the handler, the handler's answer the tool result.
    let sampled = client
        .call_tool(
            "trigger-sampling-request",
            args(json!({"prompt": "what is a gateway?", "maxTokens": 33})),
        )
        .await
        .unwrap();
    assert_ne!(sampled.is_error, Some(true), "{sampled:?}");
    let text = all_text(&sampled);
    assert!(text.contains("the relayed model says hi"), "{text}");
    assert!(text.contains("relay-model"), "{text}");
    let sampling = handler.requests("sampling/createMessage");
    assert_eq!(sampling.len(), 1, "{sampling:?}");
    let (server, request) = &sampling[0];
    assert_eq!(server, &name);
    assert_eq!(request["params"]["maxTokens"], 33);
    assert_eq!(
        request["params"]["systemPrompt"],
        "You are a helpful test server."
    );
    let prompt = request["params"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(prompt.contains("what is a gateway?"), "{request}");
    // The request is handed on as the server sent it: no `_meta` made up.
    assert_ne!(
        request["params"].get("_meta"),
        Some(&json!({})),
        "{request}"
    );

    // Elicitation: the form reaches the handler, the filled-in values the tool result.
    let elicited = client
        .call_tool("trigger-elicitation-request", None)
        .await
        .unwrap();
    assert_ne!(elicited.is_error, Some(true), "{elicited:?}");
    let text = all_text(&elicited);
    assert!(text.contains("- Name: Ada Lovelace"), "{text}");
    assert!(text.contains("- Agreed to terms: true"), "{text}");
    let elicitation = handler.requests("elicitation/create");
    assert_eq!(elicitation.len(), 1, "{elicitation:?}");
    let request = &elicitation[0].1;
    assert_eq!(
        request["params"]["message"],
        "Please provide inputs for the following fields:"
    );
    assert_eq!(
        request["params"]["requestedSchema"]["required"],
        json!(["name"])
    );

    // Roots: the server asks (after initialization, and from the tool if it has none yet).
    let rooted = client.call_tool("get-roots-list", None).await.unwrap();
    let text = all_text(&rooted);
    assert!(text.contains("file:///srv/relayed-project"), "{text}");
    assert!(text.contains("relayed project"), "{text}");
    let roots = handler.requests("roots/list");
    assert!(!roots.is_empty());
    assert!(roots.iter().all(|(server, _)| server == &name));
    client.close().await;
}

#[tokio::test]
async fn a_request_handler_answers_sampling_elicitation_and_roots_over_stdio() {
    init_logs();
    relay_all_three(everything_stdio("everything")).await;
}

#[tokio::test]
async fn a_request_handler_answers_sampling_elicitation_and_roots_over_streamable_http() {
    init_logs();
    let server = EverythingHttp::start().await;
    relay_all_three(server.config("everything-http")).await;
    server.kill().await;
}

#[tokio::test]
async fn without_a_request_handler_the_client_announces_no_capabilities() {
    init_logs();
    let client = McpClient::connect(everything_stdio("everything"))
        .await
        .unwrap();
    let tools = tool_names(&client).await;
    assert!(tools.iter().any(|t| t == "echo"), "{tools:?}");
    for conditional in [
        "trigger-sampling-request",
        "trigger-elicitation-request",
        "get-roots-list",
    ] {
        assert!(
            !tools.iter().any(|t| t == conditional),
            "{conditional} offered: the client announced a capability it cannot serve"
        );
    }
    client.close().await;
}

#[tokio::test]
async fn the_client_announces_only_the_handlers_capabilities() {
    init_logs();
    let handler = Answering::new(ClientCapabilities::builder().enable_sampling().build());
    let hooks = ClientHooks {
        notifications: None,
        requests: Some(handler.clone()),
    };
    let client = McpClient::connect_with(everything_stdio("everything"), hooks)
        .await
        .unwrap();
    let tools = tool_names(&client).await;
    assert!(
        tools.iter().any(|t| t == "trigger-sampling-request"),
        "{tools:?}"
    );
    assert!(
        !tools
            .iter()
            .any(|t| t == "trigger-elicitation-request" || t == "get-roots-list"),
        "{tools:?}"
    );
    client.close().await;
}

#[tokio::test]
async fn an_answer_of_the_wrong_kind_is_an_internal_error_for_the_server() {
    init_logs();
    let handler = Arc::new(Answering {
        capabilities: ClientCapabilities::builder().enable_sampling().build(),
        seen: Mutex::new(Vec::new()),
        mismatch: true,
    });
    let hooks = ClientHooks {
        notifications: None,
        requests: Some(handler.clone()),
    };
    let client = McpClient::connect_with(everything_stdio("everything"), hooks)
        .await
        .unwrap();
    // server-everything turns the failed request into a tool error carrying its message.
    let outcome = client
        .call_tool(
            "trigger-sampling-request",
            args(json!({"prompt": "anything"})),
        )
        .await;
    let text = match outcome {
        Ok(result) => {
            assert_eq!(result.is_error, Some(true), "{result:?}");
            all_text(&result)
        }
        Err(error) => error.to_string(),
    };
    assert!(text.contains("-32603"), "{text}");
    assert!(
        text.contains("answered sampling/createMessage with an elicitation/create result"),
        "{text}"
    );
    assert_eq!(handler.requests("sampling/createMessage").len(), 1);
    client.close().await;
}
