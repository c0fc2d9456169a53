//! What a client's request headers change about its upstream sessions: LiteLLM's per-request
//! header rules, as a [`SessionVariant`] per server.
//!
//! LiteLLM lets a caller bring credentials and context for the upstreams:
//!
//! * **`extra_headers`**: the header names a server lists are copied from the caller's request
//!   (matched case-insensitively, sent with the configured spelling). Nothing else is.
//! * **`x-mcp-<alias>-<header>: value`**: a credential for one server, addressed by its alias
//!   (or name), case-insensitively. Every such header of the server together replaces the
//!   configured credential (`auth_value`): they are sent as headers verbatim, `authorization`
//!   as `Authorization`.
//! * **`x-mcp-auth`** (legacy; the name can be changed by env
//!   `LITELLM_MCP_CLIENT_SIDE_AUTH_HEADER_NAME` or `general_settings.
//!   mcp_client_side_auth_header_name`): one credential for every server, formatted by each
//!   server's `auth_type` as its `auth_value` would be. A server without `auth_type` sends no
//!   credential, as in LiteLLM. The per-server headers win over it.
//!
//! * **OAuth2 pass-through**: for an `auth_type: oauth2` server without client credentials,
//!   the caller's `Authorization` is the upstream token (it reaches here only when the gateway
//!   key came in another header). A per-server header wins over it.
//!
//! `static_headers` still win over everything the caller sends. The gateway's own key never
//! gets here: the HTTP layer removes the header that carried it before building
//! [`RequestHeaders`].
//!
//! An upstream session carries its headers for its whole life, so a request whose variant is
//! not the default one is served by a session of its own (see `variants.rs`): a caller's
//! credential never reaches the upstream on anyone else's behalf.

use std::collections::BTreeMap;

use junction_config::McpServerConfig;
use junction_mcp::{Auth, ClientConfig};

/// The legacy header carrying one credential for every server, unless renamed.
pub const DEFAULT_CLIENT_SIDE_AUTH_HEADER: &str = "x-mcp-auth";

/// The env variable renaming [`DEFAULT_CLIENT_SIDE_AUTH_HEADER`]; it wins over the setting.
pub const CLIENT_SIDE_AUTH_HEADER_ENV: &str = "LITELLM_MCP_CLIENT_SIDE_AUTH_HEADER_NAME";

/// `x-mcp-*` headers that address the gateway, not one server's credentials.
const GATEWAY_HEADERS: &[&str] = &["x-mcp-servers", "x-mcp-access-groups"];

/// The name of the legacy all-servers credential header: the env variable, else the
/// `general_settings` value, else `x-mcp-auth`; lowercased.
pub fn client_side_auth_header(setting: Option<&str>) -> String {
    std::env::var(CLIENT_SIDE_AUTH_HEADER_ENV)
        .ok()
        .as_deref()
        .or(setting)
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or(DEFAULT_CLIENT_SIDE_AUTH_HEADER)
        .to_ascii_lowercase()
}

/// The headers of one client request that upstreams may see (the gateway key removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    /// Lowercased names, in request order; a repeated header keeps its first value.
    pairs: Vec<(String, String)>,
}

impl RequestHeaders {
    pub fn new<N: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut kept: Vec<(String, String)> = Vec::new();
        for (name, value) in pairs {
            let name = name.as_ref().to_ascii_lowercase();
            if !kept.iter().any(|(n, _)| *n == name) {
                kept.push((name, value.into()));
            }
        }
        RequestHeaders { pairs: kept }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What one request changes about one server's session. The default (nothing) means the
/// server's shared session serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionVariant {
    /// `x-mcp-<alias>-*`: replaces the configured credential.
    credential_headers: BTreeMap<String, String>,
    /// `x-mcp-auth`: replaces the configured `auth_value`, formatted by `auth_type`.
    auth_value: Option<String>,
    /// `extra_headers` copied from the request.
    forwarded: BTreeMap<String, String>,
}

impl SessionVariant {
    pub fn is_default(&self) -> bool {
        *self == SessionVariant::default()
    }

    /// The names of the headers this variant sets (for logs: never the values).
    pub fn header_names(&self) -> Vec<&str> {
        self.credential_headers
            .keys()
            .chain(self.forwarded.keys())
            .map(String::as_str)
            .collect()
    }
}

/// One server's header rules, taken from its `mcp_servers` entry.
#[derive(Debug, Clone)]
pub struct HeaderRules {
    name: String,
    alias: Option<String>,
    auth_type: Option<String>,
    extra_headers: Vec<String>,
    static_headers: BTreeMap<String, String>,
    /// The lowercased name of the all-servers credential header.
    client_side_auth_header: String,
    /// An OAuth2 server whose callers bring their own token in `Authorization`.
    oauth_passthrough: bool,
}

impl HeaderRules {
    pub fn new(name: &str, config: &McpServerConfig, client_side_auth_header: &str) -> Self {
        HeaderRules {
            name: name.to_owned(),
            alias: config.alias.clone(),
            auth_type: config
                .auth_type
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && *t != "none")
                .map(str::to_owned),
            extra_headers: config.extra_headers.clone(),
            static_headers: config.static_headers.clone(),
            client_side_auth_header: client_side_auth_header.to_ascii_lowercase(),
            oauth_passthrough: config.auth_type.as_deref().map(str::trim) == Some("oauth2")
                && crate::upstream_config::oauth2_client_credentials(config).is_none(),
        }
    }

    /// What `headers` change about this server's session.
    pub fn variant(&self, headers: &RequestHeaders) -> SessionVariant {
        let mut variant = SessionVariant::default();
        if headers.is_empty() {
            return variant;
        }
        for wanted in &self.extra_headers {
            if let Some(value) = headers.get(wanted) {
                variant.forwarded.insert(wanted.clone(), value.to_owned());
            }
        }
        for (name, value) in &headers.pairs {
            if let Some((alias, header)) = self.credential_header(name)
                && self.addresses_me(alias)
            {
                let header = if header == "authorization" {
                    "Authorization".to_owned()
                } else {
                    header.to_owned()
                };
                variant.credential_headers.insert(header, value.clone());
            }
        }
        if variant.credential_headers.is_empty()
            && self.oauth_passthrough
            && let Some(token) = headers.get("authorization")
        {
            variant
                .credential_headers
                .insert("Authorization".to_owned(), token.to_owned());
        }
        if variant.credential_headers.is_empty() && self.auth_type.is_some() {
            variant.auth_value = headers
                .get(&self.client_side_auth_header)
                .map(str::to_owned);
        }
        variant
    }

    /// `x-mcp-<alias>-<header>` split at the first `-` after the prefix, as LiteLLM does.
    fn credential_header<'a>(&self, name: &'a str) -> Option<(&'a str, &'a str)> {
        if GATEWAY_HEADERS.contains(&name) || name == self.client_side_auth_header {
            return None;
        }
        let rest = name.strip_prefix("x-mcp-")?;
        let (alias, header) = rest.split_once('-')?;
        (!alias.is_empty() && !header.is_empty()).then_some((alias, header))
    }

    /// Whether `alias` (from a header, lowercase) names this server: its alias, its name, or
    /// either sanitized as LiteLLM's newer versions do (non-`[a-z0-9_]` → `_`).
    fn addresses_me(&self, alias: &str) -> bool {
        [self.alias.as_deref(), Some(self.name.as_str())]
            .into_iter()
            .flatten()
            .any(|candidate| candidate.eq_ignore_ascii_case(alias) || sanitize(candidate) == alias)
    }

    /// `base` (the server's shared-session config) as `variant` changes it. Header order of
    /// precedence, lowest first: the caller's credential headers, `extra_headers`, then
    /// `static_headers`, which always win.
    pub fn apply(&self, base: &ClientConfig, variant: &SessionVariant) -> ClientConfig {
        let mut config = base.clone();
        if !variant.credential_headers.is_empty() {
            config.auth = Auth::None;
        } else if let (Some(value), Some(auth_type)) = (&variant.auth_value, &self.auth_type)
            && let Some(auth) = Auth::from_litellm(auth_type, value)
        {
            config.auth = auth;
        }
        let mut headers = variant.credential_headers.clone();
        headers.extend(variant.forwarded.clone());
        headers.extend(self.static_headers.clone());
        config.headers = headers;
        config
    }
}

fn sanitize(alias: &str) -> String {
    alias
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use junction_mcp::TransportConfig;

    fn rules(edit: impl FnOnce(&mut McpServerConfig)) -> HeaderRules {
        let mut config = McpServerConfig::default();
        edit(&mut config);
        HeaderRules::new("github_mcp", &config, DEFAULT_CLIENT_SIDE_AUTH_HEADER)
    }

    fn headers(pairs: &[(&str, &str)]) -> RequestHeaders {
        RequestHeaders::new(pairs.iter().map(|(n, v)| (*n, *v)))
    }

    fn base() -> ClientConfig {
        ClientConfig::new(
            "github_mcp",
            TransportConfig::StreamableHttp {
                url: "http://upstream/mcp".into(),
            },
        )
        .with_auth(Auth::BearerToken("static".into()))
    }

    #[test]
    fn only_listed_extra_headers_are_forwarded_with_configured_spelling() {
        let rules =
            rules(|c| c.extra_headers = vec!["X-Custom-Header".into(), "custom_key".into()]);
        let variant = rules.variant(&headers(&[
            ("x-custom-header", "a"),
            ("x-other", "b"),
            ("CUSTOM_KEY", "c"),
        ]));
        let config = rules.apply(&base(), &variant);
        assert_eq!(
            config.headers,
            BTreeMap::from([
                ("X-Custom-Header".to_owned(), "a".to_owned()),
                ("custom_key".to_owned(), "c".to_owned())
            ])
        );
        // The configured credential stays.
        assert!(matches!(config.auth, Auth::BearerToken(ref t) if t == "static"));
    }

    #[test]
    fn no_relevant_header_keeps_the_shared_session() {
        let rules = rules(|c| c.extra_headers = vec!["x-tenant".into()]);
        assert!(rules.variant(&headers(&[("x-other", "1")])).is_default());
        assert!(rules.variant(&RequestHeaders::default()).is_default());
    }

    #[test]
    fn per_server_credentials_replace_the_configured_one() {
        let rules = rules(|c| c.alias = Some("github".into()));
        let variant = rules.variant(&headers(&[
            ("x-mcp-github-authorization", "Bearer user"),
            ("x-mcp-github-x-api-key", "k"),
            ("x-mcp-zapier-x-api-key", "not mine"),
            ("x-mcp-servers", "github"),
        ]));
        let config = rules.apply(&base(), &variant);
        assert!(matches!(config.auth, Auth::None));
        assert_eq!(
            config.headers,
            BTreeMap::from([
                ("Authorization".to_owned(), "Bearer user".to_owned()),
                ("x-api-key".to_owned(), "k".to_owned())
            ])
        );
    }

    #[test]
    fn per_server_credentials_match_the_name_and_the_sanitized_alias() {
        let by_name = rules(|_| {});
        assert!(
            !by_name
                .variant(&headers(&[("x-mcp-github_mcp-authorization", "t")]))
                .is_default()
        );
        let sanitized = rules(|c| c.alias = Some("Git.Hub".into()));
        assert!(
            !sanitized
                .variant(&headers(&[("x-mcp-git_hub-authorization", "t")]))
                .is_default()
        );
    }

    #[test]
    fn legacy_header_is_formatted_by_auth_type_and_loses_to_per_server_headers() {
        let bearer = rules(|c| c.auth_type = Some("bearer_token".into()));
        let config = bearer.apply(&base(), &bearer.variant(&headers(&[("x-mcp-auth", "u1")])));
        assert!(matches!(config.auth, Auth::BearerToken(ref t) if t == "u1"));

        let both = headers(&[("x-mcp-auth", "u1"), ("x-mcp-github_mcp-x-token", "u2")]);
        let config = bearer.apply(&base(), &bearer.variant(&both));
        assert!(matches!(config.auth, Auth::None));
        assert_eq!(
            config.headers.get("x-token").map(String::as_str),
            Some("u2")
        );

        // Without an auth_type, LiteLLM has no way to send it.
        let untyped = rules(|_| {});
        assert!(
            untyped
                .variant(&headers(&[("x-mcp-auth", "u1")]))
                .is_default()
        );
    }

    #[test]
    fn the_legacy_header_can_be_renamed() {
        let config = McpServerConfig {
            auth_type: Some("api_key".into()),
            ..McpServerConfig::default()
        };
        let rules = HeaderRules::new("s", &config, "X-Upstream-Key");
        let variant = rules.variant(&headers(&[("x-upstream-key", "k"), ("x-mcp-auth", "no")]));
        let applied = rules.apply(&base(), &variant);
        assert!(matches!(applied.auth, Auth::ApiKey(ref k) if k == "k"));
        // The renamed header is not taken for a per-server credential either.
        assert!(
            rules
                .variant(&headers(&[("x-mcp-auth", "no")]))
                .is_default()
        );
    }

    #[test]
    fn oauth2_servers_without_client_credentials_take_the_callers_authorization() {
        let passthrough = rules(|c| c.auth_type = Some("oauth2".into()));
        let config = passthrough.apply(
            &base(),
            &passthrough.variant(&headers(&[("authorization", "Bearer user-token")])),
        );
        assert_eq!(
            config.headers.get("Authorization").map(String::as_str),
            Some("Bearer user-token")
        );
        let m2m = rules(|c| {
            c.auth_type = Some("oauth2".into());
            c.client_id = Some("id".into());
            c.client_secret = Some("s".into());
            c.token_url = Some("http://t".into());
        });
        assert!(
            m2m.variant(&headers(&[("authorization", "Bearer user-token")]))
                .is_default()
        );
    }

    #[test]
    fn static_headers_win_over_caller_headers() {
        let rules = rules(|c| {
            c.extra_headers = vec!["x-tenant".into()];
            c.static_headers = BTreeMap::from([("x-tenant".into(), "fixed".into())]);
        });
        let config = rules.apply(&base(), &rules.variant(&headers(&[("x-tenant", "evil")])));
        assert_eq!(
            config.headers.get("x-tenant").map(String::as_str),
            Some("fixed")
        );
    }
}
