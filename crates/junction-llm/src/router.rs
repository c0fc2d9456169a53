//! Model names to deployments: round-robin across the deployments of a model, failover to the
//! next one when an upstream is unreachable or answers 5xx.
//!
//! Failover happens only before the first byte reaches the client; once a stream has started,
//! its upstream is committed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use junction_config::Config;

use crate::deployment::{Deployment, DeploymentError, ProviderKind};
use crate::providers::{self, CallError};
use crate::{ChatRequest, Completion, LlmError};

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
        let group = self
            .groups
            .get(&req.model)
            .ok_or_else(|| LlmError::UnknownModel(req.model.clone()))?;
        let count = group.deployments.len();
        let start = group.next.fetch_add(1, Ordering::Relaxed) % count;
        if let Some(text) = req.mock_response() {
            let deployment = group.deployments[start].clone();
            let reply = providers::mock::reply(req, &text)?;
            return Ok(Completion { reply, deployment });
        }
        let client = crate::http_client::current()?;
        let mut last_error = None;
        for offset in 0..count {
            let deployment = &group.deployments[(start + offset) % count];
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
                Err(CallError::Failover { reason, error }) => {
                    self.report(deployment, reason);
                    tracing::warn!(model = %req.model, upstream = %deployment.upstream_label(), %error, "deployment failed, trying the next one");
                    last_error = Some(error);
                }
                Err(CallError::Final { reason, error }) => {
                    self.report(deployment, reason);
                    return Err(error);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| LlmError::UnknownModel(req.model.clone())))
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
