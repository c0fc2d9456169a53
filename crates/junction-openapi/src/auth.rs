//! Credentials on the API's requests.
//!
//! LiteLLM maps `auth_type`s differently for OpenAPI servers than for MCP servers
//! (`research/litellm.md` §3): `api_key` → `Authorization: ApiKey <value>`, `bearer_token` →
//! `Authorization: Bearer <value>`, `basic` → `Authorization: Basic <value>`. Junction keeps
//! that mapping with two corrections a user of a real API expects:
//! * an `api_key` goes where the spec's `apiKey` security scheme says (a header, query
//!   parameter or cookie of that name) when the operation uses one; LiteLLM's header is
//!   the fallback for specs that declare nothing;
//! * a `basic` value written `user:pass` is base64-encoded, as for MCP servers; one without
//!   a colon is taken as already encoded (base64 has no colon), so LiteLLM's documented
//!   form keeps working.
//!
//! Headers configured for the session (`static_headers`, and the caller's forwarded ones)
//! come last and win, and credentials always replace a header of the same name that a tool
//! argument set: the model cannot choose the credentials.

use std::collections::BTreeMap;

use base64::Engine;
use junction_mcp::Auth;

use crate::operation::{ApiKeyPlacement, Location, Operation};
use crate::request::Prepared;

/// One session's credentials.
#[derive(Debug)]
pub(crate) struct Credentials {
    auth: Auth,
    headers: BTreeMap<String, String>,
}

impl Credentials {
    pub(crate) fn new(auth: Auth, headers: BTreeMap<String, String>) -> Credentials {
        Credentials { auth, headers }
    }

    /// Adds the credentials to a request of `operation`.
    pub(crate) fn apply(&self, operation: &Operation, request: &mut Prepared) {
        match &self.auth {
            Auth::None | Auth::OAuth2(_) => {}
            Auth::ApiKey(key) => match &operation.api_key {
                Some(placement) => place_api_key(placement, key, request),
                None => set_header(request, "authorization", format!("ApiKey {key}")),
            },
            Auth::BearerToken(token) => {
                set_header(request, "authorization", format!("Bearer {token}"));
            }
            Auth::Basic(value) => {
                let encoded = if value.contains(':') {
                    base64::engine::general_purpose::STANDARD.encode(value)
                } else {
                    value.clone()
                };
                set_header(request, "authorization", format!("Basic {encoded}"));
            }
            Auth::Authorization(value) => set_header(request, "authorization", value.clone()),
            Auth::Token(value) => set_header(request, "authorization", format!("token {value}")),
            Auth::Headers(headers) => {
                for (name, value) in headers {
                    set_header(request, name, value.clone());
                }
            }
        }
        for (name, value) in &self.headers {
            set_header(request, name, value.clone());
        }
    }
}

fn place_api_key(placement: &ApiKeyPlacement, key: &str, request: &mut Prepared) {
    match placement.location {
        Location::Header | Location::Path => set_header(request, &placement.name, key.to_owned()),
        Location::Query => {
            let kept: Vec<(String, String)> = request
                .url
                .query_pairs()
                .filter(|(name, _)| name != placement.name.as_str())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
            let mut pairs = request.url.query_pairs_mut();
            pairs.clear();
            pairs.extend_pairs(kept);
            pairs.append_pair(&placement.name, key);
        }
        Location::Cookie => {
            let cookie = format!("{}={key}", placement.name);
            let existing = request
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("cookie"))
                .map(|(_, value)| value.clone());
            let value = match existing {
                Some(existing) if !existing.is_empty() => format!("{existing}; {cookie}"),
                _ => cookie,
            };
            set_header(request, "cookie", value);
        }
    }
}

/// Sets a header, replacing any of the same name (names compare case-insensitively).
fn set_header(request: &mut Prepared, name: &str, value: String) {
    request
        .headers
        .retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
    request.headers.push((name.to_owned(), value));
}
