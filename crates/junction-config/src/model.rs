//! The typed shape of `config.yaml`: what Junction understands, with LiteLLM's key names.
//!
//! Fields are optional wherever LiteLLM makes them optional. Keys that are accepted but not acted
//! on yet live in `rest` maps so that [`crate::load`] can warn about each one exactly once.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole file. Every section is optional; an empty file is a valid (useless) config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub model_list: Vec<ModelEntry>,
    pub general_settings: GeneralSettings,
    pub litellm_settings: LitellmSettings,
    /// Accepted for compatibility; routing is round-robin with failover whatever it says.
    pub router_settings: Map<String, Value>,
    /// Parsed and kept for the MCP gateway; keyed by server name.
    pub mcp_servers: BTreeMap<String, McpServerConfig>,
    /// LiteLLM's `environment_variables` section: set into the process environment by LiteLLM.
    /// Junction reads it so `os.environ/` references can use it, without touching the real env.
    pub environment_variables: BTreeMap<String, String>,
}

/// One deployment. Several entries with the same `model_name` are deployments of one model.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelEntry {
    pub model_name: String,
    pub litellm_params: LitellmParams,
    #[serde(default)]
    pub model_info: Map<String, Value>,
}

/// How to reach one deployment. Keys Junction does not interpret are kept in `extra` and sent to
/// the upstream as default request parameters, as LiteLLM does (`temperature`, `max_tokens`, …).
#[derive(Debug, Clone, Deserialize)]
pub struct LitellmParams {
    pub model: ProviderModel,
    #[serde(default)]
    pub api_base: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
    /// Whole-request timeout in seconds.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Timeout in seconds for streaming requests (time to the response headers).
    #[serde(default)]
    pub stream_timeout: Option<f64>,
    /// A canned answer: the deployment never calls an upstream (LiteLLM's `mock_response`).
    #[serde(default)]
    pub mock_response: Option<String>,
    /// Whether `/v1/responses` requests go to the upstream's own Responses API
    /// (`<api_base>/responses`) instead of being translated to Chat Completions. Unset: only
    /// for OpenAI itself (provider `openai` on api.openai.com).
    #[serde(default)]
    pub use_responses_api: Option<bool>,
    #[serde(default)]
    pub input_cost_per_token: Option<f64>,
    #[serde(default)]
    pub output_cost_per_token: Option<f64>,
    /// Per-deployment request-rate budget, accepted for compatibility.
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `provider/model`, split at the first `/` (the model part may contain more slashes, e.g.
/// `openai/meta-llama/Llama-3-8b` for vLLM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderModel {
    pub provider: String,
    pub model: String,
}

impl fmt::Display for ProviderModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

impl std::str::FromStr for ProviderModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((provider, model)) if !provider.trim().is_empty() && !model.trim().is_empty() => {
                Ok(ProviderModel {
                    provider: provider.trim().to_owned(),
                    model: model.trim().to_owned(),
                })
            }
            _ => Err(format!("expected \"provider/model\", found {s:?}")),
        }
    }
}

impl<'de> Deserialize<'de> for ProviderModel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// `general_settings`: the proxy's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GeneralSettings {
    /// The admin key. Requests carrying it may do anything.
    pub master_key: Option<String>,
    pub database_url: Option<String>,
    /// Whether MCP servers defined through `/v1/mcp/server` are stored and served (env
    /// `STORE_MODEL_IN_DB=True` turns it on too).
    pub store_model_in_db: Option<bool>,
    /// Which object kinds the database holds (`mcp`, …); unset means all.
    pub supported_db_objects: Option<Vec<String>>,
    /// Junction's name for the key that seals stored credentials; env `LITELLM_SALT_KEY`
    /// wins, and the master key is used when neither is set (LiteLLM's fallback).
    pub salt_key: Option<String>,
    /// Largest accepted request body, in MiB (LiteLLM's name). Junction's default is 32 MiB.
    pub max_request_size_mb: Option<f64>,
    /// Junction-specific escape hatch: serve LLM routes without any key. Off by default.
    pub allow_unauthenticated: bool,
    /// LiteLLM's switch for weak master keys; Junction never refuses them, so it is only accepted.
    pub dangerously_permit_weak_or_unset_master_key: Option<bool>,
    /// Whether `/metrics` needs the master key. LiteLLM defaults to open; Junction to closed.
    pub require_auth_for_metrics_endpoint: Option<bool>,
    /// Junction-specific: browser origins (`https://gw.example.com`) allowed to use `/mcp`
    /// besides localhost ones. Requests without an `Origin` header are not affected.
    pub mcp_allowed_origins: Vec<String>,
    /// The header carrying one MCP credential for every server (`x-mcp-auth` by default; env
    /// `LITELLM_MCP_CLIENT_SIDE_AUTH_HEADER_NAME` wins).
    pub mcp_client_side_auth_header_name: Option<String>,
    /// Junction-specific: rounds of MCP tool calls one `/v1/responses` request may run
    /// before it ends `incomplete` (default 10).
    pub responses_max_tool_rounds: Option<u32>,
    /// Junction-specific: whether `/v1/responses` may connect to MCP servers named by URL
    /// in the request (`server_url: "https://…"`). Off by default: it lets key holders make
    /// the gateway open connections.
    pub responses_allow_external_mcp_urls: bool,
    /// Junction-specific: whether those URLs may resolve to private, loopback or link-local
    /// addresses. Off by default (server-side request forgery).
    pub responses_allow_private_mcp_urls: bool,
    /// LiteLLM's switch: any key may read any stored response.
    pub disable_responses_id_security: bool,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `litellm_settings`: the SDK-level settings LiteLLM applies to every call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LitellmSettings {
    /// Default timeout in seconds for deployments that set none.
    pub request_timeout: Option<f64>,
    /// `alias → mcp_servers key`: the tool prefix of servers without their own `alias`
    /// (the first alias of a server, in name order, is used).
    pub mcp_aliases: BTreeMap<String, String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One entry of `mcp_servers`. Only parsed here; the MCP gateway gives it meaning.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct McpServerConfig {
    pub url: Option<String>,
    pub transport: Option<String>,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub auth_type: Option<String>,
    #[serde(alias = "authentication_token")]
    pub auth_value: Option<Value>,
    pub description: Option<String>,
    pub alias: Option<String>,
    pub spec_path: Option<String>,
    pub allowed_tools: Option<Vec<String>>,
    pub disallowed_tools: Option<Vec<String>>,
    pub allowed_params: Option<BTreeMap<String, Vec<String>>>,
    pub extra_headers: Vec<String>,
    pub static_headers: BTreeMap<String, String>,
    pub access_groups: Vec<String>,
    pub allow_all_keys: Option<bool>,
    pub mcp_info: Map<String, Value>,
    pub timeout: Option<f64>,
    /// OAuth2 (`auth_type: oauth2`): with `client_id`, `client_secret` and `token_url` the
    /// gateway gets its own token (client credentials); without, each caller's token is used.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token_url: Option<String>,
    pub scopes: Vec<String>,
    /// `client_credentials` or `authorization_code` (newer LiteLLM requires it with oauth2).
    pub oauth2_flow: Option<String>,
}
