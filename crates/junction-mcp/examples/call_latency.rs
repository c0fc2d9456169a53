//! Times `tools/call` through [`McpClient`] against one streamable HTTP server: the gateway's
//! upstream leg alone, for `bench/` (compare with a raw client talking to the same server).
//!
//! `cargo run --release -p junction-mcp --example call_latency -- <url> <tool> [calls] [mode]`
//! calls `<tool>` with `{"message": "bench"}` (server-everything's `echo`) `calls` times (2000
//! by default, after 100 untimed ones) and prints the median and p90 in microseconds. Modes:
//!
//! * none: through [`McpClient`], as the gateway calls upstream;
//! * `raw`: plain `reqwest` POSTs on a session of their own (initialized by hand, protocol
//!   2025-11-25), each read to its end: the least an HTTP client in Rust pays for the exchange;
//! * `post`: rmcp's `StreamableHttpClient::post_message` for reqwest, and the answer's events
//!   parsed as rmcp parses them: rmcp's HTTP handling without its session tasks.
//!
//! Run it under `perf stat -e task-clock` for the CPU time per call.

use std::time::Instant;

use junction_mcp::{ClientConfig, McpClient, TransportConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(tool)) = (args.next(), args.next()) else {
        return Err("usage: call_latency <url> <tool> [calls] [raw|post]".into());
    };
    let calls: usize = args.next().map_or(Ok(2000), |n| n.parse())?;
    if calls == 0 {
        return Err("calls must be at least 1".into());
    }
    let mode = args.next().unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match mode.as_str() {
        "raw" => return runtime.block_on(raw_calls(url, tool, calls)),
        "post" => return runtime.block_on(post_calls(url, tool, calls)),
        "" => {}
        other => return Err(format!("unknown mode {other}: raw, post or none").into()),
    }
    runtime.block_on(async move {
        let config = ClientConfig::new("bench", TransportConfig::StreamableHttp { url });
        let client = McpClient::connect(config).await?;
        let arguments = serde_json::json!({"message": "bench"});
        let arguments = arguments.as_object().cloned();
        let mut lat = Vec::with_capacity(calls);
        for i in 0..calls + 100 {
            let start = Instant::now();
            let result = client.call_tool(&tool, arguments.clone()).await?;
            let elapsed = start.elapsed();
            if result.is_error == Some(true) {
                return Err(format!("tool error: {result:?}").into());
            }
            if i >= 100 {
                lat.push(elapsed.as_micros());
            }
        }
        lat.sort_unstable();
        let protocol = client
            .server_info()
            .map(|info| info.protocol_version.to_string())
            .unwrap_or_default();
        println!(
            "{calls} calls, protocol {protocol}: p50 {} us, p90 {} us",
            lat[lat.len() / 2],
            lat[lat.len() * 9 / 10]
        );
        client.close().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

async fn raw_calls(
    url: String,
    tool: String,
    calls: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    const VERSION: &str = "2025-11-25";
    // Several crates in the graph use rustls; reqwest needs the provider chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value, session: Option<String>| {
        let mut request = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", VERSION)
            .json(&body);
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send()
    };
    let initialize = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": VERSION, "capabilities": {},
            "clientInfo": {"name": "call_latency", "version": "0"}}});
    let response = post(initialize, None).await?;
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    response.bytes().await?;
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(initialized, session.clone()).await?.bytes().await?;
    let mut lat = Vec::with_capacity(calls);
    for i in 0..calls + 100 {
        let call = serde_json::json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
            "params": {"name": tool, "arguments": {"message": "bench"}}});
        let start = Instant::now();
        let body = post(call, session.clone()).await?.bytes().await?;
        let elapsed = start.elapsed();
        if !body.windows(8).any(|w| w == b"\"result\"") {
            return Err(format!("no result: {}", String::from_utf8_lossy(&body)).into());
        }
        if i >= 100 {
            lat.push(elapsed.as_micros());
        }
    }
    lat.sort_unstable();
    println!(
        "{calls} raw calls, protocol {VERSION}: p50 {} us, p90 {} us",
        lat[lat.len() / 2],
        lat[lat.len() * 9 / 10]
    );
    Ok(())
}

/// rmcp's `StreamableHttpClient::post_message` for reqwest, then the SSE events parsed as
/// rmcp parses them: what a tools/call costs without rmcp's session tasks.
async fn post_calls(
    url: String,
    tool: String,
    calls: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use futures_util::StreamExt;
    use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
    use rmcp::transport::streamable_http_client::{
        StreamableHttpClient, StreamableHttpPostResponse,
    };
    const VERSION: &str = "2025-11-25";
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let uri: std::sync::Arc<str> = url.clone().into();
    let mut headers = std::collections::HashMap::new();
    headers.insert(
        http::HeaderName::from_static("mcp-protocol-version"),
        http::HeaderValue::from_static(VERSION),
    );
    let message = |value: serde_json::Value| serde_json::from_value::<ClientJsonRpcMessage>(value);
    let initialize = message(
        serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": VERSION, "capabilities": {},
            "clientInfo": {"name": "call_latency", "version": "0"}}}),
    )?;
    let (_, session) = http
        .post_message(uri.clone(), initialize, None, None, headers.clone())
        .await?
        .expect_initialized::<reqwest::Error>()
        .await?;
    let session: Option<std::sync::Arc<str>> = session.map(Into::into);
    let initialized =
        message(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
    http.post_message(
        uri.clone(),
        initialized,
        session.clone(),
        None,
        headers.clone(),
    )
    .await?;
    let mut lat = Vec::with_capacity(calls);
    for i in 0..calls + 100 {
        let call = message(
            serde_json::json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
            "params": {"name": tool, "arguments": {"message": "bench"}}}),
        )?;
        let start = Instant::now();
        let answer = match http
            .post_message(uri.clone(), call, session.clone(), None, headers.clone())
            .await?
        {
            StreamableHttpPostResponse::Json(message, _) => Some(message),
            StreamableHttpPostResponse::Sse(mut stream, _) => {
                let mut found = None;
                while let Some(event) = stream.next().await {
                    let data = event?.data.unwrap_or_default();
                    if data.trim().is_empty() {
                        continue;
                    }
                    let message: ServerJsonRpcMessage = serde_json::from_str(&data)?;
                    if matches!(message, ServerJsonRpcMessage::Response(_)) {
                        found = Some(message);
                        break;
                    }
                }
                found
            }
            _ => None,
        };
        let elapsed = start.elapsed();
        if answer.is_none() {
            return Err("no answer".into());
        }
        if i >= 100 {
            lat.push(elapsed.as_micros());
        }
    }
    lat.sort_unstable();
    println!(
        "{calls} post_message calls, protocol {VERSION}: p50 {} us, p90 {} us",
        lat[lat.len() / 2],
        lat[lat.len() * 9 / 10]
    );
    Ok(())
}
