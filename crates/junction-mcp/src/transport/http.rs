//! The streamable HTTP transport (MCP 2025-03-26 and later): `rmcp`'s worker over our client.
//!
//! `rmcp` does the protocol work (session id, SSE response streams, resuming them, `DELETE`
//! on close, and a transparent re-`initialize` when the server answers 404 for a forgotten
//! session). This module only configures it: the `reqwest` client built by [`crate::tls`]
//! (wrapped in [`RecordingClient`], so the client can send requests of its own on the same
//! session, see [`super::post`]), the fixed credential headers, the OAuth2 bearer token of the
//! session, and a bounded retry policy for SSE streams, so a request whose stream broke ends
//! in an error soon rather than after the whole call timeout.
//!
//! Why the OAuth2 token is fixed per session: `rmcp` takes the bearer token as configuration,
//! so the client opens a new session when the token source hands out a new token (about once
//! an hour, a minute before expiry), and after a 401 with a token that was just invalidated.
//! See `client.rs`.

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::ExponentialBackoff;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};

use super::TransportFailure;
use super::post::RecordingClient;
use crate::McpError;
use crate::auth::Credentials;

/// The transport type, named for the client.
pub(crate) type HttpTransport = StreamableHttpClientTransport<RecordingClient>;

/// Headers `rmcp` sets itself and refuses as custom headers (on every request, so better
/// said once at connect time).
const RESERVED_HEADERS: [&str; 3] = ["accept", "mcp-session-id", "last-event-id"];

/// Builds the transport for one session. Nothing is sent until `rmcp` sends `initialize`.
pub(crate) fn transport(
    server: &str,
    url: &str,
    http: RecordingClient,
    credentials: &Credentials,
    oauth_token: Option<String>,
) -> Result<HttpTransport, McpError> {
    let config_error = |message: String| McpError::Config {
        server: server.to_owned(),
        message,
    };
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| config_error(format!("the URL of the MCP server is not valid: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(config_error(format!(
            "the URL of the MCP server must be http or https, not {}",
            parsed.scheme()
        )));
    }
    let mut headers = HashMap::<HeaderName, HeaderValue>::new();
    for (name, value) in credentials.static_headers() {
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(config_error(format!(
                "header {name} is set by the MCP transport itself and cannot be configured"
            )));
        }
        headers.insert(name.clone(), value.clone());
    }
    // A configured Authorization header wins over the OAuth2 token (configured headers
    // override the auth ones), and two Authorization headers would be sent otherwise.
    let oauth_token = oauth_token.filter(|_| !headers.contains_key(&http::header::AUTHORIZATION));

    // Reconnect a broken SSE stream a few times, quickly: long enough for a server restart
    // behind a proxy, short enough that a request whose answer was on that stream fails well
    // within its call timeout (then the client opens a new session).
    let mut retry = ExponentialBackoff::default();
    retry.max_times = Some(4);
    retry.base_duration = Duration::from_millis(250);
    retry.max_delay = Some(Duration::from_secs(4));

    let mut config = StreamableHttpClientTransportConfig::with_uri(url)
        .custom_headers(headers)
        .reinit_on_expired_session(true);
    config.retry_config = Arc::new(retry);
    if let Some(token) = oauth_token {
        config = config.auth_header(token);
    }
    Ok(StreamableHttpClientTransport::with_client(http, config))
}

/// What an `rmcp` streamable HTTP error means for the request.
pub(crate) fn classify(error: &StreamableHttpError<reqwest::Error>) -> TransportFailure {
    match error {
        StreamableHttpError::AuthRequired(_) => {
            TransportFailure::Unauthorized("HTTP 401 Unauthorized".to_owned())
        }
        StreamableHttpError::InsufficientScope(e) => TransportFailure::Unauthorized(format!(
            "HTTP 403 Forbidden (insufficient scope{})",
            e.required_scope
                .as_deref()
                .map(|s| format!(", {s} required"))
                .unwrap_or_default()
        )),
        // A 401/403 without a WWW-Authenticate challenge arrives as "HTTP 401 …: <body>".
        StreamableHttpError::UnexpectedServerResponse(message)
            if message.starts_with("HTTP 401") || message.starts_with("HTTP 403") =>
        {
            TransportFailure::Unauthorized(truncate(message, 300))
        }
        StreamableHttpError::Client(e) => classify_reqwest(e),
        other => TransportFailure::Lost(super::chain(other)),
    }
}

/// What a failed HTTP exchange means for the request.
pub(crate) fn classify_reqwest(error: &reqwest::Error) -> TransportFailure {
    if let Some(status) = error.status()
        && (status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN)
    {
        return TransportFailure::Unauthorized(format!("HTTP {status}"));
    }
    if error.is_connect() {
        // The TCP (or TLS) connection was never established: the server saw nothing.
        return TransportFailure::NotDelivered(describe(error));
    }
    TransportFailure::Lost(describe(error))
}

/// A `reqwest` error without its URL (which may carry a secret in its query) but with the
/// cause, which is what says what went wrong ("Connection refused").
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the response body broke off"
    } else {
        "the HTTP request failed"
    };
    match error.source() {
        Some(source) => format!("{kind}: {}", super::chain(source)),
        None => kind.to_owned(),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Auth, TlsConfig};
    use std::collections::BTreeMap;

    fn credentials(extra: &[(&str, &str)]) -> Credentials {
        let http = match crate::tls::http_client("s", &TlsConfig::default()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let extra: BTreeMap<String, String> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        match Credentials::new("s", &Auth::None, &extra, http) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn build(url: &str, extra: &[(&str, &str)]) -> Result<HttpTransport, McpError> {
        let http = match crate::tls::http_client("s", &TlsConfig::default()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let parts = crate::transport::post::parts(Arc::from("s"), http, true);
        transport("s", url, parts.client, &credentials(extra), None)
    }

    #[tokio::test]
    async fn bad_urls_and_reserved_headers_are_config_errors() {
        assert!(matches!(
            build("not a url", &[]),
            Err(McpError::Config { .. })
        ));
        assert!(matches!(
            build("ftp://host/mcp", &[]),
            Err(McpError::Config { .. })
        ));
        assert!(matches!(
            build("http://127.0.0.1:1/mcp", &[("Mcp-Session-Id", "x")]),
            Err(McpError::Config { .. })
        ));
        assert!(build("http://127.0.0.1:1/mcp", &[("X-Custom", "x")]).is_ok());
    }

    #[test]
    fn unchallenged_401_and_403_are_auth_failures() {
        let e = StreamableHttpError::<reqwest::Error>::UnexpectedServerResponse(
            "HTTP 401 Unauthorized: nope".into(),
        );
        assert!(matches!(classify(&e), TransportFailure::Unauthorized(m) if m.contains("401")));
        let e = StreamableHttpError::<reqwest::Error>::UnexpectedServerResponse(
            "HTTP 500 Internal Server Error: x".into(),
        );
        assert!(matches!(classify(&e), TransportFailure::Lost(_)));
        assert!(matches!(
            classify(&StreamableHttpError::<reqwest::Error>::SessionExpired),
            TransportFailure::Lost(_)
        ));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hi", 5), "hi");
    }
}
