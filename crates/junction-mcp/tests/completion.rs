//! `completion/complete` against server-everything's `completable-prompt`, whose second
//! argument's suggestions depend on the first (the request's `context`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::*;
use junction_mcp::model::{ArgumentInfo, CompleteRequestParams, CompletionContext, Reference};
use junction_mcp::{McpClient, McpError};

#[tokio::test]
async fn complete_suggests_values_for_a_prompt_argument() {
    init_logs();
    let client = McpClient::connect(everything_stdio("everything"))
        .await
        .unwrap();
    let prompt = || Reference::for_prompt("completable-prompt");

    let departments = client
        .complete(CompleteRequestParams::new(
            prompt(),
            ArgumentInfo::new("department", "S"),
        ))
        .await
        .unwrap();
    assert_eq!(
        departments.completion.values,
        vec!["Sales".to_owned(), "Support".to_owned()]
    );

    let context = CompletionContext::with_arguments(HashMap::from([(
        "department".to_owned(),
        "Engineering".to_owned(),
    )]));
    let names = client
        .complete(
            CompleteRequestParams::new(prompt(), ArgumentInfo::new("name", ""))
                .with_context(context),
        )
        .await
        .unwrap();
    assert_eq!(names.completion.values, vec!["Alice", "Bob", "Charlie"]);

    // A prompt the server does not have is the server's error, not a hang or a retry.
    match client
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("no-such-prompt"),
            ArgumentInfo::new("x", ""),
        ))
        .await
    {
        Err(McpError::Rejected { operation, .. }) => assert_eq!(operation, "completion/complete"),
        other => panic!("expected the server's refusal, got {other:?}"),
    }
    client.close().await;
}
