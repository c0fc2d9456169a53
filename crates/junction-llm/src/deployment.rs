//! One configured deployment: which provider adapter, where, with which credentials and limits.
//!
//! LiteLLM addresses providers by the prefix of `litellm_params.model`. The table here maps each
//! supported prefix to an adapter and, for hosted OpenAI-compatible services, a default
//! `api_base`, so `groq/llama3-8b-8192` works without one.

use std::time::Duration;

use junction_config::{LitellmParams, ModelEntry};
use serde_json::{Map, Value};

use crate::Usage;

/// The wire format a deployment speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI Chat Completions, for OpenAI and every compatible server.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

/// Default `api_base` of OpenAI-compatible providers that have a hosted endpoint.
const OPENAI_COMPATIBLE: &[(&str, Option<&str>)] = &[
    ("openai", Some("https://api.openai.com/v1")),
    ("groq", Some("https://api.groq.com/openai/v1")),
    ("deepseek", Some("https://api.deepseek.com/v1")),
    ("mistral", Some("https://api.mistral.ai/v1")),
    ("together_ai", Some("https://api.together.xyz/v1")),
    ("openrouter", Some("https://openrouter.ai/api/v1")),
    (
        "fireworks_ai",
        Some("https://api.fireworks.ai/inference/v1"),
    ),
    ("xai", Some("https://api.x.ai/v1")),
    ("deepinfra", Some("https://api.deepinfra.com/v1/openai")),
    ("perplexity", Some("https://api.perplexity.ai")),
    ("cerebras", Some("https://api.cerebras.ai/v1")),
    ("ollama", Some("http://localhost:11434/v1")),
    ("ollama_chat", Some("http://localhost:11434/v1")),
    ("lm_studio", Some("http://localhost:1234/v1")),
    ("hosted_vllm", None),
    ("vllm", None),
    ("openai_like", None),
    ("custom_openai", None),
    ("llamafile", Some("http://127.0.0.1:8080/v1")),
];

const ANTHROPIC_BASE: &str = "https://api.anthropic.com";
/// LiteLLM's default timeout for a whole request.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Keys of `litellm_params` that steer LiteLLM itself and must not reach the upstream body.
const NOT_FOR_UPSTREAM: &[&str] = &[
    "max_retries",
    "weight",
    "order",
    "tags",
    "region_name",
    "api_version",
    "organization",
    "custom_llm_provider",
    "use_in_pass_through",
    "use_litellm_proxy",
    "merge_reasoning_content_in_choices",
    "model_info",
    "rpm_limit",
    "tpm_limit",
];

/// A deployment that cannot be served, with the YAML path of the culprit.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DeploymentError {
    pub path: String,
    pub message: String,
}

/// One entry of `model_list`, ready to call.
#[derive(Debug)]
pub struct Deployment {
    pub(crate) model_name: String,
    pub(crate) provider: String,
    pub(crate) kind: ProviderKind,
    pub(crate) upstream_model: String,
    pub(crate) api_key: Option<String>,
    /// The upstream URL for chat calls, parsed once (none for `mock_response` deployments).
    pub(crate) endpoint: Option<reqwest::Url>,
    pub(crate) timeout: Duration,
    pub(crate) stream_timeout: Duration,
    /// Default request parameters from `litellm_params`; the client's own values win.
    pub(crate) defaults: Map<String, Value>,
    /// `<api_base>/responses`, only when `/v1/responses` requests go to the upstream's own
    /// Responses API (see [`Deployment::responses_native`]).
    pub(crate) responses_endpoint: Option<reqwest::Url>,
    /// `defaults` as Responses API parameters (see `providers::responses`).
    pub(crate) responses_defaults: Map<String, Value>,
    pub(crate) mock_response: Option<String>,
    input_cost_per_token: f64,
    output_cost_per_token: f64,
}

impl Deployment {
    pub(crate) fn from_entry(
        index: usize,
        entry: &ModelEntry,
        default_timeout: Option<f64>,
    ) -> Result<Deployment, DeploymentError> {
        let params: &LitellmParams = &entry.litellm_params;
        let provider = params.model.provider.as_str();
        let path = |field: &str| format!("model_list[{index}].litellm_params.{field}");
        let (kind, default_base) = if provider == "anthropic" {
            (ProviderKind::Anthropic, Some(ANTHROPIC_BASE))
        } else if let Some((_, base)) = OPENAI_COMPATIBLE.iter().find(|(p, _)| *p == provider) {
            (ProviderKind::OpenAi, *base)
        } else {
            let known: Vec<&str> = std::iter::once("anthropic")
                .chain(OPENAI_COMPATIBLE.iter().map(|(p, _)| *p))
                .collect();
            return Err(DeploymentError {
                path: path("model"),
                message: format!(
                    "provider {provider:?} is not supported; supported providers: {}",
                    known.join(", ")
                ),
            });
        };
        let api_base = match (&params.api_base, default_base) {
            (Some(base), _) => base.trim_end_matches('/').to_owned(),
            (None, Some(base)) => base.to_owned(),
            (None, None) if params.mock_response.is_some() => String::new(),
            (None, None) => {
                return Err(DeploymentError {
                    path: path("api_base"),
                    message: format!("provider {provider:?} needs an api_base"),
                });
            }
        };
        let endpoint = if api_base.is_empty() {
            None
        } else {
            let url = match kind {
                ProviderKind::OpenAi => format!("{api_base}/chat/completions"),
                ProviderKind::Anthropic => messages_url(&api_base),
            };
            Some(url.parse::<reqwest::Url>().map_err(|e| DeploymentError {
                path: path("api_base"),
                message: format!("not a valid URL ({e}): {api_base:?}"),
            })?)
        };
        let timeout = params
            .timeout
            .or(default_timeout)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_TIMEOUT);
        let stream_timeout = params
            .stream_timeout
            .map(Duration::from_secs_f64)
            .unwrap_or(timeout);
        let defaults: Map<String, Value> = params
            .extra
            .iter()
            .filter(|(k, _)| !NOT_FOR_UPSTREAM.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let responses_endpoint = if responses_native(kind, params, &api_base, &path)? {
            let url = format!("{api_base}/responses");
            Some(url.parse::<reqwest::Url>().map_err(|e| DeploymentError {
                path: path("api_base"),
                message: format!("not a valid URL ({e}): {api_base:?}"),
            })?)
        } else {
            None
        };
        let responses_defaults = crate::providers::responses::defaults(&defaults);
        Ok(Deployment {
            model_name: entry.model_name.clone(),
            provider: provider.to_owned(),
            kind,
            upstream_model: params.model.model.clone(),
            api_key: params.api_key.clone().filter(|k| !k.is_empty()),
            endpoint,
            timeout,
            stream_timeout,
            defaults,
            responses_endpoint,
            responses_defaults,
            mock_response: params.mock_response.clone(),
            input_cost_per_token: params.input_cost_per_token.unwrap_or(0.0),
            output_cost_per_token: params.output_cost_per_token.unwrap_or(0.0),
        })
    }

    /// The parsed endpoint; a deployment without one only answers `mock_response`.
    pub(crate) fn endpoint(&self) -> Result<reqwest::Url, crate::LlmError> {
        self.endpoint.clone().ok_or_else(|| {
            crate::LlmError::Unavailable(format!(
                "deployment {} has no api_base",
                self.upstream_label()
            ))
        })
    }

    /// Whether `/v1/responses` requests for this deployment go to the upstream's own Responses
    /// API (`litellm_params.use_responses_api`; by default only OpenAI itself).
    pub fn responses_native(&self) -> bool {
        self.responses_endpoint.is_some()
    }

    /// `provider/model`, for logs and metrics.
    pub fn upstream_label(&self) -> String {
        format!("{}/{}", self.provider, self.upstream_model)
    }

    /// Whether spend is charged for this deployment at all.
    pub fn has_prices(&self) -> bool {
        self.input_cost_per_token > 0.0 || self.output_cost_per_token > 0.0
    }

    pub fn cost(&self, usage: Usage) -> f64 {
        usage.prompt_tokens as f64 * self.input_cost_per_token
            + usage.completion_tokens as f64 * self.output_cost_per_token
    }
}

/// Whether the deployment has a native Responses API: `use_responses_api` when set, else only
/// provider `openai` on api.openai.com, since most OpenAI-compatible servers lack the API.
/// Anthropic and `mock_response` deployments never have one; asking for it there is a config
/// error rather than a silent no, so the mistake is seen at startup.
fn responses_native(
    kind: ProviderKind,
    params: &LitellmParams,
    api_base: &str,
    path: &dyn Fn(&str) -> String,
) -> Result<bool, DeploymentError> {
    let cannot = match (kind, &params.mock_response) {
        (ProviderKind::Anthropic, _) => Some("Anthropic has no Responses API"),
        (_, Some(_)) => Some("a mock_response deployment calls no upstream"),
        (ProviderKind::OpenAi, None) => None,
    };
    match (params.use_responses_api, cannot) {
        (Some(true), Some(why)) => Err(DeploymentError {
            path: path("use_responses_api"),
            message: format!(
                "cannot be true here: {why}; /v1/responses requests are translated to chat instead"
            ),
        }),
        (_, Some(_)) => Ok(false),
        (Some(native), None) => Ok(native),
        (None, None) => Ok(params.model.provider == "openai" && is_openai_host(api_base)),
    }
}

/// Whether `api_base` is OpenAI's own API host.
fn is_openai_host(api_base: &str) -> bool {
    reqwest::Url::parse(api_base)
        .ok()
        .is_some_and(|url| url.host_str() == Some("api.openai.com"))
}

/// Anthropic's `api_base` may be given as the host, as `…/v1`, or as the full `…/v1/messages`.
fn messages_url(api_base: &str) -> String {
    if api_base.ends_with("/v1/messages") {
        api_base.to_owned()
    } else if api_base.ends_with("/v1") {
        format!("{api_base}/messages")
    } else {
        format!("{api_base}/v1/messages")
    }
}

#[cfg(test)]
mod tests {
    use super::{is_openai_host, messages_url};

    #[test]
    fn only_openai_itself_is_recognised_by_host() {
        assert!(is_openai_host("https://api.openai.com/v1"));
        assert!(is_openai_host("https://api.openai.com:443/v1"));
        assert!(!is_openai_host("https://api.openai.com.evil.example/v1"));
        assert!(!is_openai_host("http://127.0.0.1:8000/v1"));
        assert!(!is_openai_host("not a url"));
    }

    #[test]
    fn messages_url_accepts_the_three_spellings_of_api_base() {
        for base in [
            "https://api.anthropic.com",
            "https://api.anthropic.com/v1",
            "https://api.anthropic.com/v1/messages",
        ] {
            assert_eq!(messages_url(base), "https://api.anthropic.com/v1/messages");
        }
    }
}
