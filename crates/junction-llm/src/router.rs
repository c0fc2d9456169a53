//! Model names to deployments: round-robin across the deployments of a model, failover to the
//! next one when an upstream is unreachable or answers 5xx.
//!
//! Failover happens only before the first byte reaches the client; once a stream has started,
//! its upstream is committed.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use junction_config::Config;

use crate::deployment::{Deployment, DeploymentError, ProviderKind};
use crate::providers::{self, CallError};
use crate::{ChatRequest, Completion, LlmError, ResponsesCompletion};

/// A failed attempt against one deployment, reported to the observer (metrics) even when a
/// later deployment answered.
#[derive(Debug, Clone)]
pub struct UpstreamFailure {
    pub model: String,
    pub upstream: String,
    /// `connect`, `transport`, `timeout`, `status_5xx`, `status_4xx`, `invalid_body`, …
    pub reason: &'static str,
}

type Observer = Arc<dyn Fn(&UpstreamFailure) + Send + Sync>;

struct ModelGroup {
    deployments: Vec<Arc<Deployment>>,
    next: AtomicUsize,
}

impl ModelGroup {
    /// Every deployment once, starting at `start`.
    fn rotation(&self, start: usize) -> impl Iterator<Item = &Arc<Deployment>> {
        let count = self.deployments.len();
        (0..count).map(move |offset| &self.deployments[(start + offset) % count])
    }
}

/// Every model of the gateway. Cheap to share behind an `Arc`.
pub struct Router {
    groups: HashMap<String, ModelGroup>,
    /// Model names in config order, for `/v1/models`.
    names: Vec<String>,
    observer: Option<Observer>,
}

impl Router {
    /// Builds the deployments of `config.model_list`. Fails on a provider Junction cannot serve,
    /// naming the YAML path.
    pub fn from_config(config: &Config) -> Result<Router, DeploymentError> {
        let mut groups: HashMap<String, ModelGroup> = HashMap::new();
        let mut names = Vec::new();
        for (i, entry) in config.model_list.iter().enumerate() {
            let deployment =
                Deployment::from_entry(i, entry, config.litellm_settings.request_timeout)?;
            let group = groups.entry(entry.model_name.clone()).or_insert_with(|| {
                names.push(entry.model_name.clone());
                ModelGroup {
                    deployments: Vec::new(),
                    next: AtomicUsize::new(0),
                }
            });
            group.deployments.push(Arc::new(deployment));
        }
        for name in &names {
            let Some(group) = groups.get(name) else {
                continue;
            };
            let native = group.deployments.iter().filter(|d| d.responses_native());
            if (1..group.deployments.len()).contains(&native.count()) {
                tracing::warn!(
                    model = %name,
                    "the deployments of this model disagree on use_responses_api: /v1/responses follows the first one, and only native deployments serve it natively"
                );
            }
        }
        Ok(Router {
            groups,
            names,
            observer: None,
        })
    }

    /// Calls `observer` for every failed upstream attempt.
    pub fn with_observer(
        mut self,
        observer: impl Fn(&UpstreamFailure) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Public model names, in config order.
    pub fn model_names(&self) -> &[String] {
        &self.names
    }

    pub fn has_model(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    /// The provider kinds serving `name` (for diagnostics and `check`).
    pub fn deployments_of(&self, name: &str) -> Vec<(String, ProviderKind)> {
        self.groups
            .get(name)
            .map(|g| {
                g.deployments
                    .iter()
                    .map(|d| (d.upstream_label(), d.kind))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends `req` to a deployment of its model.
    pub async fn chat(&self, req: &ChatRequest) -> Result<Completion, LlmError> {
        let (group, start) = self.pick(&req.model)?;
        if let Some(text) = req.mock_response() {
            let deployment = group.deployments[start].clone();
            let reply = providers::mock::reply(req, &text)?;
            return Ok(Completion { reply, deployment });
        }
        let client = crate::http_client::current()?;
        let mut last_error = None;
        // A plain loop rather than a generic helper taking an async closure: the futures of
        // such closures lose their `Send` proof, and callers spawn these calls.
        for deployment in group.rotation(start) {
            let attempt = match (&deployment.mock_response, deployment.kind) {
                (Some(text), _) => {
                    providers::mock::reply(req, text).map_err(|error| CallError::Final {
                        reason: "mock",
                        error,
                    })
                }
                (None, ProviderKind::OpenAi) => {
                    providers::openai::chat(&client, deployment, req).await
                }
                (None, ProviderKind::Anthropic) => {
                    providers::anthropic::chat(&client, deployment, req).await
                }
            };
            match attempt {
                Ok(reply) => {
                    return Ok(Completion {
                        reply,
                        deployment: deployment.clone(),
                    });
                }
                Err(failure) => match self.failed(&req.model, deployment, failure) {
                    ControlFlow::Continue(error) => last_error = Some(error),
                    ControlFlow::Break(error) => return Err(error),
                },
            }
        }
        Err(last_error.unwrap_or_else(|| LlmError::UnknownModel(req.model.clone())))
    }

    /// Whether `/v1/responses` requests for the public model `model` are sent to the upstream's
    /// own Responses API (true when its first deployment is native; false for unknown models).
    pub fn responses_native(&self, model: &str) -> bool {
        self.groups
            .get(model)
            .and_then(|g| g.deployments.first())
            .is_some_and(|d| d.responses_native())
    }

    /// POSTs a Responses API request body to a deployment of the public model `model`: `model`
    /// in `body` is replaced by the deployment's upstream model, `stream` is set to `stream`,
    /// deployment defaults are added where absent (Chat Completions defaults converted to the
    /// Responses API where it has them), auth as for chat. Same round-robin, failover and
    /// timeout rules as [`chat`](Self::chat); deployments of the model that are not native are
    /// skipped, and a model without any native deployment is an error (400), never a panic.
    pub async fn responses(
        &self,
        model: &str,
        body: &serde_json::Map<String, serde_json::Value>,
        stream: bool,
    ) -> Result<ResponsesCompletion, LlmError> {
        let (group, start) = self.pick(model)?;
        if !group.deployments.iter().any(|d| d.responses_native()) {
            return Err(LlmError::InvalidRequest(format!(
                "model '{model}' has no deployment with a native Responses API \
                 (litellm_params.use_responses_api)"
            )));
        }
        let client = crate::http_client::current()?;
        let mut last_error = None;
        for deployment in group.rotation(start).filter(|d| d.responses_native()) {
            match providers::responses::call(&client, deployment, body, stream).await {
                Ok(reply) => {
                    return Ok(ResponsesCompletion {
                        reply,
                        deployment: deployment.clone(),
                    });
                }
                Err(failure) => match self.failed(model, deployment, failure) {
                    ControlFlow::Continue(error) => last_error = Some(error),
                    ControlFlow::Break(error) => return Err(error),
                },
            }
        }
        Err(last_error.unwrap_or_else(|| LlmError::UnknownModel(model.to_owned())))
    }

    /// The group serving `model` and the deployment to start with (round-robin).
    fn pick(&self, model: &str) -> Result<(&ModelGroup, usize), LlmError> {
        let group = self
            .groups
            .get(model)
            .ok_or_else(|| LlmError::UnknownModel(model.to_owned()))?;
        let start = group.next.fetch_add(1, Ordering::Relaxed) % group.deployments.len();
        Ok((group, start))
    }

    /// Reports a failed attempt; `Continue` with the error when the next deployment should be
    /// tried, `Break` when it goes to the client.
    fn failed(
        &self,
        model: &str,
        deployment: &Deployment,
        failure: CallError,
    ) -> ControlFlow<LlmError, LlmError> {
        match failure {
            CallError::Failover { reason, error } => {
                self.report(deployment, reason);
                tracing::warn!(model = %model, upstream = %deployment.upstream_label(), %error, "deployment failed, trying the next one");
                ControlFlow::Continue(error)
            }
            CallError::Final { reason, error } => {
                self.report(deployment, reason);
                ControlFlow::Break(error)
            }
        }
    }

    fn report(&self, deployment: &Deployment, reason: &'static str) {
        if let Some(observer) = &self.observer {
            observer(&UpstreamFailure {
                model: deployment.model_name.clone(),
                upstream: deployment.upstream_label(),
                reason,
            });
        }
    }
}
