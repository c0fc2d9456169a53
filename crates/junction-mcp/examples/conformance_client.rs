//! A small MCP client built on `junction-mcp`, for the official conformance suite's client
//! scenarios (`scripts/conformance-client` runs them).
//!
//! The suite starts a test server per scenario and runs `conformance_client <server-url>` with
//! `MCP_CONFORMANCE_SCENARIO` set; the client does what the scenario expects and exits 0, or
//! prints why not and exits 1.

use std::process::ExitCode;

use junction_mcp::{ClientConfig, McpClient, TransportConfig};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: conformance_client <server-url>");
        return ExitCode::from(2);
    };
    let scenario =
        std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_else(|_| "initialize".into());
    match run(&scenario, &url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("conformance_client: scenario {scenario}: {message}");
            ExitCode::from(1)
        }
    }
}

async fn run(scenario: &str, url: &str) -> Result<(), String> {
    let config = ClientConfig::new(
        "conformance",
        TransportConfig::StreamableHttp {
            url: url.to_owned(),
        },
    );
    let client = McpClient::connect(config)
        .await
        .map_err(|e| e.to_string())?;
    let result = match scenario {
        "initialize" => client
            .list_tools()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        "tools_call" => call(&client, "add_numbers", json!({"a": 2, "b": 3})).await,
        "sse-retry" => call(&client, "test_reconnection", json!({})).await,
        "elicitation-sep1034-client-defaults" => {
            call(&client, "test_client_elicitation_defaults", json!({})).await
        }
        other => Err(format!("scenario {other} is not supported by this client")),
    };
    client.close().await;
    result
}

async fn call(client: &McpClient, tool: &str, arguments: serde_json::Value) -> Result<(), String> {
    let tools = client.list_tools().await.map_err(|e| e.to_string())?;
    if !tools.iter().any(|t| t.name == tool) {
        return Err(format!("the server offers no tool {tool}"));
    }
    let arguments = match arguments {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    };
    let result = client
        .call_tool(tool, arguments)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string(&result).unwrap_or_default());
    if result.is_error == Some(true) {
        return Err(format!("{tool} returned isError"));
    }
    Ok(())
}
