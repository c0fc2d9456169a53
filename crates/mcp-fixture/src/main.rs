//! `mcp-fixture`: the server the official MCP conformance suite expects to test (its
//! `test_*` tools and prompts, `test://` resources), written with rmcp from the scenario
//! descriptions, so that the gateway can be run through the suite with this server behind it.
//!
//! `mcp-fixture` serves one session over stdio; `mcp-fixture --http <port>` serves streamable
//! HTTP on `http://127.0.0.1:<port>/mcp` (rmcp's own Host/Origin checks on, which is what
//! `dns-rebinding-protection` tests). Test support only.

// Logging and sampling are deprecated for protocol 2026-07-28 (SEP-2577); the suite (0.1.16)
// tests them on the 2025-11-25 wire, so the fixture serves them.
#![allow(deprecated)]

use std::time::Duration;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, ElicitRequest, GetPromptRequestParams, GetPromptResponse, GetPromptResult,
    Implementation, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, LoggingLevel, LoggingMessageNotificationParam,
    PaginatedRequestParams, ProgressNotificationParam, Prompt, PromptArgument, PromptMessage,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role, ServerCapabilities, ServerConfig, ServerRequest,
    SetLevelRequestParams, SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// A valid WAV file: 8 kHz, mono, 16-bit, 100 ms of silence.
fn wav_base64() -> String {
    let samples: u32 = 800;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // channels
    wav.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    wav.extend_from_slice(&16000u32.to_le_bytes()); // byte rate
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    BASE64_STANDARD.encode(wav)
}

fn schema(value: Value) -> JsonObject {
    match value {
        Value::Object(object) => object,
        _ => JsonObject::new(),
    }
}

fn no_arguments() -> JsonObject {
    schema(json!({ "type": "object", "properties": {} }))
}

fn string_arguments(names: &[&str]) -> JsonObject {
    let properties: serde_json::Map<String, Value> = names
        .iter()
        .map(|name| ((*name).to_owned(), json!({ "type": "string" })))
        .collect();
    schema(json!({ "type": "object", "properties": properties, "required": names }))
}

fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "test_simple_text",
            "Returns simple text content",
            no_arguments(),
        ),
        Tool::new(
            "test_image_content",
            "Returns an image (PNG)",
            no_arguments(),
        ),
        Tool::new("test_audio_content", "Returns audio (WAV)", no_arguments()),
        Tool::new(
            "test_embedded_resource",
            "Returns an embedded text resource",
            no_arguments(),
        ),
        Tool::new(
            "test_multiple_content_types",
            "Returns text, an image and an embedded resource",
            no_arguments(),
        ),
        Tool::new(
            "test_tool_with_logging",
            "Sends three log messages while it runs",
            no_arguments(),
        ),
        Tool::new(
            "test_tool_with_progress",
            "Reports progress 0, 50 and 100 of 100 while it runs",
            no_arguments(),
        ),
        Tool::new(
            "test_error_handling",
            "Always returns a tool error",
            no_arguments(),
        ),
        Tool::new(
            "test_elicitation",
            "Asks the user (elicitation/create) for a username and an email",
            string_arguments(&["message"]),
        ),
        Tool::new(
            "test_elicitation_sep1034_defaults",
            "Elicitation whose schema has a default for every primitive type (SEP-1034)",
            no_arguments(),
        ),
        Tool::new(
            "test_elicitation_sep1330_enums",
            "Elicitation with the five enum schema shapes (SEP-1330)",
            no_arguments(),
        ),
        Tool::new(
            "test_sampling",
            "Asks the client's LLM (sampling/createMessage) to answer a prompt",
            string_arguments(&["prompt"]),
        ),
    ]
}

fn text_resource(uri: &str, text: &str) -> ResourceContents {
    ResourceContents::text(text, uri).with_mime_type("text/plain")
}

const TEMPLATE_PREFIX: &str = "test://template/";
const TEMPLATE_SUFFIX: &str = "/data";

/// The conformance fixture: stateless apart from the session rmcp keeps.
#[derive(Clone, Default)]
struct Fixture;

impl Fixture {
    async fn elicit(
        &self,
        message: String,
        schema: Value,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let params = serde_json::from_value(json!({
            "mode": "form",
            "message": message,
            "requestedSchema": schema,
        }))
        .map_err(|e| ErrorData::internal_error(format!("elicitation request: {e}"), None))?;
        // `Peer::create_elicitation` needs rmcp's `elicitation` feature (and the `url`
        // crate); the request itself is always there.
        let request = ServerRequest::ElicitRequest(ElicitRequest::new(params));
        match context.peer.send_request(request).await {
            Ok(result) => {
                let answer = serde_json::to_value(&result).unwrap_or_default();
                Ok(CallToolResult::success(vec![ContentBlock::text(format!(
                    "User response: {answer}"
                ))]))
            }
            Err(error) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Elicitation failed: {error}"
            ))])),
        }
    }

    async fn progress(&self, context: &RequestContext<RoleServer>) {
        let token = context.meta.get_progress_token();
        for step in [0.0, 50.0, 100.0] {
            if let Some(token) = &token {
                let mut params = ProgressNotificationParam::new(token.clone(), step);
                params.total = Some(100.0);
                let _ = context.peer.notify_progress(params).await;
            }
            if step < 100.0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    async fn logging(&self, context: &RequestContext<RoleServer>) {
        for (i, message) in [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed",
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let params = LoggingMessageNotificationParam::new(LoggingLevel::Info, json!(message))
                .with_logger("mcp-fixture");
            let _ = context.peer.notify_logging_message(params).await;
        }
    }

    async fn sampling(
        &self,
        prompt: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let params = serde_json::from_value(json!({
            "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
            "maxTokens": 100,
        }))
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        match context.peer.create_message(params).await {
            Ok(result) => {
                let text = serde_json::to_value(&result.message.content)
                    .ok()
                    .and_then(|content| {
                        let text = |c: &Value| c["text"].as_str().map(str::to_owned);
                        text(&content).or_else(|| content.get(0).and_then(text))
                    })
                    .unwrap_or_default();
                Ok(CallToolResult::success(vec![ContentBlock::text(format!(
                    "LLM response: {text}"
                ))]))
            }
            Err(error) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Sampling failed: {error}"
            ))])),
        }
    }
}

/// The `elicitation/create` request of each elicitation tool: (message, requested schema).
fn elicitation(tool: &str, message: &str) -> Option<(String, Value)> {
    let schema = match tool {
        "test_elicitation" => json!({
            "type": "object",
            "properties": {
                "username": { "type": "string", "description": "Your user name" },
                "email": { "type": "string", "description": "Your email address" },
            },
            "required": ["username", "email"],
        }),
        "test_elicitation_sep1034_defaults" => json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "default": "John Doe" },
                "age": { "type": "integer", "default": 30 },
                "score": { "type": "number", "default": 95.5 },
                "status": {
                    "type": "string",
                    "enum": ["active", "inactive", "pending"],
                    "default": "active",
                },
                "verified": { "type": "boolean", "default": true },
            },
        }),
        "test_elicitation_sep1330_enums" => json!({
            "type": "object",
            "properties": {
                "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
                "titledSingle": {
                    "type": "string",
                    "oneOf": [
                        { "const": "value1", "title": "First" },
                        { "const": "value2", "title": "Second" },
                    ],
                },
                "legacyEnum": {
                    "type": "string",
                    "enum": ["opt1", "opt2"],
                    "enumNames": ["Option one", "Option two"],
                },
                "untitledMulti": {
                    "type": "array",
                    "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
                },
                "titledMulti": {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            { "const": "value1", "title": "First" },
                            { "const": "value2", "title": "Second" },
                        ],
                    },
                },
            },
        }),
        _ => return None,
    };
    Some((message.to_owned(), schema))
}

impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_completions()
                .enable_logging()
                .enable_prompts()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_tools()
                .build(),
        )
        .with_server_info(Implementation::new(
            "junction-mcp-fixture",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = |s: &str| ContentBlock::text(s);
        let result = match request.name.as_ref() {
            "test_simple_text" => {
                CallToolResult::success(vec![text("This is a simple text response for testing.")])
            }
            "test_image_content" => {
                CallToolResult::success(vec![ContentBlock::image(PNG, "image/png")])
            }
            "test_audio_content" => {
                CallToolResult::success(vec![ContentBlock::audio(wav_base64(), "audio/wav")])
            }
            "test_embedded_resource" => {
                CallToolResult::success(vec![ContentBlock::resource(text_resource(
                    "test://embedded-resource",
                    "This is an embedded resource content.",
                ))])
            }
            "test_multiple_content_types" => CallToolResult::success(vec![
                text("Multiple content types test:"),
                ContentBlock::image(PNG, "image/png"),
                ContentBlock::resource(
                    ResourceContents::text(
                        r#"{"test":"data","value":123}"#,
                        "test://mixed-content-resource",
                    )
                    .with_mime_type("application/json"),
                ),
            ]),
            "test_tool_with_logging" => {
                self.logging(&context).await;
                CallToolResult::success(vec![text("Logging test completed")])
            }
            "test_tool_with_progress" => {
                self.progress(&context).await;
                CallToolResult::success(vec![text("Progress test completed")])
            }
            "test_error_handling" => CallToolResult::error(vec![text(
                "This tool intentionally returns an error for testing",
            )]),
            name @ ("test_elicitation"
            | "test_elicitation_sep1034_defaults"
            | "test_elicitation_sep1330_enums") => {
                let message = request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("Please fill in the form");
                let Some((message, schema)) = elicitation(name, message) else {
                    return Err(ErrorData::internal_error("no such elicitation", None));
                };
                self.elicit(message, schema, &context).await?
            }
            "test_sampling" => {
                let prompt = request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("prompt"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                self.sampling(&prompt, &context).await?
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!("unknown tool {other}"),
                    None,
                ));
            }
        };
        Ok(result.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let argument = |name: &str, description: &str| {
            PromptArgument::new(name)
                .with_description(description)
                .with_required(true)
        };
        Ok(ListPromptsResult::with_all_items(vec![
            Prompt::new(
                "test_simple_prompt",
                Some("A prompt without arguments"),
                None,
            ),
            Prompt::new(
                "test_prompt_with_arguments",
                Some("A prompt with two arguments"),
                Some(vec![
                    argument("arg1", "First argument"),
                    argument("arg2", "Second argument"),
                ]),
            ),
            Prompt::new(
                "test_prompt_with_embedded_resource",
                Some("A prompt embedding a resource"),
                Some(vec![argument(
                    "resourceUri",
                    "URI of the resource to embed",
                )]),
            ),
            Prompt::new(
                "test_prompt_with_image",
                Some("A prompt with an image"),
                None,
            ),
        ]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let arg = |name: &str| {
            request
                .arguments
                .as_ref()
                .and_then(|a| a.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ErrorData::invalid_params(format!("missing argument {name}"), None))
        };
        let user = |s: String| PromptMessage::new_text(Role::User, s);
        let messages = match request.name.as_str() {
            "test_simple_prompt" => vec![user("This is a simple prompt for testing.".into())],
            "test_prompt_with_arguments" => vec![user(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1")?,
                arg("arg2")?
            ))],
            "test_prompt_with_embedded_resource" => vec![
                PromptMessage::new(
                    Role::User,
                    ContentBlock::resource(text_resource(
                        &arg("resourceUri")?,
                        "Embedded resource content for testing.",
                    )),
                ),
                user("Please process the embedded resource above.".into()),
            ],
            "test_prompt_with_image" => vec![
                PromptMessage::new(Role::User, ContentBlock::image(PNG, "image/png")),
                user("Please analyze the image above.".into()),
            ],
            other => {
                return Err(ErrorData::invalid_params(
                    format!("unknown prompt {other}"),
                    None,
                ));
            }
        };
        Ok(GetPromptResult::new(messages).into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resource = |uri: &str, name: &str, description: &str, mime: &str| {
            Resource::new(uri, name)
                .with_description(description)
                .with_mime_type(mime)
        };
        Ok(ListResourcesResult::with_all_items(vec![
            resource(
                "test://static-text",
                "Static text resource",
                "A static text resource",
                "text/plain",
            ),
            resource(
                "test://static-binary",
                "Static binary resource",
                "A static PNG image",
                "image/png",
            ),
            resource(
                "test://watched-resource",
                "Watched resource",
                "A resource clients may subscribe to",
                "text/plain",
            ),
        ]))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("test://template/{id}/data", "Template resource")
                .with_description("JSON data for any id")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.as_str();
        let contents = match uri {
            "test://static-text" => {
                text_resource(uri, "This is the content of the static text resource.")
            }
            "test://static-binary" => ResourceContents::blob(PNG, uri).with_mime_type("image/png"),
            "test://watched-resource" => text_resource(uri, "Watched resource content."),
            _ => match uri
                .strip_prefix(TEMPLATE_PREFIX)
                .and_then(|rest| rest.strip_suffix(TEMPLATE_SUFFIX))
                .filter(|id| !id.is_empty() && !id.contains('/'))
            {
                Some(id) => ResourceContents::text(
                    json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") })
                        .to_string(),
                    uri,
                )
                .with_mime_type("application/json"),
                None => {
                    return Err(ErrorData::resource_not_found(
                        format!("unknown resource {uri}"),
                        Some(json!({ "uri": uri })),
                    ));
                }
            },
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn subscribe(
        &self,
        _request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn unsubscribe(
        &self,
        _request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn set_level(
        &self,
        _request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Ok(CompleteResult::default())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => serve_stdio().await,
        [flag, port] if flag == "--http" => serve_http(port.parse()?).await,
        _ => {
            eprintln!("usage: mcp-fixture [--http <port>]");
            std::process::exit(2);
        }
    }
}

async fn serve_stdio() -> Result<(), Box<dyn std::error::Error>> {
    let service = Fixture
        .serve((tokio::io::stdin(), tokio::io::stdout()))
        .await?;
    service.waiting().await?;
    Ok(())
}

async fn serve_http(port: u16) -> Result<(), Box<dyn std::error::Error>> {
    use rmcp::transport::StreamableHttpService;
    use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

    let service = StreamableHttpService::new(
        || Ok(Fixture),
        std::sync::Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "mcp-fixture: listening on http://{}/mcp",
        listener.local_addr()?
    );
    // Without TCP_NODELAY, small responses wait on delayed ACKs (tens of ms per call).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
