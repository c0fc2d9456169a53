//! Credentials for MCP servers: LiteLLM's `auth_type`s as HTTP headers, and OAuth2 client
//! credentials with a cached token.
//!
//! LiteLLM's mapping is kept exactly (`research/litellm.md` §3): `api_key` → `X-API-Key`,
//! `bearer_token` → `Authorization: Bearer`, `basic` → `Authorization: Basic base64(value)`
//! (the value is `user:pass`, encoded here), `authorization` → sent verbatim, `token` →
//! `Authorization: token …`. An OAuth2 token is fetched with the client-credentials grant,
//! cached, and refreshed a minute before it expires.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::McpError;

/// How the client proves who it is.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    /// `X-API-Key: <key>`.
    ApiKey(String),
    /// `Authorization: Bearer <token>`.
    BearerToken(String),
    /// `user:pass`, sent as `Authorization: Basic base64(user:pass)`.
    Basic(String),
    /// The whole `Authorization` header value, sent as is.
    Authorization(String),
    /// `Authorization: token <value>` (GitHub style).
    Token(String),
    /// Arbitrary headers.
    Headers(BTreeMap<String, String>),
    /// OAuth2 client-credentials grant; the token goes in `Authorization: Bearer`.
    OAuth2(OAuth2ClientCredentials),
}

/// Where and how to get an OAuth2 token for a machine client.
#[derive(Clone)]
pub struct OAuth2ClientCredentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

// Secrets stay out of logs and panics: Debug names the kind only.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Auth::None => "none",
            Auth::ApiKey(_) => "api_key",
            Auth::BearerToken(_) => "bearer_token",
            Auth::Basic(_) => "basic",
            Auth::Authorization(_) => "authorization",
            Auth::Token(_) => "token",
            Auth::Headers(_) => "headers",
            Auth::OAuth2(_) => "oauth2",
        };
        write!(f, "Auth::{kind}")
    }
}

impl std::fmt::Debug for OAuth2ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// LiteLLM's `auth_type` + `auth_value` pair. `None` for an unknown `auth_type`.
    pub fn from_litellm(auth_type: &str, value: &str) -> Option<Auth> {
        let value = value.to_owned();
        Some(match auth_type {
            "none" => Auth::None,
            "api_key" => Auth::ApiKey(value),
            "bearer_token" => Auth::BearerToken(value),
            "basic" => Auth::Basic(value),
            "authorization" => Auth::Authorization(value),
            "token" => Auth::Token(value),
            _ => return None,
        })
    }
}

/// Refresh a cached token this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Tokens that claim a shorter life are still cached this long, so a bad `expires_in` cannot
/// turn every request into a token request.
const MIN_TOKEN_LIFE: Duration = Duration::from_secs(10);

/// The headers a client sends, and the OAuth2 token source when there is one.
#[derive(Clone)]
pub(crate) struct Credentials {
    server: String,
    headers: HeaderMap,
    oauth: Option<Arc<TokenSource>>,
}

impl Credentials {
    /// Builds the fixed headers of `auth` plus `extra` (which win on a clash).
    pub(crate) fn new(
        server: &str,
        auth: &Auth,
        extra: &BTreeMap<String, String>,
        http: reqwest::Client,
    ) -> Result<Credentials, McpError> {
        let mut headers = HeaderMap::new();
        let mut pairs: Vec<(String, String)> = match auth {
            Auth::None | Auth::OAuth2(_) => Vec::new(),
            Auth::ApiKey(key) => vec![("x-api-key".into(), key.clone())],
            Auth::BearerToken(token) => vec![("authorization".into(), format!("Bearer {token}"))],
            Auth::Basic(user_pass) => vec![(
                "authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(user_pass)
                ),
            )],
            Auth::Authorization(value) => vec![("authorization".into(), value.clone())],
            Auth::Token(value) => vec![("authorization".into(), format!("token {value}"))],
            Auth::Headers(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        pairs.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (name, value) in pairs {
            let header_name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| McpError::Config {
                    server: server.to_owned(),
                    message: format!("{name:?} is not a valid HTTP header name"),
                })?;
            let mut header_value = HeaderValue::from_str(&value).map_err(|_| McpError::Config {
                server: server.to_owned(),
                message: format!("the value of header {name} is not a valid HTTP header value"),
            })?;
            header_value.set_sensitive(true);
            headers.insert(header_name, header_value);
        }
        let oauth = match auth {
            Auth::OAuth2(credentials) => Some(Arc::new(TokenSource {
                server: server.to_owned(),
                credentials: credentials.clone(),
                http,
                cached: Mutex::new(None),
            })),
            _ => None,
        };
        Ok(Credentials {
            server: server.to_owned(),
            headers,
            oauth,
        })
    }

    /// The fixed headers (everything but an OAuth2 token).
    pub(crate) fn static_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A valid OAuth2 access token, when the client uses OAuth2; fetched or refreshed as needed.
    pub(crate) async fn oauth_token(&self) -> Result<Option<String>, McpError> {
        match &self.oauth {
            Some(source) => source.token().await.map(Some),
            None => Ok(None),
        }
    }

    /// Forgets a cached OAuth2 token, after the server refused it.
    pub(crate) async fn invalidate_token(&self) {
        if let Some(source) = &self.oauth {
            *source.cached.lock().await = None;
        }
    }

    /// Every header for one request: the fixed ones and a fresh `Authorization` for OAuth2.
    pub(crate) async fn request_headers(&self) -> Result<HeaderMap, McpError> {
        let mut headers = self.headers.clone();
        if let Some(token) = self.oauth_token().await? {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                McpError::Unauthorized {
                    server: self.server.clone(),
                    message: "the OAuth2 token is not a valid header value".into(),
                }
            })?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        Ok(headers)
    }
}

struct TokenSource {
    server: String,
    credentials: OAuth2ClientCredentials,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenSource {
    async fn token(&self) -> Result<String, McpError> {
        // Holding the lock while fetching makes concurrent callers share one token request.
        let mut cached = self.cached.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let fail = |message: String| McpError::Unauthorized {
            server: self.server.clone(),
            message: format!(
                "OAuth2 token request to {} failed: {message}",
                self.credentials.token_url
            ),
        };
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", self.credentials.client_id.clone()),
            ("client_secret", self.credentials.client_secret.clone()),
        ];
        if !self.credentials.scopes.is_empty() {
            form.push(("scope", self.credentials.scopes.join(" ")));
        }
        let response = self
            .http
            .post(&self.credentials.token_url)
            .form(&form)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&body).chars().take(500).collect();
            return Err(fail(format!("HTTP {status}: {text}")));
        }
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the answer has no access_token: {e}")))?;
        let life = Duration::from_secs(token.expires_in.unwrap_or(3600));
        let refresh_in = life.saturating_sub(REFRESH_MARGIN).max(MIN_TOKEN_LIFE);
        *cached = Some((token.access_token.clone(), Instant::now() + refresh_in));
        Ok(token.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> reqwest::Client {
        match crate::tls::http_client("s", &crate::TlsConfig::default()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn headers(auth: Auth) -> HeaderMap {
        let extra = BTreeMap::new();
        match Credentials::new("s", &auth, &extra, http()) {
            Ok(c) => c.static_headers().clone(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn litellm_auth_types_map_to_litellm_headers() {
        assert_eq!(headers(Auth::ApiKey("k".into()))["x-api-key"], "k");
        assert_eq!(
            headers(Auth::BearerToken("t".into()))["authorization"],
            "Bearer t"
        );
        assert_eq!(
            headers(Auth::Basic("user:pass".into()))["authorization"],
            "Basic dXNlcjpwYXNz"
        );
        assert_eq!(
            headers(Auth::Authorization("Custom x".into()))["authorization"],
            "Custom x"
        );
        assert_eq!(
            headers(Auth::Token("gh".into()))["authorization"],
            "token gh"
        );
        assert!(headers(Auth::None).is_empty());
        assert!(
            matches!(Auth::from_litellm("bearer_token", "t"), Some(Auth::BearerToken(t)) if t == "t")
        );
        assert!(Auth::from_litellm("aws_sigv4", "x").is_none());
    }

    #[test]
    fn extra_headers_win_and_bad_names_are_config_errors() {
        let mut extra = BTreeMap::new();
        extra.insert("X-API-Key".to_owned(), "override".to_owned());
        let c = Credentials::new("s", &Auth::ApiKey("k".into()), &extra, http());
        assert_eq!(
            c.map(|c| c.static_headers()["x-api-key"].clone()).ok(),
            Some(HeaderValue::from_static("override"))
        );
        let mut bad = BTreeMap::new();
        bad.insert("bad header".to_owned(), "v".to_owned());
        assert!(matches!(
            Credentials::new("s", &Auth::None, &bad, http()),
            Err(McpError::Config { .. })
        ));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let auth = Auth::OAuth2(OAuth2ClientCredentials {
            token_url: "https://idp/token".into(),
            client_id: "id".into(),
            client_secret: "very-secret".into(),
            scopes: vec![],
        });
        assert!(!format!("{auth:?}").contains("very-secret"));
        assert!(!format!("{:?}", Auth::BearerToken("tok-secret".into())).contains("tok-secret"));
    }
}
