//! How to reach one MCP server: transport, credentials, TLS, timeouts.
//!
//! A plain data description, built by the gateway from `mcp_servers` in `config.yaml` or by a
//! library user directly; [`crate::McpClient::connect`] turns it into a live session.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use crate::auth::Auth;
use crate::local::LocalServer;

/// LiteLLM's default per-call timeout (`LITELLM_MCP_CLIENT_TIMEOUT`).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything needed to open and keep a session with one server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// A short name for logs and errors (the `mcp_servers` key in the gateway).
    pub name: String,
    pub transport: TransportConfig,
    pub auth: Auth,
    /// Sent with every HTTP request, after the auth headers (so they can override them).
    pub headers: BTreeMap<String, String>,
    pub tls: TlsConfig,
    /// Bound on each request (`tools/call`, `tools/list`, …), including the time to reconnect.
    pub call_timeout: Duration,
    /// Bound on connecting and the `initialize` handshake.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// A config with defaults for everything but the transport.
    pub fn new(name: impl Into<String>, transport: TransportConfig) -> Self {
        ClientConfig {
            name: name.into(),
            transport,
            auth: Auth::None,
            headers: BTreeMap::new(),
            tls: TlsConfig::default(),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            connect_timeout: Duration::from_secs(30),
        }
    }

    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }
}

/// The wire a session runs over.
#[derive(Debug, Clone)]
pub enum TransportConfig {
    /// Streamable HTTP (revisions 2025-03-26 and later, including stateless 2026-07-28).
    StreamableHttp { url: String },
    /// The deprecated HTTP+SSE transport of 2024-11-05: a GET event stream whose `endpoint`
    /// event names the URL to POST messages to.
    Sse { url: String },
    /// A child process speaking JSON-RPC lines on stdin/stdout. Its stderr goes to the logs,
    /// and it is killed when the client goes away.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    /// A server inside this process (an OpenAPI spec served as MCP), over an in-memory pipe.
    /// It receives the session's credentials and headers.
    Local(Arc<dyn LocalServer>),
}

impl TransportConfig {
    /// What the transport points at, for logs (never credentials: URLs are shown without
    /// their query string).
    pub fn target(&self) -> String {
        match self {
            TransportConfig::StreamableHttp { url } | TransportConfig::Sse { url } => {
                url.split('?').next().unwrap_or(url).to_owned()
            }
            TransportConfig::Stdio { command, args, .. } => std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            TransportConfig::Local(server) => server.target(),
        }
    }
}

/// Certificate checking for HTTPS servers.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// A PEM file of extra root certificates, trusted in addition to the system roots.
    pub ca_bundle: Option<PathBuf>,
    /// Accept any certificate. Logged as a warning whenever a client is built with it.
    pub insecure_skip_verify: bool,
}
