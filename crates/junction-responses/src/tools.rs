//! The tools a response may use: the client's own functions, and the MCP tools named by
//! `{"type":"mcp"}` entries, resolved to something the loop can call.
//!
//! * `server_url: "litellm_proxy"` (or `"junction"`), optionally `…/mcp/<server>[,<server>]`,
//!   means the gateway's own MCP servers. They are narrowed by the path, then by
//!   `server_label` when it names a server or an access group (LiteLLM's rule: a label that
//!   names nothing narrows nothing), and by what the caller may use. Their tools keep the
//!   gateway's exposed names (`<server>-<tool>`), which are already valid function names and
//!   unique, so the model, the items and `allowed_tools` all speak the same names.
//! * Any other URL is an MCP server the gateway connects to for this request (`external.rs`),
//!   only when the operator allows it. Its tools are shown to the model as
//!   `<label>-<tool>` (sanitized) and keep their own names in the items.
//!
//! A listing failure is not fatal: the `mcp_list_tools` item carries the error and the model
//! goes on without those tools.

use std::collections::BTreeMap;
use std::sync::Arc;

use junction_hub::{Caller, Registry, Scope};
use junction_mcp::McpClient;
use junction_mcp::model::Tool;
use serde_json::{Map, Value, json};

use crate::error::ResponsesError;
use crate::external::{self, ExternalPolicy};
use crate::request::{McpToolSpec, ToolSpec, valid_function_name};

/// How a tool the model calls is reached.
#[derive(Clone)]
pub(crate) enum Route {
    /// Through the registry, by the exposed name.
    Gateway { exposed: String },
    /// A server connected for this request, by the tool's own name.
    External {
        client: Arc<McpClient>,
        original: String,
    },
}

/// An MCP tool as the loop knows it.
#[derive(Clone)]
pub(crate) struct McpTool {
    pub label: String,
    /// The name in `mcp_call` and `mcp_approval_request` items.
    pub item_name: String,
    pub route: Route,
    pub needs_approval: bool,
}

/// One `mcp_list_tools` item to be: the tools of one MCP entry, or why there are none.
pub(crate) struct Listing {
    pub label: String,
    pub tools: Vec<Value>,
    pub error: Option<String>,
}

/// Everything the loop needs about tools, resolved once per request.
#[derive(Default)]
pub(crate) struct ToolSet {
    /// Every tool the model is offered, in the Responses function shape.
    pub functions: Vec<Value>,
    /// Function name → MCP tool.
    pub mcp: BTreeMap<String, McpTool>,
    pub listings: Vec<Listing>,
    /// Names of the client's own function tools.
    pub client_functions: Vec<String>,
}

impl ToolSet {
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The function name of the MCP tool `name` (exposed or own name) under `label`.
    pub fn mcp_function(&self, label: &str, name: &str) -> Option<&str> {
        self.mcp
            .iter()
            .find(|(function, tool)| {
                tool.label == label && (tool.item_name == name || *function == name)
            })
            .map(|(function, _)| function.as_str())
    }

    /// The function names of every MCP tool under `label`.
    pub fn functions_of_label(&self, label: &str) -> Vec<String> {
        self.mcp
            .iter()
            .filter(|(_, tool)| tool.label == label)
            .map(|(function, _)| function.clone())
            .collect()
    }
}

/// What resolving needs from the gateway.
pub(crate) struct Resolver<'a> {
    pub hub: &'a Registry,
    pub caller: &'a Caller,
    /// What the caller may use (its key's permissions).
    pub access: &'a Scope,
    pub external: &'a ExternalPolicy,
}

impl Resolver<'_> {
    pub async fn resolve(&self, specs: &[ToolSpec]) -> Result<ToolSet, ResponsesError> {
        let mut set = ToolSet::default();
        for spec in specs {
            match spec {
                ToolSpec::Function { name, definition } => {
                    set.client_functions.push(name.clone());
                    set.functions.push(definition.clone());
                }
                ToolSpec::Mcp(mcp) => {
                    let listing = if is_gateway_url(&mcp.server_url) {
                        self.gateway_tools(mcp, &mut set).await?
                    } else {
                        self.external_tools(mcp, &mut set).await?
                    };
                    set.listings.push(listing);
                }
            }
        }
        Ok(set)
    }

    async fn gateway_tools(
        &self,
        spec: &McpToolSpec,
        set: &mut ToolSet,
    ) -> Result<Listing, ResponsesError> {
        let servers = self.gateway_servers(spec)?;
        let catalog = self.hub.catalog_for(self.caller).await;
        let mut tools = Vec::new();
        for (exposed, tool) in catalog.tools_in(&Scope::only(servers.clone()).within(self.access)) {
            if !allowed(spec, &[&exposed.exposed, &exposed.original], &tool) {
                continue;
            }
            if set.mcp.contains_key(&exposed.exposed) {
                continue; // two entries naming the same server: one offer is enough
            }
            let read_only = read_only(&tool);
            set.functions
                .push(junction_mcp::openai::to_responses_tool(&tool));
            set.mcp.insert(
                exposed.exposed.clone(),
                McpTool {
                    label: spec.server_label.clone(),
                    item_name: exposed.exposed.clone(),
                    route: Route::Gateway {
                        exposed: exposed.exposed.clone(),
                    },
                    needs_approval: spec
                        .approval
                        .needs_approval(&[&exposed.exposed, &exposed.original], read_only),
                },
            );
            tools.push(listed_tool(&tool));
        }
        let error = if servers.is_empty() {
            Some(format!(
                "no MCP server of this gateway matches server_url {:?} and server_label {:?} for this key",
                spec.server_url, spec.server_label
            ))
        } else {
            let down: Vec<String> = servers
                .iter()
                .filter_map(|s| {
                    self.hub
                        .unavailable_reason(s)
                        .map(|why| format!("{s}: {why}"))
                })
                .collect();
            (tools.is_empty() && !down.is_empty()).then(|| down.join("; "))
        };
        Ok(Listing {
            label: spec.server_label.clone(),
            tools,
            error,
        })
    }

    /// The `mcp_servers` keys an entry reaches: the path's servers (or all), narrowed by
    /// the label when it names a server or group, and by the caller's access. A server the
    /// path or the label names by itself that the key may not use is a 403 naming it.
    fn gateway_servers(&self, spec: &McpToolSpec) -> Result<Vec<String>, ResponsesError> {
        let path_names = gateway_path_names(&spec.server_url).unwrap_or_default();
        for name in path_names.iter().chain([&spec.server_label]) {
            if let Some(server) = self.server_named(name)
                && !self.access.contains(&server)
            {
                return Err(ResponsesError::forbidden(format!(
                    "This key may not use the MCP server '{server}' (tools entry with server_label {:?}). Contact proxy admin to allow it.",
                    spec.server_label
                )));
            }
        }
        let all: Vec<String> = self.hub.servers().iter().map(|s| s.name.clone()).collect();
        let from_path = if path_names.is_empty() {
            all
        } else {
            path_names.iter().flat_map(|n| self.named(n)).collect()
        };
        let by_label = self.named(&spec.server_label);
        Ok(from_path
            .into_iter()
            .filter(|s| by_label.is_empty() || by_label.contains(s))
            .filter(|s| self.access.contains(s))
            .fold(Vec::new(), |mut acc, s| {
                if !acc.contains(&s) {
                    acc.push(s);
                }
                acc
            }))
    }

    /// The server a name means by itself (name, alias, prefix or id), not a group.
    fn server_named(&self, name: &str) -> Option<String> {
        self.hub.server_named(name).map(|s| s.name.clone())
    }

    /// The servers a name means: a server (name, alias, id), else an access group.
    fn named(&self, name: &str) -> Vec<String> {
        if let Some(server) = self.server_named(name) {
            return vec![server];
        }
        self.hub.access_group(name)
    }

    async fn external_tools(
        &self,
        spec: &McpToolSpec,
        set: &mut ToolSet,
    ) -> Result<Listing, ResponsesError> {
        let client = match external::connect(self.external, spec).await {
            Ok(client) => Arc::new(client),
            Err(external::ExternalError::Refused(why)) => {
                return Err(ResponsesError::invalid_param("tools", why));
            }
            Err(external::ExternalError::Failed(why)) => {
                return Ok(Listing {
                    label: spec.server_label.clone(),
                    tools: Vec::new(),
                    error: Some(why),
                });
            }
        };
        let listed = match client.list_tools().await {
            Ok(listed) => listed,
            Err(error) => {
                return Ok(Listing {
                    label: spec.server_label.clone(),
                    tools: Vec::new(),
                    error: Some(format!(
                        "listing the tools of {} failed: {error}",
                        spec.server_label
                    )),
                });
            }
        };
        let mut tools = Vec::new();
        for tool in listed {
            let own = tool.name.to_string();
            if !allowed(spec, &[&own], &tool) {
                continue;
            }
            let function = unique_function_name(&spec.server_label, &own, set);
            let mut offered = tool.clone();
            offered.name = function.clone().into();
            set.functions
                .push(junction_mcp::openai::to_responses_tool(&offered));
            set.mcp.insert(
                function,
                McpTool {
                    label: spec.server_label.clone(),
                    item_name: own.clone(),
                    route: Route::External {
                        client: client.clone(),
                        original: own.clone(),
                    },
                    needs_approval: spec.approval.needs_approval(&[&own], read_only(&tool)),
                },
            );
            tools.push(listed_tool(&tool));
        }
        Ok(Listing {
            label: spec.server_label.clone(),
            tools,
            error: None,
        })
    }
}

/// `litellm_proxy`, `litellm_proxy/mcp`, `litellm_proxy/mcp/<servers>` and the same with
/// `junction`: the gateway's own servers.
pub(crate) fn is_gateway_url(url: &str) -> bool {
    ["litellm_proxy", "junction"].iter().any(|base| {
        url == *base
            || url
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The servers named by a gateway URL's path (`…/mcp/<a>,<b>` or `…/<a>`), or `None` for
/// all of them. As in LiteLLM, the last path segment names them.
fn gateway_path_names(url: &str) -> Option<Vec<String>> {
    let path = url.split_once('/').map(|(_, path)| path)?;
    let last = path.trim_matches('/').rsplit('/').next()?;
    if last.is_empty() || last == "mcp" {
        return None;
    }
    Some(
        last.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn read_only(tool: &Tool) -> bool {
    tool.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

/// `allowed_tools`: by any of the tool's names, ignoring ASCII case (LiteLLM accepts the
/// prefixed and the bare name).
fn allowed(spec: &McpToolSpec, names: &[&str], tool: &Tool) -> bool {
    if spec.read_only_only && !read_only(tool) {
        return false;
    }
    spec.allowed_tools.as_ref().is_none_or(|allowed| {
        allowed
            .iter()
            .any(|wanted| names.iter().any(|n| n.eq_ignore_ascii_case(wanted)))
    })
}

/// A tool as `mcp_list_tools` shows it.
fn listed_tool(tool: &Tool) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), Value::from(tool.name.to_string()));
    if let Some(description) = &tool.description {
        entry.insert("description".into(), Value::from(description.to_string()));
    }
    entry.insert(
        "input_schema".into(),
        Value::Object(tool.input_schema.as_ref().clone()),
    );
    entry.insert(
        "annotations".into(),
        tool.annotations
            .as_ref()
            .and_then(|a| serde_json::to_value(a).ok())
            .unwrap_or(Value::Null),
    );
    Value::Object(entry)
}

/// `<label>-<tool>` with characters outside `[A-Za-z0-9_-]` replaced, at most 64 long, and
/// unique among the names already offered.
fn unique_function_name(label: &str, tool: &str, set: &ToolSet) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let base: String = format!("{}-{}", clean(label), clean(tool))
        .chars()
        .take(64)
        .collect();
    let taken =
        |name: &str| set.mcp.contains_key(name) || set.client_functions.iter().any(|f| f == name);
    if !taken(&base) && valid_function_name(&base) {
        return base;
    }
    (2..)
        .map(|n| {
            let suffix = format!("_{n}");
            let head: String = base.chars().take(64 - suffix.len()).collect();
            format!("{head}{suffix}")
        })
        .find(|name| !taken(name))
        .unwrap_or(base)
}

/// The error a `tool_choice: "required"` request gets when no tool at all was resolved: an
/// empty loop would only hide the misconfiguration.
pub(crate) fn no_tools_error(labels: &[&str]) -> ResponsesError {
    ResponsesError::invalid_param(
        "tool_choice",
        format!(
            "tool_choice is \"required\" but no tool is available: the MCP servers {} offer this key no tools (check server_label, server_url, allowed_tools and the key's MCP permissions)",
            json!(labels)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_urls_and_their_servers() {
        assert!(is_gateway_url("litellm_proxy"));
        assert!(is_gateway_url("litellm_proxy/mcp/github"));
        assert!(is_gateway_url("junction"));
        assert!(!is_gateway_url("litellm_proxyx"));
        assert!(!is_gateway_url("https://example.com/mcp"));
        assert_eq!(gateway_path_names("litellm_proxy"), None);
        assert_eq!(gateway_path_names("litellm_proxy/mcp"), None);
        assert_eq!(gateway_path_names("litellm_proxy/mcp/"), None);
        assert_eq!(
            gateway_path_names("litellm_proxy/mcp/a,b"),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn external_function_names_are_valid_and_unique() {
        let mut set = ToolSet::default();
        let name = unique_function_name("deep wiki", "read/page", &set);
        assert_eq!(name, "deep_wiki-read_page");
        set.client_functions.push(name.clone());
        assert_eq!(
            unique_function_name("deep wiki", "read/page", &set),
            "deep_wiki-read_page_2"
        );
        let long = unique_function_name(&"x".repeat(80), "t", &set);
        assert!(valid_function_name(&long));
    }
}
