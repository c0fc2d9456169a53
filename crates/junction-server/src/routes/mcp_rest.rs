//! LiteLLM's REST view of the MCP gateway: `/mcp-rest/tools/{list,call}`,
//! `/v1/mcp/server/health` and `/v1/mcp/tools`.
//!
//! These exist for LiteLLM's UI and for scripts that want tools without speaking MCP. Their
//! bodies are LiteLLM's, not the OpenAI error shape of the other routes, because that is what
//! those clients parse: `{"error": "<code>", "message": …}` for the REST facade and
//! `{"error": "<LiteLLM's sentence>"}` for a filter refusal. Authentication failures keep the
//! gateway-wide shape, as LiteLLM's do.
//!
//! Everything is answered from the registry's in-memory catalog and health; only a tool call
//! reaches an upstream. A key sees and calls only what its permissions grant
//! (`mcp_access.rs`).

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use junction_hub::{HubError, ServerInfo};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::state::SharedState;

/// A query string as ordered pairs, so repeated keys (`server_ids=a&server_ids=b`) survive.
type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn values<'a>(pairs: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn query_pairs(query: Pairs) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
}

/// A value as JSON. Our types always serialize (string keys only); a failure would be a bug,
/// answered as a 500 rather than a panic.
fn to_json(value: impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value)
        .map_err(|e| ApiError::internal(format!("cannot serialize the answer: {e}")))
}

/// A JSON answer with a status.
fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `GET /v1/mcp/server/health[?server_ids=…]`: every server's (or the named ones') status
/// from the background checks, of the servers the key may use. Ids and `mcp_servers` names
/// are both accepted.
pub async fn health(
    State(state): State<SharedState>,
    headers: HeaderMap,
    query: Pairs,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let pairs = query_pairs(query)?;
        let wanted: Vec<&str> = values(&pairs, "server_ids").collect();
        // A key learns nothing of servers outside its permissions, not even that they exist.
        let grant = crate::mcp_access::grant(&principal, &state.mcp);
        let mut all = state.mcp.health();
        all.retain(|h| grant.contains(&h.server_name));
        let entries: Vec<Value> = if wanted.is_empty() {
            all.iter().map(to_json).collect::<Result<_, _>>()?
        } else {
            wanted
                .iter()
                .map(|id| {
                    match all
                        .iter()
                        .find(|h| h.server_id == *id || h.server_name == *id)
                    {
                        Some(h) => to_json(h),
                        // LiteLLM's third status, for an id it cannot check.
                        None => Ok(json!({
                            "server_id": id,
                            "server_name": null,
                            "status": "unknown",
                            "tools_count": 0,
                            "last_health_check": null,
                            "error": "MCP server not found",
                        })),
                    }
                })
                .collect::<Result<_, _>>()?
        };
        Ok(axum::Json(Value::Array(entries)).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `GET /v1/mcp/tools`: every tool under the name an MCP client sees (prefixed), with the
/// `mcp_info` of its server (as LiteLLM) and the tool's own name there (`original_name`).
pub async fn tools(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let caller = crate::upstream_headers::caller_of(&headers);
        let grant = crate::mcp_access::grant(&principal, &state.mcp);
        let servers = state.mcp.servers();
        let tools = state
            .mcp
            .catalog_for(&caller)
            .await
            .tools_in(&grant)
            .into_iter()
            .map(|(exposed, tool)| {
                let mut tool = to_json(tool)?;
                let server = servers.iter().find(|s| s.name == exposed.server);
                if let (Value::Object(fields), Some(server)) = (&mut tool, server) {
                    let mut info = mcp_info(server);
                    if let Value::Object(info) = &mut info {
                        // Junction's addition: the name to send with `/mcp-rest/tools/call`.
                        info.insert("original_name".into(), json!(exposed.original));
                    }
                    fields.insert("mcp_info".into(), info);
                }
                Ok(tool)
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(axum::Json(json!({ "tools": tools })).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `GET /v1/mcp/access_groups`: every access group the servers name, sorted, as LiteLLM's
/// `{"access_groups": [...]}`, for any key (as LiteLLM: the names are what a key request
/// may ask for).
pub async fn access_groups(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let groups: std::collections::BTreeSet<String> = state
            .mcp
            .servers()
            .iter()
            .flat_map(|s| s.access_groups.iter().cloned())
            .collect();
        Ok(axum::Json(json!({ "access_groups": groups })).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `mcp_info` of a listed tool: the config's `mcp_info` plus who serves the tool.
fn mcp_info(server: &ServerInfo) -> Value {
    let mut info: Map<String, Value> = server.mcp_info.clone();
    info.entry("server_name")
        .or_insert_with(|| json!(server.name));
    info.insert("server_id".into(), json!(server.id));
    if let Some(alias) = &server.alias {
        info.insert("alias".into(), json!(alias));
    }
    if let Some(description) = &server.description {
        info.entry("description")
            .or_insert_with(|| json!(description));
    }
    Value::Object(info)
}

/// `GET /mcp-rest/tools/list[?server_id=…]`: tools with their upstream (unprefixed) names,
/// each with the `mcp_info` of its server. Servers that are down are named in `message`
/// (`error: "partial_failure"`) while the others' tools are still listed.
pub async fn list(State(state): State<SharedState>, headers: HeaderMap, query: Pairs) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let pairs = query_pairs(query)?;
        let registry = &state.mcp;
        let wanted = values(&pairs, "server_id")
            .next()
            .or_else(|| values(&pairs, "mcp_server_name").next());
        let grant = crate::mcp_access::grant(&principal, registry);
        let servers: Vec<std::sync::Arc<ServerInfo>> = match wanted {
            Some(id) => match registry.find_server(id) {
                Some(server) if !grant.contains(&server.name) => {
                    return Ok(not_permitted(&server.name));
                }
                Some(server) => vec![server],
                None => {
                    return Ok(reply(
                        StatusCode::NOT_FOUND,
                        json!({
                            "tools": [],
                            "error": "server_not_found",
                            "message": format!("Server with id {id} not found"),
                        }),
                    ));
                }
            },
            None => registry
                .servers()
                .into_iter()
                .filter(|server| grant.contains(&server.name))
                .collect(),
        };
        let catalog = registry
            .catalog_for(&crate::upstream_headers::caller_of(&headers))
            .await;
        let mut tools = Vec::new();
        let mut failures = Vec::new();
        for server in &servers {
            let Some(listed) = catalog.server_tools(&server.name) else {
                let reason = registry
                    .unavailable_reason(&server.name)
                    .unwrap_or_default();
                failures.push(format!("{}: {reason}", server.name));
                continue;
            };
            let info = mcp_info(server);
            let listed = listed
                .iter()
                .filter(|tool| grant.may_call(&server.name, &tool.name));
            tools.extend(listed.map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "inputSchema": tool.input_schema,
                    "mcp_info": info,
                })
            }));
        }
        let body = if failures.is_empty() {
            json!({"tools": tools, "error": null, "message": "Successfully retrieved tools"})
        } else if wanted.is_some() {
            json!({
                "tools": tools,
                "error": "server_error",
                "message": format!("Failed to get tools from server {}", failures.join("; ")),
            })
        } else {
            json!({
                "tools": tools,
                "error": "partial_failure",
                "message": format!("Failed to get tools from servers: {}", failures.join("; ")),
            })
        };
        Ok(axum::Json(body).into_response())
    }
    .await;
    super::finish(result, log)
}

/// `POST /mcp-rest/tools/call` with `{server_id, name, arguments}`: calls the tool by its
/// upstream name on that server. A tool that fails answers 200 with `isError: true` (that
/// is the tool's answer); only the gateway's own refusals and upstream failures are errors.
pub async fn call(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = state.auth.authenticate(&headers).await?;
        log.caller = Some(principal.log_name());
        let body = crate::body::read_json(&headers, body, state.body_limit).await?;
        let text = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let missing = |key: &str| {
            reply(
                StatusCode::BAD_REQUEST,
                json!({
                    "error": "missing_parameter",
                    "message": format!("{key} is required in request body"),
                }),
            )
        };
        let Some(server_id) = text("server_id") else {
            return Ok(missing("server_id"));
        };
        let Some(name) = text("name") else {
            return Ok(missing("name"));
        };
        let arguments = match body.get("arguments") {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map.clone()),
            Some(_) => {
                return Ok(reply(
                    StatusCode::BAD_REQUEST,
                    json!({
                        "error": "invalid_parameter",
                        "message": "arguments must be a JSON object",
                    }),
                ));
            }
        };
        log.model = Some(format!("MCP: {name}"));
        let grant = crate::mcp_access::grant(&principal, &state.mcp);
        if let Some(server) = state.mcp.find_server(server_id) {
            if !grant.contains(&server.name) {
                return Ok(not_permitted(&server.name));
            }
            if !grant.may_call(&server.name, name) {
                return Ok(reply(
                    StatusCode::FORBIDDEN,
                    json!({"error": format!(
                        "User not allowed to call this tool: this key may not call tool '{name}' of MCP server '{}'. Contact proxy admin to allow it.",
                        server.name
                    )}),
                ));
            }
        }
        if let crate::principal::Principal::Key(holder) = &principal {
            crate::auth::Authenticator::within_budgets(holder)?;
        }
        let caller = crate::upstream_headers::caller_of(&headers);
        let started = std::time::SystemTime::now();
        let outcome = state
            .mcp
            .call_tool_on(&caller, server_id, name, arguments)
            .await;
        if let Some(server) = state.mcp.find_server(server_id) {
            crate::meter::Meter::new(&state, &principal).tool_call(&server, name, started, &outcome);
        }
        Ok(match outcome {
            Ok(result) => axum::Json(to_json(result)?).into_response(),
            Err(error) => call_error(server_id, error),
        })
    }
    .await;
    super::finish(result, log)
}

/// A server outside the caller's permissions: 403 naming it.
fn not_permitted(server: &str) -> Response {
    reply(
        StatusCode::FORBIDDEN,
        json!({
            "error": "forbidden",
            "message": format!(
                "This key may not use the MCP server '{server}'. Contact proxy admin to allow it (object_permission.mcp_servers or mcp_access_groups of the key or its team)."
            ),
        }),
    )
}

/// A failed REST call in LiteLLM's shape.
fn call_error(server_id: &str, error: HubError) -> Response {
    match error {
        HubError::UnknownServer(_) => reply(
            StatusCode::NOT_FOUND,
            json!({
                "error": "server_not_found",
                "message": format!("Server with id {server_id} not found"),
            }),
        ),
        // LiteLLM's sentence is the whole body; clients show it as is.
        HubError::Forbidden(refusal) => {
            reply(StatusCode::FORBIDDEN, json!({"error": refusal.to_string()}))
        }
        HubError::Unavailable { .. } => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "server_unavailable", "message": error.to_string()}),
        ),
        HubError::Upstream(_) if error.is_timeout() => reply(
            StatusCode::GATEWAY_TIMEOUT,
            json!({"error": "upstream_timeout", "message": error.to_string()}),
        ),
        HubError::Upstream(_) => reply(
            StatusCode::BAD_GATEWAY,
            json!({"error": "upstream_error", "message": error.to_string()}),
        ),
        other => {
            tracing::error!(error = %other, "unexpected MCP registry error");
            reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal_server_error", "message": other.to_string()}),
            )
        }
    }
}
