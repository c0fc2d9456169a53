//! `POST /v1/responses`: the request body, checked and normalized once.
//!
//! Everything later works on this shape: `input` is always a list of items (a string becomes
//! one user message), every message's `content` is a list of parts, and every item has an
//! id, so that `input_items` can list them and a later turn can refer to them. Checks are
//! the ones OpenAI makes for the fields the gateway acts on; a bad field is a 400 naming it.
//! Fields the gateway does not act on are accepted and ignored, as OpenAI-compatible
//! servers do, except those whose silent loss would change the answer (`background`,
//! `conversation`, hosted tools), which are refused clearly.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ResponsesError;
use crate::ids::new_id;

/// A checked `CreateResponse` body.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub model: String,
    /// This turn's items, normalized, each with an `id`.
    pub input: Vec<Value>,
    pub instructions: Option<String>,
    pub tools: Vec<ToolSpec>,
    pub tool_choice: ToolChoice,
    pub previous_response_id: Option<String>,
    pub store: bool,
    pub stream: bool,
    pub max_output_tokens: Option<u64>,
    pub max_tool_calls: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub parallel_tool_calls: bool,
    pub metadata: Map<String, Value>,
    /// `text` as given (`format`, `verbosity`).
    pub text: Option<Value>,
    pub user: Option<String>,
    /// Echoed in the response object as given, minus credentials (`tool_echo`).
    pub tools_echo: Vec<Value>,
    pub tool_choice_echo: Value,
}

/// One entry of `tools`.
#[derive(Debug, Clone)]
pub enum ToolSpec {
    /// A function the client runs itself: passed to the model as written.
    Function {
        name: String,
        definition: Value,
    },
    Mcp(McpToolSpec),
}

/// A `{"type":"mcp"}` tool.
#[derive(Debug, Clone)]
pub struct McpToolSpec {
    pub server_label: String,
    pub server_url: String,
    pub server_description: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub authorization: Option<String>,
    /// `allowed_tools` (array, or `{tool_names}`); `None` allows every tool.
    pub allowed_tools: Option<Vec<String>>,
    /// `allowed_tools.read_only: true`: only tools annotated `readOnlyHint`.
    pub read_only_only: bool,
    pub approval: ApprovalPolicy,
}

/// `require_approval`. OpenAI's schema default is `"always"`.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalPolicy {
    Always,
    Never,
    /// `{"always": {…}, "never": {…}}`: a tool named (or read-only, when asked) in `never`
    /// runs without approval unless `always` names it too; everything else needs approval.
    Filters {
        always: ToolFilter,
        never: ToolFilter,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolFilter {
    pub tool_names: Vec<String>,
    pub read_only: bool,
}

impl ToolFilter {
    fn matches(&self, names: &[&str], read_only: bool) -> bool {
        (self.read_only && read_only)
            || self
                .tool_names
                .iter()
                .any(|wanted| names.iter().any(|n| n == wanted))
    }
}

impl ApprovalPolicy {
    /// Whether a call of the tool known by `names` (its exposed and original names) waits for
    /// the client's approval.
    pub fn needs_approval(&self, names: &[&str], read_only: bool) -> bool {
        match self {
            ApprovalPolicy::Always => true,
            ApprovalPolicy::Never => false,
            ApprovalPolicy::Filters { always, never } => {
                always.matches(names, read_only) || !never.matches(names, read_only)
            }
        }
    }
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    /// `{"type":"function","name"}`.
    Function(String),
    /// `{"type":"mcp","server_label","name"?}`.
    Mcp {
        server_label: String,
        name: Option<String>,
    },
    /// `{"type":"allowed_tools","mode","tools":[…]}`: only these tools, chosen freely
    /// (`auto`) or at least one (`required`).
    Allowed {
        required: bool,
        names: Vec<String>,
    },
}

impl CreateRequest {
    pub fn from_slice(body: &[u8]) -> Result<CreateRequest, ResponsesError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ResponsesError::invalid(format!("request body is not valid JSON: {e}")))?;
        let Value::Object(mut body) = value else {
            return Err(ResponsesError::invalid(
                "request body must be a JSON object",
            ));
        };
        let model = match body.remove("model") {
            Some(Value::String(model)) if !model.is_empty() => model,
            Some(_) => {
                return Err(ResponsesError::invalid_param(
                    "model",
                    "`model` must be a non-empty string",
                ));
            }
            None => {
                return Err(ResponsesError::invalid_param(
                    "model",
                    "`model` is required",
                ));
            }
        };
        for (field, why) in [
            (
                "background",
                "background responses are not supported by this gateway",
            ),
            (
                "conversation",
                "`conversation` is not supported by this gateway; chain turns with `previous_response_id`",
            ),
        ] {
            if body
                .get(field)
                .is_some_and(|v| !v.is_null() && *v != Value::Bool(false))
            {
                return Err(ResponsesError::invalid(why));
            }
        }
        let input = match body.remove("input") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => vec![message("user", text_parts("user", text))],
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| normalize_item(item, i))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ResponsesError::invalid_param(
                    "input",
                    "`input` must be a string or an array of input items",
                ));
            }
        };
        let previous_response_id = optional_string(&body, "previous_response_id")?;
        if input.is_empty() && previous_response_id.is_none() {
            return Err(ResponsesError::invalid_param(
                "input",
                "`input` is required",
            ));
        }
        let tools_value = match body.remove("tools") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(tools)) => tools,
            Some(_) => {
                return Err(ResponsesError::invalid_param(
                    "tools",
                    "`tools` must be an array",
                ));
            }
        };
        let tools = tools_value
            .iter()
            .map(parse_tool)
            .collect::<Result<Vec<_>, _>>()?;
        let tool_choice_echo = body
            .remove("tool_choice")
            .filter(|v| !v.is_null())
            .unwrap_or_else(|| Value::from("auto"));
        let tool_choice = parse_tool_choice(&tool_choice_echo)?;
        let temperature = optional_number(&body, "temperature", 0.0, 2.0)?;
        let top_p = optional_number(&body, "top_p", 0.0, 1.0)?;
        let max_output_tokens = optional_count(&body, "max_output_tokens")?;
        let max_tool_calls = optional_count(&body, "max_tool_calls")?;
        let metadata = match body.remove("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => {
                check_metadata(&map)?;
                map
            }
            Some(_) => {
                return Err(ResponsesError::invalid_param(
                    "metadata",
                    "`metadata` must be an object of strings",
                ));
            }
        };
        Ok(CreateRequest {
            model,
            input,
            instructions: optional_string(&body, "instructions")?,
            tools_echo: tools_value.iter().map(tool_echo).collect(),
            tools,
            tool_choice,
            tool_choice_echo,
            previous_response_id,
            store: optional_bool(&body, "store")?.unwrap_or(true),
            stream: optional_bool(&body, "stream")?.unwrap_or(false),
            max_output_tokens,
            max_tool_calls,
            temperature,
            top_p,
            parallel_tool_calls: optional_bool(&body, "parallel_tool_calls")?.unwrap_or(true),
            metadata,
            text: body.remove("text").filter(|v| !v.is_null()),
            user: optional_string(&body, "user")?,
        })
    }

    /// The `headers` of the entries naming the gateway's own servers. As in LiteLLM they
    /// join the request's headers for those servers' header rules (`x-mcp-<alias>-*`,
    /// `extra_headers`); the server drops the gateway key among them as among the others.
    pub fn gateway_mcp_headers(&self) -> Vec<(String, String)> {
        self.tools
            .iter()
            .filter_map(|t| match t {
                ToolSpec::Mcp(mcp) if crate::tools::is_gateway_url(&mcp.server_url) => Some(mcp),
                _ => None,
            })
            .flat_map(|mcp| {
                mcp.headers
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            })
            .collect()
    }

    /// The labels of the request's MCP tools, for messages.
    pub fn mcp_labels(&self) -> Vec<&str> {
        self.tools
            .iter()
            .filter_map(|t| match t {
                ToolSpec::Mcp(mcp) => Some(mcp.server_label.as_str()),
                ToolSpec::Function { .. } => None,
            })
            .collect()
    }
}

fn optional_string(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, ResponsesError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ResponsesError::invalid_param(
            field,
            format!("`{field}` must be a string"),
        )),
    }
}

fn optional_bool(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<bool>, ResponsesError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ResponsesError::invalid_param(
            field,
            format!("`{field}` must be a boolean"),
        )),
    }
}

fn optional_number(
    body: &Map<String, Value>,
    field: &'static str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, ResponsesError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if (min..=max).contains(&x) => Ok(Some(x)),
            _ => Err(ResponsesError::invalid_param(
                field,
                format!("`{field}` must be between {min} and {max}"),
            )),
        },
        Some(_) => Err(ResponsesError::invalid_param(
            field,
            format!("`{field}` must be a number"),
        )),
    }
}

fn optional_count(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<u64>, ResponsesError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(count) if count > 0 => Ok(Some(count)),
            _ => Err(ResponsesError::invalid_param(
                field,
                format!("`{field}` must be a positive integer"),
            )),
        },
        Some(_) => Err(ResponsesError::invalid_param(
            field,
            format!("`{field}` must be a positive integer"),
        )),
    }
}

/// OpenAI's limits: at most 16 pairs, keys up to 64 characters, string values up to 512.
fn check_metadata(map: &Map<String, Value>) -> Result<(), ResponsesError> {
    if map.len() > 16 {
        return Err(ResponsesError::invalid_param(
            "metadata",
            "`metadata` may hold at most 16 pairs",
        ));
    }
    for (key, value) in map {
        let ok =
            key.chars().count() <= 64 && value.as_str().is_some_and(|v| v.chars().count() <= 512);
        if !ok {
            return Err(ResponsesError::invalid_param(
                "metadata",
                format!(
                    "`metadata.{key}`: keys are at most 64 characters and values strings of at most 512"
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn message(role: &str, content: Vec<Value>) -> Value {
    let mut item = Map::new();
    item.insert("type".into(), "message".into());
    item.insert("id".into(), new_id("msg_").into());
    item.insert("role".into(), role.into());
    item.insert("content".into(), Value::Array(content));
    if role == "assistant" {
        item.insert("status".into(), "completed".into());
    }
    Value::Object(item)
}

/// A string content as parts: `input_text` for what the client says, `output_text` for a
/// replayed assistant turn (what OpenAI stores for each).
fn text_parts(role: &str, text: String) -> Vec<Value> {
    let kind = if role == "assistant" {
        "output_text"
    } else {
        "input_text"
    };
    let mut part = Map::new();
    part.insert("type".into(), kind.into());
    part.insert("text".into(), text.into());
    if role == "assistant" {
        part.insert("annotations".into(), Value::Array(Vec::new()));
    }
    vec![Value::Object(part)]
}

const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];
const PART_TYPES: [&str; 5] = [
    "input_text",
    "input_image",
    "input_file",
    "output_text",
    "refusal",
];

/// One `input` entry, checked, with an id.
fn normalize_item(item: Value, index: usize) -> Result<Value, ResponsesError> {
    let bad =
        |why: String| ResponsesError::invalid_param("input", format!("input[{index}]: {why}"));
    let Value::Object(mut item) = item else {
        return Err(bad("an input item must be an object".into()));
    };
    let kind = match item.get("type") {
        None => "message".to_owned(),
        Some(Value::String(kind)) => kind.clone(),
        Some(_) => return Err(bad("`type` must be a string".into())),
    };
    match kind.as_str() {
        "message" => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some(role) if ROLES.contains(&role) => role.to_owned(),
                Some(role) => {
                    return Err(bad(format!(
                        "role {role:?} is not one of user, assistant, system, developer"
                    )));
                }
                None => return Err(bad("a message needs a `role`".into())),
            };
            let content = match item.remove("content") {
                Some(Value::String(text)) => text_parts(&role, text),
                Some(Value::Array(parts)) => {
                    for (p, part) in parts.iter().enumerate() {
                        let part_type = part.get("type").and_then(Value::as_str).unwrap_or("");
                        if !PART_TYPES.contains(&part_type) {
                            return Err(bad(format!(
                                "content[{p}] has type {part_type:?}; expected one of {PART_TYPES:?}"
                            )));
                        }
                    }
                    parts
                }
                _ => {
                    return Err(bad(
                        "a message needs `content`: a string or an array of parts".into(),
                    ));
                }
            };
            item.insert("type".into(), "message".into());
            item.insert("content".into(), Value::Array(content));
            item.entry("id").or_insert_with(|| new_id("msg_").into());
        }
        "function_call" => {
            for field in ["call_id", "name", "arguments"] {
                if !item.get(field).is_some_and(Value::is_string) {
                    return Err(bad(format!("a function_call needs a string `{field}`")));
                }
            }
            item.entry("id").or_insert_with(|| new_id("fc_").into());
            item.entry("status").or_insert_with(|| "completed".into());
        }
        "function_call_output" => {
            if !item.get("call_id").is_some_and(Value::is_string) {
                return Err(bad("a function_call_output needs a string `call_id`".into()));
            }
            if !item
                .get("output")
                .is_some_and(|o| o.is_string() || o.is_array())
            {
                return Err(bad(
                    "a function_call_output needs an `output` (a string or parts)".into(),
                ));
            }
            item.entry("id").or_insert_with(|| new_id("fco_").into());
        }
        "mcp_approval_response" => {
            if !item
                .get("approval_request_id")
                .is_some_and(Value::is_string)
            {
                return Err(bad(
                    "an mcp_approval_response needs a string `approval_request_id`".into(),
                ));
            }
            if !item.get("approve").is_some_and(Value::is_boolean) {
                return Err(bad(
                    "an mcp_approval_response needs a boolean `approve`".into()
                ));
            }
            item.entry("id").or_insert_with(|| new_id("mcpa_").into());
        }
        "item_reference" => {
            if !item.get("id").is_some_and(Value::is_string) {
                return Err(bad("an item_reference needs a string `id`".into()));
            }
        }
        // Items of earlier turns replayed by a client that keeps its own history.
        "mcp_list_tools" | "mcp_call" | "mcp_approval_request" | "reasoning" => {
            item.entry("id").or_insert_with(|| new_id("item_").into());
        }
        other => {
            return Err(bad(format!(
                "input items of type {other:?} are not supported"
            )));
        }
    }
    Ok(Value::Object(item))
}

fn parse_tool(tool: &Value) -> Result<ToolSpec, ResponsesError> {
    let bad = |why: String| ResponsesError::invalid_param("tools", why);
    let kind = tool.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "function" => {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| valid_function_name(n))
                .ok_or_else(|| {
                    bad(
                        "a function tool needs a `name` of 1-64 characters a-z, A-Z, 0-9, _ or -"
                            .into(),
                    )
                })?;
            Ok(ToolSpec::Function {
                name: name.to_owned(),
                definition: tool.clone(),
            })
        }
        "mcp" => parse_mcp_tool(tool).map(ToolSpec::Mcp).map_err(bad),
        "" => Err(bad("every tool needs a `type`".into())),
        other => Err(bad(format!(
            "tools of type {other:?} are not supported by this gateway; use \"function\" or \"mcp\""
        ))),
    }
}

pub(crate) fn valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn parse_mcp_tool(tool: &Value) -> Result<McpToolSpec, String> {
    let server_label = tool
        .get("server_label")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
        .ok_or("an mcp tool needs a `server_label`")?
        .to_owned();
    let server_url = match tool.get("server_url") {
        Some(Value::String(url)) if !url.is_empty() => url.clone(),
        _ if tool.get("connector_id").is_some() => {
            return Err(format!(
                "mcp tool {server_label:?}: connectors are not supported by this gateway; give a `server_url`"
            ));
        }
        _ => return Err(format!("mcp tool {server_label:?} needs a `server_url`")),
    };
    let headers = match tool.get("headers") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!(
                    "mcp tool {server_label:?}: header {k:?} must be a string"
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(format!(
                "mcp tool {server_label:?}: `headers` must be an object"
            ));
        }
    };
    let (allowed_tools, read_only_only) = match tool.get("allowed_tools") {
        None | Some(Value::Null) => (None, false),
        Some(Value::Array(names)) => (
            Some(string_list(names, &server_label, "allowed_tools")?),
            false,
        ),
        Some(Value::Object(filter)) => {
            let names = match filter.get("tool_names") {
                None | Some(Value::Null) => None,
                Some(Value::Array(names)) => {
                    Some(string_list(names, &server_label, "allowed_tools")?)
                }
                Some(_) => {
                    return Err(format!(
                        "mcp tool {server_label:?}: `allowed_tools.tool_names` must be an array"
                    ));
                }
            };
            (names, filter.get("read_only") == Some(&Value::Bool(true)))
        }
        Some(_) => {
            return Err(format!(
                "mcp tool {server_label:?}: `allowed_tools` must be an array or an object"
            ));
        }
    };
    let approval = match tool.get("require_approval") {
        None | Some(Value::Null) => ApprovalPolicy::Always,
        Some(Value::String(s)) if s == "always" => ApprovalPolicy::Always,
        Some(Value::String(s)) if s == "never" => ApprovalPolicy::Never,
        Some(Value::Object(map)) => ApprovalPolicy::Filters {
            always: tool_filter(map.get("always"), &server_label)?,
            never: tool_filter(map.get("never"), &server_label)?,
        },
        Some(_) => {
            return Err(format!(
                "mcp tool {server_label:?}: `require_approval` must be \"always\", \"never\" or {{\"always\"|\"never\": {{\"tool_names\": [...]}}}}"
            ));
        }
    };
    Ok(McpToolSpec {
        server_url,
        server_description: tool
            .get("server_description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        headers,
        authorization: tool
            .get("authorization")
            .and_then(Value::as_str)
            .map(str::to_owned),
        allowed_tools,
        read_only_only,
        approval,
        server_label,
    })
}

fn string_list(values: &[Value], label: &str, field: &str) -> Result<Vec<String>, String> {
    values
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("mcp tool {label:?}: `{field}` must hold strings"))
        })
        .collect()
}

fn tool_filter(value: Option<&Value>, label: &str) -> Result<ToolFilter, String> {
    match value {
        None | Some(Value::Null) => Ok(ToolFilter::default()),
        Some(Value::Object(map)) => Ok(ToolFilter {
            tool_names: match map.get("tool_names") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(names)) => string_list(names, label, "require_approval")?,
                Some(_) => {
                    return Err(format!("mcp tool {label:?}: `tool_names` must be an array"));
                }
            },
            read_only: map.get("read_only") == Some(&Value::Bool(true)),
        }),
        Some(_) => Err(format!(
            "mcp tool {label:?}: approval filters must be objects"
        )),
    }
}

fn parse_tool_choice(value: &Value) -> Result<ToolChoice, ResponsesError> {
    let bad = || {
        ResponsesError::invalid_param(
            "tool_choice",
            "`tool_choice` must be \"auto\", \"none\", \"required\", {\"type\":\"function\",\"name\"}, {\"type\":\"mcp\",\"server_label\"} or {\"type\":\"allowed_tools\",…}",
        )
    };
    match value {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            _ => Err(bad()),
        },
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some("function") => map
                .get("name")
                .and_then(Value::as_str)
                .map(|n| ToolChoice::Function(n.to_owned()))
                .ok_or_else(bad),
            Some("mcp") => Ok(ToolChoice::Mcp {
                server_label: map
                    .get("server_label")
                    .and_then(Value::as_str)
                    .ok_or_else(bad)?
                    .to_owned(),
                name: map.get("name").and_then(Value::as_str).map(str::to_owned),
            }),
            Some("allowed_tools") => {
                let required = match map.get("mode").and_then(Value::as_str) {
                    Some("required") => true,
                    Some("auto") | None => false,
                    Some(_) => return Err(bad()),
                };
                let names = map
                    .get("tools")
                    .and_then(Value::as_array)
                    .ok_or_else(bad)?
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                Ok(ToolChoice::Allowed { required, names })
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// A tool as the response object echoes it: credentials (`headers`, `authorization`) are
/// never written back, neither to the client nor to the database.
fn tool_echo(tool: &Value) -> Value {
    let mut tool = tool.clone();
    if let Some(map) = tool.as_object_mut()
        && map.get("type").and_then(Value::as_str) == Some("mcp")
    {
        map.remove("authorization");
        if let Some(Value::Object(headers)) = map.get_mut("headers") {
            for value in headers.values_mut() {
                *value = Value::from("<redacted>");
            }
        }
    }
    tool
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<CreateRequest, ResponsesError> {
        CreateRequest::from_slice(body.to_string().as_bytes())
    }

    #[test]
    fn a_string_input_is_one_user_message_with_an_id() {
        let req = parse(json!({"model": "m", "input": "hi"})).unwrap();
        assert_eq!(req.input.len(), 1);
        assert_eq!(req.input[0]["role"], "user");
        assert_eq!(
            req.input[0]["content"][0],
            json!({"type": "input_text", "text": "hi"})
        );
        assert!(req.input[0]["id"].as_str().unwrap().starts_with("msg_"));
        assert!(req.store && !req.stream && req.parallel_tool_calls);
        assert_eq!(req.tool_choice, ToolChoice::Auto);
    }

    #[test]
    fn seed_003_request_parses() {
        let req = parse(json!({
            "model": "gpt-5",
            "input": [{"role": "user", "content": "give me TLDR", "type": "message"}],
            "tools": [{"type": "mcp", "server_label": "litellm", "server_url": "litellm_proxy/mcp",
                       "require_approval": "never", "allowed_tools": ["GitMCP-fetch_litellm_documentation"]}],
            "stream": true, "tool_choice": "required"
        }))
        .unwrap();
        assert!(req.stream);
        assert_eq!(req.tool_choice, ToolChoice::Required);
        let ToolSpec::Mcp(mcp) = &req.tools[0] else {
            panic!()
        };
        assert_eq!(mcp.approval, ApprovalPolicy::Never);
        assert_eq!(
            mcp.allowed_tools.as_deref(),
            Some(&["GitMCP-fetch_litellm_documentation".to_owned()][..])
        );
    }

    #[test]
    fn bad_fields_name_their_param() {
        for (body, param) in [
            (json!({"input": "x"}), "model"),
            (json!({"model": "m"}), "input"),
            (json!({"model": "m", "input": 3}), "input"),
            (
                json!({"model": "m", "input": [{"role": "robot", "content": "x"}]}),
                "input",
            ),
            (
                json!({"model": "m", "input": "x", "temperature": 3}),
                "temperature",
            ),
            (
                json!({"model": "m", "input": "x", "tools": [{"type": "web_search"}]}),
                "tools",
            ),
            (
                json!({"model": "m", "input": "x", "tools": [{"type": "mcp", "server_label": "a"}]}),
                "tools",
            ),
            (
                json!({"model": "m", "input": "x", "tool_choice": "sometimes"}),
                "tool_choice",
            ),
            (
                json!({"model": "m", "input": "x", "stream": "yes"}),
                "stream",
            ),
        ] {
            let error = parse(body.clone()).unwrap_err();
            assert_eq!(error.status, 400, "{body}");
            assert_eq!(error.param, Some(param), "{body}: {}", error.message);
        }
    }

    #[test]
    fn approval_filters_follow_openai() {
        let policy = ApprovalPolicy::Filters {
            always: ToolFilter {
                tool_names: vec!["rm".into()],
                read_only: false,
            },
            never: ToolFilter {
                tool_names: vec!["ls".into(), "rm".into()],
                read_only: true,
            },
        };
        assert!(!policy.needs_approval(&["ls"], false));
        assert!(policy.needs_approval(&["rm"], false));
        assert!(policy.needs_approval(&["cat"], false));
        assert!(!policy.needs_approval(&["cat"], true));
        assert!(ApprovalPolicy::Always.needs_approval(&["x"], true));
        assert!(!ApprovalPolicy::Never.needs_approval(&["x"], false));
    }

    #[test]
    fn credentials_are_not_echoed() {
        let req = parse(json!({"model": "m", "input": "x", "tools": [{"type": "mcp", "server_label": "a",
            "server_url": "litellm_proxy", "authorization": "tok", "headers": {"x-mcp-a-authorization": "Bearer s"}}]}))
        .unwrap();
        let echoed = req.tools_echo[0].to_string();
        assert!(
            !echoed.contains("tok") && !echoed.contains("Bearer s"),
            "{echoed}"
        );
    }
}
