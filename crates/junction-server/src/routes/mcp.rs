//! `/mcp`: the gateway's MCP endpoint (streamable HTTP), over the hub's catalog.
//!
//! LiteLLM serves one MCP endpoint per scope, and clients are configured with any of them:
//! `/mcp` and `/mcp/` (every server; no redirect between the two, because a 307 on `/mcp`
//! broke Claude Code against LiteLLM, #31179), `/mcp/<server>[,<server>…]` and
//! `/<server>/mcp` (only those servers). All of them are one rmcp streamable HTTP service;
//! this file only decides whether a request may reach it and with which [`Scope`]:
//!
//! 1. DNS-rebinding protection: a present `Origin` must be a localhost origin or the
//!    gateway's own (same `Host`), else 403. rmcp's own Host/Origin checks are off, because
//!    they only know loopback and the gateway is served under public host names.
//! 2. The gateway key (`x-litellm-api-key`, else `Authorization`), else 401 with
//!    `WWW-Authenticate: Bearer realm="junction"` so MCP clients know to send one. The key
//!    stays here: upstream sessions use their own configured credentials.
//! 3. The servers named in the path, by name, alias or LiteLLM id; an unknown one is a 404
//!    with LiteLLM's sentence, rather than an empty tool list that hides the typo.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use junction_hub::Registry;

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::mcp_server::Scope;
use crate::state::SharedState;

/// Hosts a browser page may be served from and still talk to the endpoint.
const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];
const CHALLENGE: &str = "Bearer realm=\"junction\"";

/// `/mcp` and `/mcp/`: every server.
pub async fn all(State(state): State<SharedState>, request: Request) -> Response {
    serve(state, None, request).await
}

/// `/mcp/<server>[,<server>…]`.
pub async fn listed(
    State(state): State<SharedState>,
    Path(servers): Path<String>,
    request: Request,
) -> Response {
    serve(state, Some(servers), request).await
}

/// `/<server>/mcp`.
pub async fn single(
    State(state): State<SharedState>,
    Path(server): Path<String>,
    request: Request,
) -> Response {
    serve(state, Some(server), request).await
}

async fn serve(state: SharedState, servers: Option<String>, request: Request) -> Response {
    let mut log = RequestLog::default();
    // Split, so that only the (shareable) head is borrowed while authenticating.
    let (mut head, body) = request.into_parts();
    let admitted = async {
        if !origin_allowed(&head.headers, &head.uri) {
            return Err(ApiError::forbidden(
                "Forbidden: this Origin may not use the MCP endpoint",
            ));
        }
        let principal = state.auth.authenticate(&head.headers).await?;
        log.caller = Some(principal.log_name());
        match servers {
            None => Ok(Scope::All),
            Some(list) => resolve_scope(&state.mcp, &list),
        }
    }
    .await;
    let response = match admitted {
        Ok(scope) => {
            let terminating = head.method == axum::http::Method::DELETE;
            head.extensions.insert(scope);
            let request = Request::from_parts(head, body);
            let mut response = state.mcp_http.handle(request).await.map(Body::new);
            // rmcp acknowledges a session DELETE with 202; the Python SDK (and other clients)
            // treat anything but 200/204 as a failed termination and log an error.
            if terminating && response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::NO_CONTENT;
            }
            response
        }
        Err(error) => refusal(error),
    };
    super::finish(Ok(response), log)
}

/// A refused request; a 401 also says how to authenticate (RFC 9110 §11.6.1), which MCP
/// clients look for.
fn refusal(error: ApiError) -> Response {
    let unauthorized = error.status == StatusCode::UNAUTHORIZED;
    let mut response = error.into_response();
    if unauthorized {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
    }
    response
}

/// The `mcp_servers` keys of a comma-separated list of names, aliases or ids.
fn resolve_scope(registry: &Registry, list: &str) -> Result<Scope, ApiError> {
    let mut servers = Vec::new();
    for wanted in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let found = registry.find_server(wanted).or_else(|| {
            registry.servers().find(|s| {
                s.prefix.eq_ignore_ascii_case(wanted)
                    || s.name.eq_ignore_ascii_case(wanted)
                    || s.alias
                        .as_deref()
                        .is_some_and(|alias| alias.eq_ignore_ascii_case(wanted))
            })
        });
        let Some(server) = found else {
            return Err(ApiError::not_found(format!(
                "MCP server '{wanted}' not found"
            )));
        };
        if !servers.contains(&server.name) {
            servers.push(server.name.clone());
        }
    }
    if servers.is_empty() {
        return Err(ApiError::not_found("no MCP server named in the path"));
    }
    Ok(Scope::Servers(servers))
}

/// Whether the request's `Origin` (when present) may use the endpoint: a localhost origin,
/// or the gateway's own (same authority as `Host`), over http or https.
fn origin_allowed(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(authority) = origin.to_str().ok().and_then(|origin| {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
    }) else {
        return false;
    };
    if authority.is_empty() || authority.contains('/') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest
            .find(']')
            .map_or(authority, |end| &authority[..end + 2]),
        None => authority.split(':').next().unwrap_or(authority),
    };
    if LOCAL_HOSTS
        .iter()
        .any(|local| local.eq_ignore_ascii_case(host))
    {
        return true;
    }
    // HTTP/2 carries the host in the URI's authority instead of a Host header.
    let own = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    own.is_some_and(|own| own.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(origin: Option<&str>, host: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        origin_allowed(&headers, &"/mcp".parse().unwrap())
    }

    #[test]
    fn localhost_and_same_origin_pass_others_are_refused() {
        assert!(allowed(None, "gw.example.com"));
        assert!(allowed(Some("http://localhost:6274"), "gw.example.com"));
        assert!(allowed(Some("https://127.0.0.1"), "gw.example.com"));
        assert!(allowed(Some("http://[::1]:3000"), "gw.example.com"));
        assert!(allowed(Some("https://gw.example.com"), "gw.example.com"));
        assert!(allowed(
            Some("http://GW.example.com:4000"),
            "gw.example.com:4000"
        ));
        assert!(!allowed(Some("http://evil.example.com"), "gw.example.com"));
        assert!(!allowed(
            Some("http://localhost.evil.com"),
            "gw.example.com"
        ));
        assert!(!allowed(
            Some("http://gw.example.com:4001"),
            "gw.example.com:4000"
        ));
        assert!(!allowed(Some("null"), "gw.example.com"));
        assert!(!allowed(Some("file://localhost"), "gw.example.com"));
        assert!(!allowed(Some("http://[::1"), "gw.example.com"));
    }
}
