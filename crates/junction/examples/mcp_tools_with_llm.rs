//! Seed 004's "complete example" in Rust: MCP tools offered to an LLM through Junction.
//!
//! 1. Connect to an MCP server and load its tools in OpenAI format.
//! 2. Ask a model, through Junction's `/v1/chat/completions`, with those tools.
//! 3. Run each tool call the model makes on the MCP server.
//! 4. Send the results back and print the model's final answer.
//!
//! ```sh
//! # an MCP server over stdio, and a gateway on :4000 with a master key sk-1234
//! MCP_COMMAND="uvx mcp-server-time" MODEL=gpt-4o \
//!   cargo run -p junction --example mcp_tools_with_llm -- "What time is it in Tokyo?"
//! ```
//! Environment: `MCP_URL` (streamable HTTP) or `MCP_COMMAND` (stdio, split on spaces),
//! `MCP_AUTH_TYPE`/`MCP_AUTH_VALUE` (LiteLLM's `auth_type` names), `JUNCTION_URL`
//! (default `http://localhost:4000`), `JUNCTION_API_KEY` (default `sk-1234`), `MODEL`
//! (default `gpt-4o`).

use std::process::ExitCode;

use anyhow::{Context, bail};
use junction_mcp::openai::{ToolFormat, call_openai_tool, load_tools, tool_message};
use junction_mcp::{Auth, ClientConfig, McpClient, TransportConfig};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<String> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Find all active users and export to CSV".to_owned());
    let env =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let gateway = env("JUNCTION_URL", "http://localhost:4000");
    let api_key = env("JUNCTION_API_KEY", "sk-1234");
    let model = env("MODEL", "gpt-4o");

    // 1. The MCP server and its tools.
    let transport = match (std::env::var("MCP_URL"), std::env::var("MCP_COMMAND")) {
        (Ok(url), _) => TransportConfig::StreamableHttp { url },
        (_, Ok(command)) => {
            let mut words = command.split_whitespace().map(str::to_owned);
            let program = words.next().context("MCP_COMMAND is empty")?;
            TransportConfig::Stdio {
                command: program,
                args: words.collect(),
                env: Default::default(),
                cwd: None,
            }
        }
        _ => bail!("set MCP_URL (streamable HTTP) or MCP_COMMAND (stdio)"),
    };
    let mut config = ClientConfig::new("example", transport);
    if let (Ok(kind), Ok(value)) = (
        std::env::var("MCP_AUTH_TYPE"),
        std::env::var("MCP_AUTH_VALUE"),
    ) {
        config =
            config.with_auth(Auth::from_litellm(&kind, &value).context("unknown MCP_AUTH_TYPE")?);
    }
    let mcp = McpClient::connect(config).await?;
    let tools = load_tools(&mcp, ToolFormat::OpenAi).await?;
    eprintln!("Loaded {} tools", tools.len());

    // 2. The model, through Junction. (reqwest is built without a default TLS provider.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut messages = vec![json!({"role": "user", "content": question})];
    let first = chat(
        &http,
        &gateway,
        &api_key,
        json!({"model": model, "messages": messages, "tools": tools}),
    )
    .await?;
    let message = first["choices"][0]["message"].clone();
    let calls = message["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if calls.is_empty() {
        mcp.close().await;
        return Ok(message["content"].as_str().unwrap_or_default().to_owned());
    }

    // 3. Each tool call on the MCP server.
    messages.push(message);
    for call in &calls {
        eprintln!(
            "Executing: {}",
            call["function"]["name"].as_str().unwrap_or("?")
        );
        let result = call_openai_tool(&mcp, call).await?;
        messages.push(tool_message(
            call["id"].as_str().unwrap_or_default(),
            &result,
        ));
    }
    mcp.close().await;

    // 4. The final answer.
    let last = chat(
        &http,
        &gateway,
        &api_key,
        json!({"model": model, "messages": messages}),
    )
    .await?;
    Ok(last["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn chat(
    http: &reqwest::Client,
    gateway: &str,
    key: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = http
        .post(format!("{gateway}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .context("cannot reach the gateway")?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .context("the gateway answered with invalid JSON")?;
    if !status.is_success() {
        bail!(
            "the gateway answered {status}: {}",
            body["error"]["message"]
        );
    }
    Ok(body)
}
