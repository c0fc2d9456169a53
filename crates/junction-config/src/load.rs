//! From YAML text to a [`Config`]: syntax, `os.environ/` resolution, typed parsing with paths.
//!
//! The pipeline goes through `serde_json::Value` on purpose: environment references are resolved
//! on the generic tree, and the typed pass then runs with two wrappers, `serde_path_to_error` for
//! the path of a failure and `serde_ignored` for the path of every unknown key.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::env;
use crate::model::{Config, McpServerConfig};

/// A config that stops start-up. Its `Display` is the message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config is not valid YAML: {0}")]
    Syntax(String),
    /// A wrong type, a missing field or a value that fails validation, at a YAML path.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Something the operator should know but that does not stop start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A parsed config and what the parser had to say about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Warning>,
}

/// Reads and parses a config file, resolving `os.environ/` from the process environment.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, &|name| std::env::var(name).ok())
}

/// Parses config text; `lookup` answers `os.environ/NAME` references.
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, ConfigError> {
    let mut tree: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_saphyr::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?
    };
    if tree.is_null() {
        tree = Value::Object(Default::default());
    }
    if !tree.is_object() {
        return Err(ConfigError::Invalid {
            path: "(root)".into(),
            message: "expected a mapping of sections (model_list, general_settings, …)".into(),
        });
    }

    let mut warnings = Vec::new();
    // `environment_variables` from the file extend the process environment for references,
    // as LiteLLM exports them before reading the rest.
    let file_env: Vec<(String, String)> = tree
        .get("environment_variables")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let lookup_with_file = |name: &str| {
        lookup(name).or_else(|| {
            file_env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    };
    env::resolve(&mut tree, &lookup_with_file, &mut |path, name| {
        warnings.push(Warning(format!(
            "{path}: environment variable {name} is not set; the value is treated as absent"
        )));
    });

    let mut unknown = Vec::new();
    let config: Config = {
        let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let ignored = serde_ignored::Deserializer::new(tree, &mut on_unknown);
        serde_path_to_error::deserialize(ignored).map_err(|err| ConfigError::Invalid {
            path: display_path(&err.path().to_string()),
            message: err.into_inner().to_string(),
        })?
    };
    for path in unknown {
        warnings.push(Warning(format!("{path}: unknown key, ignored")));
    }
    validate(&config)?;
    warn_unsupported(&config, &mut warnings);
    Ok(Loaded { config, warnings })
}

/// `serde_path_to_error` prints the root as `.`; an operator reads "(root)" more easily.
fn display_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "(root)".to_owned()
    } else {
        path.to_owned()
    }
}

/// Checks that serde cannot express: values that parse but make no sense.
fn validate(config: &Config) -> Result<(), ConfigError> {
    for (i, entry) in config.model_list.iter().enumerate() {
        if entry.model_name.trim().is_empty() {
            return Err(ConfigError::Invalid {
                path: format!("model_list[{i}].model_name"),
                message: "must not be empty".into(),
            });
        }
        let params = &entry.litellm_params;
        for (field, value) in [
            ("timeout", params.timeout),
            ("stream_timeout", params.stream_timeout),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(ConfigError::Invalid {
                    path: format!("model_list[{i}].litellm_params.{field}"),
                    message: format!("expected a positive number of seconds, found {v}"),
                });
            }
        }
        if let Some(base) = &params.api_base
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                path: format!("model_list[{i}].litellm_params.api_base"),
                message: format!("expected an http:// or https:// URL, found {base:?}"),
            });
        }
    }
    if let Some(mb) = config.general_settings.max_request_size_mb
        && !(mb.is_finite() && mb > 0.0)
    {
        return Err(ConfigError::Invalid {
            path: "general_settings.max_request_size_mb".into(),
            message: format!("expected a positive number, found {mb}"),
        });
    }
    for (name, server) in &config.mcp_servers {
        validate_mcp_server(name, server)?;
    }
    Ok(())
}

fn validate_mcp_server(name: &str, server: &McpServerConfig) -> Result<(), ConfigError> {
    if server.url.is_none() && server.command.is_none() && server.spec_path.is_none() {
        return Err(ConfigError::Invalid {
            path: format!("mcp_servers.{name}"),
            message: "needs `url`, `command` (stdio) or `spec_path` (OpenAPI)".into(),
        });
    }
    if let Some(transport) = &server.transport
        && !matches!(transport.as_str(), "http" | "sse" | "stdio")
    {
        return Err(ConfigError::Invalid {
            path: format!("mcp_servers.{name}.transport"),
            message: format!("expected one of http, sse, stdio, found {transport:?}"),
        });
    }
    Ok(())
}

/// Keys LiteLLM knows that Junction accepts without acting on them yet: one warning each, so a
/// migrated config does not silently behave differently.
fn warn_unsupported(config: &Config, warnings: &mut Vec<Warning>) {
    let sections = [
        ("general_settings", &config.general_settings.rest),
        ("litellm_settings", &config.litellm_settings.rest),
        ("router_settings", &config.router_settings),
    ];
    for (section, rest) in sections {
        for key in rest.keys() {
            warnings.push(Warning(format!(
                "{section}.{key}: not supported by Junction yet, ignored"
            )));
        }
    }
}

/// Lets callers parse a standalone section with the same path-reporting rules (used in tests).
#[cfg(test)]
fn parse_ok(text: &str) -> Loaded {
    match parse(text, &|_| None) {
        Ok(loaded) => loaded,
        Err(e) => panic!("config should parse: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        match parse(text, &|_| None) {
            Ok(_) => panic!("config should fail"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_litellm_config_parses_with_deployments_and_passthrough_params() {
        let loaded = parse(
            r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      temperature: 0.2
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", timeout: 5 }
  - model_name: llama
    litellm_params: { model: hosted_vllm/meta-llama/Llama-3-8b, api_base: "http://x/v1", use_responses_api: true }
general_settings:
  master_key: sk-1234
"#,
            &|n| (n == "OPENAI_API_KEY").then(|| "sk-real".to_owned()),
        )
        .map_err(|e| e.to_string());
        let loaded = match loaded {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let c = &loaded.config;
        assert_eq!(c.model_list.len(), 3);
        assert_eq!(
            c.model_list[0].litellm_params.api_key.as_deref(),
            Some("sk-real")
        );
        assert_eq!(
            c.model_list[0].litellm_params.extra.get("temperature"),
            Some(&serde_json::json!(0.2))
        );
        assert_eq!(c.model_list[1].litellm_params.timeout, Some(5.0));
        assert_eq!(c.model_list[2].litellm_params.model.provider, "hosted_vllm");
        assert_eq!(
            c.model_list[2].litellm_params.model.model,
            "meta-llama/Llama-3-8b"
        );
        assert_eq!(c.model_list[2].litellm_params.use_responses_api, Some(true));
        assert_eq!(c.model_list[0].litellm_params.use_responses_api, None);
        // A key Junction interprets is not an upstream default.
        assert!(
            !c.model_list[2]
                .litellm_params
                .extra
                .contains_key("use_responses_api")
        );
        assert_eq!(c.general_settings.master_key.as_deref(), Some("sk-1234"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn a_model_without_provider_names_the_yaml_path() {
        let err = error_of(
            "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n  - model_name: b\n    litellm_params: {model: gpt4o}\n",
        );
        assert!(
            err.starts_with("model_list[1].litellm_params.model: expected \"provider/model\""),
            "{err}"
        );
    }

    #[test]
    fn a_missing_required_field_names_its_parent_path() {
        let err = error_of("model_list:\n  - model_name: a\n    litellm_params: {api_key: x}\n");
        assert!(err.starts_with("model_list[0].litellm_params: "), "{err}");
        assert!(err.contains("missing field `model`"), "{err}");
    }

    #[test]
    fn a_wrong_type_names_the_yaml_path() {
        let err = error_of("general_settings:\n  master_key: [1, 2]\n");
        assert!(err.starts_with("general_settings.master_key: "), "{err}");
        let err = error_of("model_list: {a: 1}\n");
        assert!(err.starts_with("model_list: "), "{err}");
        let err = error_of(
            "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, timeout: -1}\n",
        );
        assert!(
            err.starts_with("model_list[0].litellm_params.timeout: "),
            "{err}"
        );
    }

    #[test]
    fn unknown_and_unsupported_keys_warn_once_each() {
        let loaded = parse_ok(
            "frobnicate: 1\ngeneral_settings:\n  master_key: k\n  alerting: [slack]\nlitellm_settings:\n  drop_params: true\nrouter_settings:\n  routing_strategy: simple-shuffle\nmcp_servers:\n  s:\n    url: http://x/mcp\n    dcr_bridge: true\n",
        );
        let w: Vec<String> = loaded.warnings.iter().map(|w| w.0.clone()).collect();
        for expected in [
            "frobnicate: unknown key",
            "general_settings.alerting: not supported",
            "litellm_settings.drop_params: not supported",
            "router_settings.routing_strategy: not supported",
            "mcp_servers.s.dcr_bridge: unknown key",
        ] {
            assert_eq!(
                w.iter().filter(|x| x.starts_with(expected)).count(),
                1,
                "{expected} in {w:?}"
            );
        }
    }

    #[test]
    fn unset_environment_variables_warn_and_become_absent() {
        let loaded = parse_ok(
            "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: os.environ/NOPE}\n",
        );
        assert_eq!(loaded.config.model_list[0].litellm_params.api_key, None);
        assert!(
            loaded.warnings[0]
                .0
                .starts_with("model_list[0].litellm_params.api_key: environment variable NOPE")
        );
    }

    #[test]
    fn environment_variables_section_feeds_references() {
        let loaded = parse_ok(
            "environment_variables: {K: from-file}\ngeneral_settings: {master_key: os.environ/K}\n",
        );
        assert_eq!(
            loaded.config.general_settings.master_key.as_deref(),
            Some("from-file")
        );
    }

    #[test]
    fn empty_and_non_mapping_files() {
        assert!(parse_ok("").config.model_list.is_empty());
        assert!(error_of("- a\n- b\n").starts_with("(root): "));
        assert!(error_of("model_list: [\n").starts_with("config is not valid YAML"));
    }

    #[test]
    fn mcp_servers_are_kept_and_checked() {
        let loaded = parse_ok(
            "mcp_servers:\n  time:\n    command: uvx\n    args: [mcp-server-time]\n  wiki:\n    url: https://mcp.deepwiki.com/mcp\n    transport: http\n    allowed_params: {read: [status]}\n",
        );
        assert_eq!(loaded.config.mcp_servers.len(), 2);
        assert_eq!(
            loaded.config.mcp_servers["time"].args,
            vec!["mcp-server-time"]
        );
        let err = error_of("mcp_servers:\n  x:\n    url: http://a\n    transport: ws\n");
        assert!(err.starts_with("mcp_servers.x.transport: "), "{err}");
    }
}
