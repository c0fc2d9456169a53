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
//!    stays here: the request's other headers go to the hub for LiteLLM's per-server header
//!    rules (`upstream_headers.rs`), without it.
//! 3. The servers named in the path, by name, alias or LiteLLM id; an unknown one is a 404
//!    with LiteLLM's sentence, rather than an empty tool list that hides the typo.
//!    On the unscoped paths, the `x-mcp-servers` header (names, aliases, ids or access
//!    groups) narrows the scope instead; as in LiteLLM, the path wins over the header, and a
//!    header naming nothing known means every server.
//!
//! A `GET` without a session id that asks for an event stream is an old client opening an
//! HTTP+SSE session (`mcp_sse.rs`), admitted the same way; so is any such `GET` on `/mcp/sse`.
//!
//! Once admitted, a plain `tools/call` on a session that needs no relay is answered here with
//! JSON (`mcp_server/direct.rs`); everything else goes to rmcp's service.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use junction_hub::Registry;

use crate::access_log::RequestLog;
use crate::error::ApiError;
use crate::mcp_server::Scope;
use crate::mcp_server::direct::{self, Routed};
use crate::state::{AppState, SharedState};

/// Hosts a browser page may be served from and still talk to the endpoint.
const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];
const CHALLENGE: &str = "Bearer realm=\"junction\"";
/// LiteLLM's header that narrows an unscoped session to some servers or access groups.
const MCP_SERVERS_HEADER: &str = "x-mcp-servers";

/// `/mcp` and `/mcp/`: every server (or those of `x-mcp-servers`).
pub async fn all(State(state): State<SharedState>, request: Request) -> Response {
    serve(state, None, request, false).await
}

/// `/mcp/sse`: LiteLLM's path for SSE clients. A `GET` without a session opens a legacy
/// HTTP+SSE session whatever its `Accept`; anything else is `/mcp` (as in current LiteLLM,
/// where this path is a streamable HTTP endpoint too).
pub async fn sse(State(state): State<SharedState>, request: Request) -> Response {
    serve(state, None, request, true).await
}

/// `/mcp/<server>[,<server>…]`.
pub async fn listed(
    State(state): State<SharedState>,
    Path(servers): Path<String>,
    request: Request,
) -> Response {
    serve(state, Some(servers), request, false).await
}

/// `/<server>/mcp`.
pub async fn single(
    State(state): State<SharedState>,
    Path(server): Path<String>,
    request: Request,
) -> Response {
    serve(state, Some(server), request, false).await
}

async fn serve(
    state: SharedState,
    servers: Option<String>,
    request: Request,
    sse_path: bool,
) -> Response {
    let mut log = RequestLog::default();
    // Split, so that only the (shareable) head is borrowed while authenticating.
    let (mut head, body) = request.into_parts();
    let admitted = async {
        if !origin_allowed(&head.headers, &state.mcp_allowed_origins) {
            return Err(ApiError::forbidden(
                "Forbidden: this Origin may not use the MCP endpoint",
            ));
        }
        let principal = state.auth.authenticate(&head.headers).await?;
        log.caller = Some(principal.log_name());
        let asked = match servers {
            None => header_scope(&state, &head.headers),
            Some(list) => resolve_scope(&state.mcp, &list)?,
        };
        let grant = crate::mcp_access::grant(&principal, &state.mcp);
        Ok((principal, permitted(asked, &grant)?))
    }
    .await;
    let response = match admitted {
        Ok((principal, scope)) if super::mcp_sse::is_legacy_open(&head, sse_path) => {
            super::mcp_sse::open(&state, &principal, scope)
        }
        Ok((principal, scope)) => {
            let terminating = head.method == axum::http::Method::DELETE;
            // A POST's answer is in its body: shutdown waits for it (a GET stream is not
            // waited for; `mcp_drain.rs`).
            let busy = (head.method == axum::http::Method::POST).then(|| state.mcp_drain.busy());
            let caller = crate::upstream_headers::caller_of(&head.headers);
            head.extensions
                .insert(crate::meter::Meter::new(&state, &principal));
            // Plain tool calls are answered without rmcp's session machinery.
            let body = match direct::route(&state, &head, body, &caller, &scope).await {
                Routed::Answered(response) => return super::finish(Ok(response), log),
                Routed::ToRmcp(body) => body,
            };
            head.extensions.insert(scope);
            head.extensions.insert(caller);
            let request = Request::from_parts(head, body);
            let mut response = state.mcp_http.handle(request).await.map(Body::new);
            // rmcp acknowledges a session DELETE with 202; the Python SDK (and other clients)
            // treat anything but 200/204 as a failed termination and log an error.
            if terminating && response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::NO_CONTENT;
            }
            match busy {
                Some(busy) => response.map(|body| {
                    Body::from_stream(body.into_data_stream().map(move |chunk| {
                        let _until_the_body_ends = &busy;
                        chunk
                    }))
                }),
                None => response,
            }
        }
        Err(error) => refusal(error),
    };
    super::finish(Ok(response), log)
}

/// A refused request; a 401 also says how to authenticate (RFC 9110 §11.6.1), which MCP
/// clients look for.
pub(crate) fn refusal(error: ApiError) -> Response {
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

/// The servers a request asks for, before permissions.
#[derive(Debug, Default)]
struct Asked {
    /// Servers named one by one (in the path or the header): each must be allowed.
    named: Vec<String>,
    /// Servers reached through an access group: those the key may use are served.
    grouped: Vec<String>,
}

impl Asked {
    fn everything(&self) -> bool {
        self.named.is_empty() && self.grouped.is_empty()
    }
}

/// What the caller gets of what it asked for. A server named one by one that the key may
/// not use is a 403 naming it, and so is a request that leaves no server at all: a client
/// should hear that its key lacks access, not see an empty tool list.
fn permitted(asked: Asked, grant: &Scope) -> Result<Scope, ApiError> {
    let refused: Vec<&String> = asked.named.iter().filter(|s| !grant.contains(s)).collect();
    if !refused.is_empty() {
        let names: Vec<String> = refused.iter().map(|s| format!("'{s}'")).collect();
        return Err(ApiError::forbidden(format!(
            "This key may not use the MCP server {}. Contact proxy admin to allow it (object_permission.mcp_servers or mcp_access_groups of the key or its team).",
            names.join(", ")
        )));
    }
    let scope = if asked.everything() {
        Scope::all().within(grant)
    } else {
        Scope::only(asked.named.into_iter().chain(asked.grouped)).within(grant)
    };
    if scope.is_empty() {
        return Err(ApiError::forbidden(
            "This key may not use any MCP server here. Contact proxy admin to allow some (object_permission.mcp_servers or mcp_access_groups of the key or its team).",
        ));
    }
    Ok(scope)
}

/// What an unscoped path asks for: every server, or those `x-mcp-servers` names.
///
/// LiteLLM's rules (`_get_allowed_mcp_servers_from_mcp_server_names`): a comma-separated
/// list, trimmed; each entry is a server (name, alias, prefix or id, any case), else an
/// access group (every server whose `access_groups` lists it); entries matching nothing are
/// ignored; and if nothing matches at all, or the header is empty, every server is served.
fn header_scope(state: &AppState, headers: &HeaderMap) -> Asked {
    let Some(value) = headers.get(MCP_SERVERS_HEADER) else {
        return Asked::default();
    };
    let Ok(list) = value.to_str() else {
        tracing::warn!("{MCP_SERVERS_HEADER} is not valid text; serving every MCP server");
        return Asked::default();
    };
    let mut asked = Asked::default();
    let mut unknown = Vec::new();
    for wanted in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(server) = state.mcp.server_named(wanted) {
            if !asked.named.contains(&server.name) {
                asked.named.push(server.name.clone());
            }
            continue;
        }
        let matched = state.mcp.access_group(wanted);
        if matched.is_empty() {
            unknown.push(wanted);
        }
        for server in matched {
            if !asked.grouped.contains(&server) {
                asked.grouped.push(server);
            }
        }
    }
    if asked.everything() && !unknown.is_empty() {
        tracing::warn!(
            header = list,
            "{MCP_SERVERS_HEADER} names no known MCP server or access group; serving every server, as LiteLLM does"
        );
    } else if !unknown.is_empty() {
        tracing::warn!(
            unknown = ?unknown,
            "{MCP_SERVERS_HEADER} names unknown MCP servers or access groups; ignored"
        );
    }
    asked
}

/// The `mcp_servers` keys of a comma-separated list of names, aliases or ids.
fn resolve_scope(registry: &Registry, list: &str) -> Result<Asked, ApiError> {
    let mut asked = Asked::default();
    for wanted in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some(server) = registry.server_named(wanted) else {
            return Err(ApiError::not_found(format!(
                "MCP server '{wanted}' not found"
            )));
        };
        if !asked.named.contains(&server.name) {
            asked.named.push(server.name.clone());
        }
    }
    if asked.named.is_empty() {
        return Err(ApiError::not_found("no MCP server named in the path"));
    }
    Ok(asked)
}

/// Whether the request's `Origin` (when present) may use the endpoint: a localhost origin,
/// or the gateway's own (same authority as `Host`), over http or https.
pub(crate) fn origin_allowed(headers: &HeaderMap, allowed_origins: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok() else {
        return false;
    };
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
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
    // No "same origin as the Host header" shortcut: in a DNS-rebinding attack the attacker's
    // name is both the Origin and the Host. Other origins must be listed explicitly.
    let origin = origin.trim_end_matches('/');
    allowed_origins
        .iter()
        .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
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
        origin_allowed(&headers, &["https://gw.example.com/".to_owned()])
    }

    #[test]
    fn localhost_and_listed_origins_pass_others_are_refused() {
        assert!(allowed(None, "gw.example.com"));
        assert!(allowed(Some("http://localhost:6274"), "gw.example.com"));
        assert!(allowed(Some("https://127.0.0.1"), "gw.example.com"));
        assert!(allowed(Some("http://[::1]:3000"), "gw.example.com"));
        assert!(allowed(Some("https://gw.example.com"), "gw.example.com"));
        assert!(allowed(Some("https://GW.example.com"), "gw.example.com"));
        // DNS rebinding: the attacker's name is both Origin and Host.
        assert!(!allowed(
            Some("http://evil.example.com"),
            "evil.example.com"
        ));
        assert!(!allowed(Some("http://evil.example.com"), "gw.example.com"));
        assert!(!allowed(Some("http://gw.example.com"), "gw.example.com"));
        assert!(!allowed(
            Some("http://localhost.evil.com"),
            "gw.example.com"
        ));
        assert!(!allowed(Some("null"), "gw.example.com"));
        assert!(!allowed(Some("file://localhost"), "gw.example.com"));
        assert!(!allowed(Some("http://[::1"), "gw.example.com"));
    }
}
