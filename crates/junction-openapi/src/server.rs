//! The MCP server an OpenAPI spec becomes: `tools/list` lists the operations, `tools/call`
//! makes the HTTP request and turns the answer into a tool result.
//!
//! It runs in-process as a [`LocalServer`]: the gateway's MCP client opens sessions on it
//! like on any upstream, and each session carries its own credentials and headers (the
//! configured ones, or a caller's), so per-caller auth works as for remote servers.
//!
//! Every failure of the API call itself (a refused connection, a timeout, a 500) is a tool
//! result with `isError`, so a model sees what went wrong and can react; only calls of
//! tools that do not exist are protocol errors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use junction_mcp::{LocalServer, LocalSession, McpError, TlsConfig};
use reqwest::Url;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value};

use crate::SpecError;
use crate::auth::Credentials;
use crate::document::Documents;
use crate::operation::Operation;
use crate::request::{Prepared, prepare};
use crate::response::{tool_result, without_query};
use crate::spec::{Spec, read};

/// The longest API answer kept; the rest is cut (and the result says so).
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// How to serve a spec.
#[derive(Debug, Clone)]
pub struct OpenApiOptions {
    /// The API's base URL (the entry's `url`); the spec's own `servers`/`host` otherwise.
    pub base_url: Option<String>,
    /// Bound on one API request, from connecting to the last byte.
    pub timeout: Duration,
    pub tls: TlsConfig,
}

impl Default for OpenApiOptions {
    fn default() -> Self {
        OpenApiOptions {
            base_url: None,
            timeout: Duration::from_secs(60),
            tls: TlsConfig::default(),
        }
    }
}

/// A loaded spec, ready to serve sessions. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OpenApiServer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    name: String,
    spec: Spec,
    base: Url,
    by_name: HashMap<String, usize>,
    http: reqwest::Client,
    timeout: Duration,
}

impl OpenApiServer {
    /// Loads and checks the spec at `spec_path` (a file path or an `http(s)` URL, with the
    /// files it references). `name` names the server in logs and errors.
    pub async fn load(
        name: &str,
        spec_path: &str,
        options: OpenApiOptions,
    ) -> Result<OpenApiServer, SpecError> {
        let http = junction_mcp::http_client(name, &options.tls)
            .map_err(|e| SpecError::Unreadable(e.to_string()))?;
        let documents = Documents::load(spec_path, &http).await?;
        let spec = read(&documents)?;
        let base = match options
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(url) => Url::parse(url)
                .map_err(|e| SpecError::Invalid(format!("the url {url:?} is not valid: {e}")))?,
            None => spec.base_url.clone().ok_or_else(|| {
                SpecError::Invalid(
                    "no API base URL: the spec has no absolute `servers` URL (or `host`); \
                     set `url` on the entry"
                        .into(),
                )
            })?,
        };
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SpecError::Invalid(format!(
                "the API base URL {base} is not http:// or https://"
            )));
        }
        let by_name = spec
            .operations
            .iter()
            .enumerate()
            .map(|(at, op)| (op.tool.name.to_string(), at))
            .collect();
        tracing::info!(
            server = name,
            spec = spec_path,
            title = %spec.title,
            dialect = ?spec.dialect,
            base = %base,
            tools = spec.operations.len(),
            "loaded OpenAPI spec"
        );
        Ok(OpenApiServer {
            shared: Arc::new(Shared {
                name: name.to_owned(),
                spec,
                base,
                by_name,
                http,
                timeout: options.timeout,
            }),
        })
    }

    /// The tools, one per operation, in the spec's order.
    pub fn tools(&self) -> Vec<Tool> {
        self.shared.tools()
    }

    /// The API's base URL the calls go to.
    pub fn base_url(&self) -> &str {
        self.shared.base.as_str()
    }
}

impl LocalServer for OpenApiServer {
    fn target(&self) -> String {
        format!("OpenAPI {}", self.shared.base)
    }

    fn serve(&self, session: LocalSession) -> Result<(), McpError> {
        let handler = Session {
            shared: Arc::clone(&self.shared),
            credentials: Arc::new(Credentials::new(session.auth, session.headers)),
        };
        let name = self.shared.name.clone();
        let (read, write) = tokio::io::split(session.io);
        tokio::spawn(async move {
            match handler
                .serve(AsyncRwTransport::new_server(read, write))
                .await
            {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(error) => {
                    tracing::debug!(server = name, %error, "OpenAPI MCP session ended before it began");
                }
            }
        });
        Ok(())
    }
}

impl Shared {
    fn tools(&self) -> Vec<Tool> {
        self.spec
            .operations
            .iter()
            .map(|op| op.tool.clone())
            .collect()
    }
}

/// One MCP session: the spec plus this session's credentials.
#[derive(Clone)]
struct Session {
    shared: Arc<Shared>,
    credentials: Arc<Credentials>,
}

impl ServerHandler for Session {
    fn get_info(&self) -> ServerConfig {
        let spec = &self.shared.spec;
        let name = if spec.title.is_empty() {
            self.shared.name.clone()
        } else {
            spec.title.clone()
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(name, spec.version.clone()))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.shared.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(operation) = self
            .shared
            .by_name
            .get(request.name.as_ref())
            .and_then(|at| self.shared.spec.operations.get(*at))
        else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let result = tokio::select! {
            result = self.call(operation, &arguments) => result,
            () = context.ct.cancelled() => failure("the call was cancelled".into()),
        };
        Ok(result.into())
    }
}

impl Session {
    async fn call(&self, operation: &Operation, arguments: &Map<String, Value>) -> CallToolResult {
        let shared = &self.shared;
        let mut prepared = match prepare(operation, &shared.base, arguments) {
            Ok(prepared) => prepared,
            Err(error) => return failure(format!("Invalid arguments: {error}")),
        };
        self.credentials.apply(operation, &mut prepared);
        let Prepared {
            method,
            url,
            headers,
            body,
        } = prepared;
        let shown = without_query(&url);
        let mut builder = shared
            .http
            .request(method.clone(), url.clone())
            .timeout(shared.timeout);
        for (name, value) in &headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, body.content_type)
                .body(body.bytes);
        }
        let timed_out = || {
            failure(format!(
                "{method} {shown} timed out after {} s",
                shared.timeout.as_secs_f64()
            ))
        };
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => return timed_out(),
            Err(error) => {
                return failure(format!(
                    "{method} {shown} failed: {}",
                    describe_error(error)
                ));
            }
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - bytes.len();
                    if chunk.len() > room {
                        bytes.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) if error.is_timeout() => return timed_out(),
                Err(error) => {
                    return failure(format!(
                        "{method} {shown}: reading the answer failed: {}",
                        describe_error(error)
                    ));
                }
            }
        }
        tool_result(
            &method,
            &url,
            status,
            content_type.as_deref(),
            &bytes,
            truncated,
        )
    }
}

fn failure(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// The innermost cause of a request failure is the useful part ("Connection refused").
/// Without the URL, which may carry an API key in its query.
fn describe_error(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
