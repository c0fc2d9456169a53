//! Every listing follows `nextCursor` to the last page (server-everything does not paginate, so
//! the scripted server does).

mod common;

use std::sync::atomic::Ordering;

use junction_mcp::{ClientConfig, McpClient, TransportConfig};

#[tokio::test]
async fn listings_follow_the_cursor_to_the_end() {
    let (url, fake) = common::fake::start().await;
    fake.paged_tools.store(true, Ordering::SeqCst);
    let config = ClientConfig::new(
        "paged",
        TransportConfig::StreamableHttp {
            url: format!("{url}/mcp"),
        },
    );
    let client = McpClient::connect(config).await.unwrap();

    let tools: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(tools, ["count", "slow", "third"]);
    let prompts: Vec<String> = client
        .list_prompts()
        .await
        .unwrap()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(
        prompts,
        ["prompt-1", "prompt-2", "prompt-3", "prompt-4", "prompt-5"]
    );
    let resources: Vec<String> = client
        .list_resources()
        .await
        .unwrap()
        .iter()
        .map(|r| r.uri.to_string())
        .collect();
    assert_eq!(resources, ["fake://r/1", "fake://r/2", "fake://r/3"]);
    assert_eq!(client.list_resource_templates().await.unwrap().len(), 3);

    let cursors: Vec<Option<String>> = fake
        .messages
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "prompts/list")
        .map(|m| m["params"]["cursor"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(cursors, [None, Some("2".to_owned()), Some("4".to_owned())]);
    client.close().await;
}
