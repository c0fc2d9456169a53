//! One `mcp_servers` entry of `config.yaml` → how to reach that server ([`ClientConfig`]).
//!
//! This is where LiteLLM's loose keys get checked, once, at boot: a config that cannot work
//! (a stdio server without a `command`, an `auth_type` nobody knows, a negative `timeout`)
//! stops the gateway with an error naming the YAML path, like every other config error,
//! instead of surfacing later as a server that is mysteriously unhealthy.
//!
//! An OpenAPI entry (`spec_path`) is checked deeper: its spec is loaded and read here, so a
//! spec that cannot be served stops the gateway at boot, naming the server and the problem.
//! It becomes an MCP server inside the process (`junction-openapi`).
//!
//! Some entries are valid LiteLLM but need features Junction does not have yet (AWS SigV4
//! and the token-exchange auth types). Refusing them would stop configs that run under
//! LiteLLM from starting at all, so they become [`Upstream::Unsupported`]: the server is
//! listed, permanently unhealthy, with the reason as its error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use junction_config::McpServerConfig;
use junction_mcp::{Auth, ClientConfig, OAuth2ClientCredentials, TransportConfig};
use junction_openapi::{OpenApiOptions, OpenApiServer};
use serde_json::Value;

/// A config entry that cannot work, with the YAML path of the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct UpstreamConfigError {
    /// `mcp_servers.<name>.<key>`.
    pub path: String,
    pub message: String,
}

/// What an `mcp_servers` entry turns into.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// An MCP server to connect to (boxed: a config is large, a reason is small).
    Mcp(Box<ClientConfig>),
    /// Valid for LiteLLM, not served by Junction yet; the text says why.
    Unsupported(String),
}

/// LiteLLM `auth_type`s that need more than a static header; they come with later work.
const LATER_AUTH_TYPES: &[&str] = &[
    "aws_sigv4",
    "oauth2_token_exchange",
    "oauth2_id_jag",
    "true_passthrough",
    "oauth_delegate",
];

/// Checks one entry and builds its client configuration. An OpenAPI entry (`spec_path`) has
/// its spec loaded here, and a spec that cannot be read or used is an error of the entry.
pub async fn upstream(
    name: &str,
    server: &McpServerConfig,
) -> Result<Upstream, UpstreamConfigError> {
    match server
        .spec_path
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(spec_path) => openapi_upstream(name, server, spec_path).await,
        None => mcp_upstream(name, server),
    }
}

fn config_error(name: &str, key: &str, message: String) -> UpstreamConfigError {
    UpstreamConfigError {
        path: format!("mcp_servers.{name}.{key}"),
        message,
    }
}

/// An OpenAPI spec served as an MCP server in this process. Its own HTTP requests carry the
/// credentials (`junction-openapi`'s mapping), so the entry's auth goes to the session.
async fn openapi_upstream(
    name: &str,
    server: &McpServerConfig,
    spec_path: &str,
) -> Result<Upstream, UpstreamConfigError> {
    let auth = match auth(name, server)? {
        Ok(Auth::OAuth2(_)) => {
            return Ok(Upstream::Unsupported(
                "auth_type oauth2 with client credentials is not supported for OpenAPI (spec_path) servers yet".into(),
            ));
        }
        Ok(auth) => auth,
        Err(reason) => return Ok(Upstream::Unsupported(reason)),
    };
    let timeout = timeout(name, server)?.unwrap_or(junction_mcp::DEFAULT_CALL_TIMEOUT);
    let options = OpenApiOptions {
        base_url: server.url.clone(),
        timeout,
        ..OpenApiOptions::default()
    };
    let api = OpenApiServer::load(name, spec_path, options)
        .await
        .map_err(|e| config_error(name, "spec_path", format!("{spec_path}: {e}")))?;
    let mut config = ClientConfig::new(name, TransportConfig::Local(Arc::new(api))).with_auth(auth);
    config.headers = server.static_headers.clone();
    // The API request's own timeout answers first, as a tool error the model can read.
    Ok(Upstream::Mcp(Box::new(
        config.with_call_timeout(timeout + OPENAPI_TIMEOUT_MARGIN),
    )))
}

/// How much longer the MCP call may take than the API request it makes.
const OPENAPI_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// An MCP server: over HTTP, SSE or stdio.
fn mcp_upstream(name: &str, server: &McpServerConfig) -> Result<Upstream, UpstreamConfigError> {
    let err = |key: &str, message: String| config_error(name, key, message);
    let transport_name = server
        .transport
        .as_deref()
        .map(|t| t.trim().to_ascii_lowercase());
    if let Some(t) = transport_name.as_deref()
        && !matches!(t, "http" | "sse" | "stdio")
    {
        return Err(err(
            "transport",
            format!("unknown transport {t:?}; expected http, sse or stdio"),
        ));
    }
    let url = server
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let command = server
        .command
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());

    // LiteLLM reads `transport` first and defaults it to `http`, so a `url` wins over a
    // `command` unless the entry says `stdio`; an entry with only a `command` is stdio.
    let stdio = match transport_name.as_deref() {
        Some("stdio") => true,
        Some(_) => false,
        None => url.is_none() && command.is_some(),
    };
    let transport = if stdio {
        let Some(command) = command else {
            return Err(err(
                "command",
                "required for a stdio server (transport: stdio)".into(),
            ));
        };
        TransportConfig::Stdio {
            command: command.to_owned(),
            args: server.args.clone(),
            env: server.env.clone(),
            cwd: None,
        }
    } else {
        let Some(url) = url else {
            let message = match transport_name.as_deref() {
                Some(t) => format!("required for transport {t}"),
                None => "every MCP server needs a url (http, sse) or a command (stdio)".into(),
            };
            return Err(err("url", message));
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(err(
                "url",
                format!("{url:?} is not an http:// or https:// URL"),
            ));
        }
        if command.is_some() {
            tracing::warn!(
                server = name,
                "mcp_servers.{name}: both url and command are set; using the url (set transport: stdio to run the command)"
            );
        }
        let url = url.to_owned();
        match transport_name.as_deref() {
            Some("sse") => TransportConfig::Sse { url },
            _ => TransportConfig::StreamableHttp { url },
        }
    };

    let auth = match auth(name, server)? {
        Ok(auth) => auth,
        Err(reason) => return Ok(Upstream::Unsupported(reason)),
    };

    let mut config = ClientConfig::new(name, transport).with_auth(auth);
    config.headers = server.static_headers.clone();
    if let Some(timeout) = timeout(name, server)? {
        config = config.with_call_timeout(timeout);
    }
    Ok(Upstream::Mcp(Box::new(config)))
}

/// The entry's `timeout`, checked.
fn timeout(name: &str, server: &McpServerConfig) -> Result<Option<Duration>, UpstreamConfigError> {
    match server.timeout {
        None => Ok(None),
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Ok(Some(Duration::from_secs_f64(seconds)))
        }
        Some(seconds) => Err(config_error(
            name,
            "timeout",
            format!("must be a positive number of seconds, found {seconds}"),
        )),
    }
}

/// The entry's credentials; the inner error is an `auth_type` Junction does not serve yet.
fn auth(name: &str, server: &McpServerConfig) -> Result<Result<Auth, String>, UpstreamConfigError> {
    let err = |key: &str, message: String| config_error(name, key, message);
    let auth_type = server
        .auth_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let auth = match auth_type {
        None | Some("none") => Auth::None,
        Some("oauth2") => match oauth2_client_credentials(server) {
            Some(credentials) => Auth::OAuth2(credentials),
            // Each caller brings its token (`client_headers.rs`).
            None => Auth::None,
        },
        Some(t) if LATER_AUTH_TYPES.contains(&t) => {
            return Ok(Err(format!("auth_type {t} is not supported yet")));
        }
        Some(t) => match auth_value(server.auth_value.as_ref()) {
            Err(message) => return Err(err("auth_value", message)),
            // A dict is sent as headers verbatim, as LiteLLM does.
            Ok(AuthValue::Headers(headers)) => Auth::Headers(headers),
            Ok(AuthValue::Text(value)) => match Auth::from_litellm(t, &value) {
                Some(auth) => auth,
                None => {
                    return Err(err(
                        "auth_type",
                        format!(
                            "unknown auth_type {t:?}; expected none, api_key, bearer_token, basic, authorization or token"
                        ),
                    ));
                }
            },
            Ok(AuthValue::Missing) => {
                if Auth::from_litellm(t, "").is_none() {
                    return Err(err(
                        "auth_type",
                        format!(
                            "unknown auth_type {t:?}; expected none, api_key, bearer_token, basic, authorization or token"
                        ),
                    ));
                }
                // LiteLLM then expects the credential from each caller's headers, which
                // comes with per-request headers; until then the server is reached without.
                tracing::warn!(
                    server = name,
                    "mcp_servers.{name}: auth_type {t} without auth_value; connecting without credentials"
                );
                Auth::None
            }
        },
    };

    Ok(Ok(auth))
}

/// The machine-to-machine OAuth2 grant of an `auth_type: oauth2` entry, when it has one:
/// `client_id`, `client_secret` and `token_url` all set, and `oauth2_flow` not
/// `authorization_code`.
pub(crate) fn oauth2_client_credentials(
    server: &McpServerConfig,
) -> Option<OAuth2ClientCredentials> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if server.oauth2_flow.as_deref().map(str::trim) == Some("authorization_code") {
        return None;
    }
    Some(OAuth2ClientCredentials {
        token_url: given(&server.token_url)?,
        client_id: given(&server.client_id)?,
        client_secret: given(&server.client_secret)?,
        scopes: server.scopes.clone(),
    })
}

/// Every entry, in name order (OpenAPI specs loaded concurrently); the first bad one is the
/// error.
pub async fn upstreams(
    servers: &BTreeMap<String, McpServerConfig>,
) -> Result<BTreeMap<String, Upstream>, UpstreamConfigError> {
    let built = futures_util::future::join_all(
        servers
            .iter()
            .map(|(name, server)| async move { (name.clone(), upstream(name, server).await) }),
    )
    .await;
    built
        .into_iter()
        .map(|(name, upstream)| Ok((name, upstream?)))
        .collect()
}

enum AuthValue {
    Missing,
    Text(String),
    Headers(BTreeMap<String, String>),
}

/// `auth_value` is a string for LiteLLM; YAML may make a number of a numeric token, and a
/// mapping means headers.
fn auth_value(value: Option<&Value>) -> Result<AuthValue, String> {
    Ok(match value {
        None | Some(Value::Null) => AuthValue::Missing,
        Some(Value::String(s)) if s.is_empty() => AuthValue::Missing,
        Some(Value::String(s)) => AuthValue::Text(s.clone()),
        Some(Value::Number(n)) => AuthValue::Text(n.to_string()),
        Some(Value::Object(map)) => {
            let mut headers = BTreeMap::new();
            for (name, value) in map {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("header {name} must have a string value")),
                };
                headers.insert(name.clone(), value);
            }
            AuthValue::Headers(headers)
        }
        Some(other) => {
            return Err(format!(
                "expected a string (or a mapping of headers), found {other}"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(yaml_like: impl FnOnce(&mut McpServerConfig)) -> McpServerConfig {
        let mut s = McpServerConfig::default();
        yaml_like(&mut s);
        s
    }

    fn mcp(result: Result<Upstream, UpstreamConfigError>) -> ClientConfig {
        match result {
            Ok(Upstream::Mcp(config)) => *config,
            other => panic!("expected an MCP upstream, got {other:?}"),
        }
    }

    fn error(result: Result<Upstream, UpstreamConfigError>) -> String {
        match result {
            Err(e) => e.to_string(),
            Ok(other) => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn transports_follow_litellm_defaults() {
        let http = mcp(mcp_upstream(
            "a",
            &server(|s| s.url = Some("http://h/mcp".into())),
        ));
        assert!(
            matches!(http.transport, TransportConfig::StreamableHttp { ref url } if url == "http://h/mcp")
        );
        let sse = mcp(mcp_upstream(
            "a",
            &server(|s| {
                s.url = Some("https://h/sse".into());
                s.transport = Some("sse".into());
            }),
        ));
        assert!(matches!(sse.transport, TransportConfig::Sse { .. }));
        let stdio = mcp(mcp_upstream(
            "a",
            &server(|s| {
                s.command = Some("npx".into());
                s.args = vec!["x".into()];
            }),
        ));
        assert!(
            matches!(stdio.transport, TransportConfig::Stdio { ref command, ref args, .. } if command == "npx" && args == &["x"])
        );
        let explicit = mcp(mcp_upstream(
            "a",
            &server(|s| {
                s.command = Some("uvx".into());
                s.url = Some("http://ignored".into());
                s.transport = Some("stdio".into());
            }),
        ));
        assert!(matches!(explicit.transport, TransportConfig::Stdio { .. }));
    }

    #[test]
    fn errors_name_the_yaml_path() {
        assert_eq!(
            error(mcp_upstream(
                "gh",
                &server(|s| s.transport = Some("stdio".into()))
            )),
            "mcp_servers.gh.command: required for a stdio server (transport: stdio)"
        );
        assert_eq!(
            error(mcp_upstream("gh", &server(|_| {}))),
            "mcp_servers.gh.url: every MCP server needs a url (http, sse) or a command (stdio)"
        );
        assert!(
            error(mcp_upstream(
                "gh",
                &server(|s| {
                    s.url = Some("http://h".into());
                    s.transport = Some("websocket".into());
                })
            ))
            .starts_with("mcp_servers.gh.transport: unknown transport")
        );
        assert!(
            error(mcp_upstream(
                "gh",
                &server(|s| {
                    s.url = Some("http://h".into());
                    s.auth_type = Some("magic".into());
                    s.auth_value = Some(Value::String("x".into()));
                })
            ))
            .starts_with("mcp_servers.gh.auth_type: unknown auth_type \"magic\"")
        );
        assert!(
            error(mcp_upstream(
                "gh",
                &server(|s| {
                    s.url = Some("http://h".into());
                    s.timeout = Some(-1.0);
                })
            ))
            .starts_with("mcp_servers.gh.timeout:")
        );
        assert!(
            error(mcp_upstream(
                "gh",
                &server(|s| s.url = Some("ftp://h".into()))
            ))
            .starts_with("mcp_servers.gh.url:")
        );
    }

    #[test]
    fn auth_headers_and_timeout_are_carried() {
        let config = mcp(mcp_upstream(
            "a",
            &server(|s| {
                s.url = Some("http://h".into());
                s.auth_type = Some("bearer_token".into());
                s.auth_value = Some(Value::String("tok".into()));
                s.static_headers.insert("X-Team".into(), "blue".into());
                s.timeout = Some(2.5);
            }),
        ));
        assert!(matches!(config.auth, Auth::BearerToken(ref t) if t == "tok"));
        assert_eq!(
            config.headers.get("X-Team").map(String::as_str),
            Some("blue")
        );
        assert_eq!(config.call_timeout, Duration::from_millis(2500));
        assert_eq!(config.name, "a");
    }

    #[tokio::test]
    async fn an_unreadable_spec_is_an_error_of_the_entry() {
        let message = error(
            upstream(
                "petstore",
                &server(|s| s.spec_path = Some("/nonexistent/junction-spec.json".into())),
            )
            .await,
        );
        assert!(
            message.starts_with(
                "mcp_servers.petstore.spec_path: /nonexistent/junction-spec.json: cannot read"
            ),
            "{message}"
        );
    }

    #[test]
    fn later_features_are_unsupported_not_fatal() {
        assert!(matches!(
            mcp_upstream(
                "o",
                &server(|s| {
                    s.url = Some("http://h".into());
                    s.auth_type = Some("aws_sigv4".into());
                })
            ),
            Ok(Upstream::Unsupported(_))
        ));
    }

    #[test]
    fn oauth2_with_client_credentials_gets_its_own_token_else_callers_bring_theirs() {
        let m2m = mcp(mcp_upstream(
            "o",
            &server(|s| {
                s.url = Some("http://h".into());
                s.auth_type = Some("oauth2".into());
                s.client_id = Some("id".into());
                s.client_secret = Some("secret".into());
                s.token_url = Some("http://auth/token".into());
                s.scopes = vec!["read".into()];
            }),
        ));
        match m2m.auth {
            Auth::OAuth2(c) => {
                assert_eq!(
                    (c.client_id.as_str(), c.token_url.as_str()),
                    ("id", "http://auth/token")
                );
                assert_eq!(c.scopes, ["read"]);
            }
            other => panic!("expected client credentials, got {other:?}"),
        }
        let per_user = mcp(mcp_upstream(
            "o",
            &server(|s| {
                s.url = Some("http://h".into());
                s.auth_type = Some("oauth2".into());
                s.client_id = Some("id".into());
                s.oauth2_flow = Some("authorization_code".into());
            }),
        ));
        assert!(matches!(per_user.auth, Auth::None));
    }
}
